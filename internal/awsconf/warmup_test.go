package awsconf

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/awsconf/awsconftest"
)

// tlsEndpoint is a loopback TLS server that answers like DynamoDB and
// records the connections it accepted and the requests it got.
type tlsEndpoint struct {
	srv *httptest.Server

	mu       sync.Mutex
	conns    int
	requests []string // "GET /", "POST / DynamoDB_20120810.PutItem"
}

func newTLSEndpoint(t *testing.T) *tlsEndpoint {
	t.Helper()
	e := &tlsEndpoint{}
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		e.mu.Lock()
		e.requests = append(e.requests, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Amz-Target")))
		e.mu.Unlock()
		if r.Method == http.MethodGet && r.URL.Path == "/" {
			io.WriteString(w, "healthy: dynamodb.us-east-1.amazonaws.com ")
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		io.WriteString(w, `{}`)
	}))
	e.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			e.mu.Lock()
			e.conns++
			e.mu.Unlock()
		}
	}
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	return e
}

func (e *tlsEndpoint) seen() (int, []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.conns, append([]string(nil), e.requests...)
}

// trusting returns HTTPClient() with the endpoint's certificate trusted,
// and nothing else about it changed.
func trusting(t *testing.T, e *tlsEndpoint) *http.Client {
	t.Helper()
	c := HTTPClient()
	kb, ok := c.Transport.(keepBodyReads)
	if !ok {
		t.Fatalf("HTTPClient's transport is %T, not keepBodyReads", c.Transport)
	}
	kb.next.TLSClientConfig = &tls.Config{RootCAs: e.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	return c
}

// logLines returns a logger at debug level and the lines it wrote.
func logLines() (*slog.Logger, func(level string) []string) {
	var mu sync.Mutex
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	return log, func(level string) []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if strings.Contains(l, `"level":"`+level+`"`) {
				out = append(out, l)
			}
		}
		return out
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func dynamoClient(e *tlsEndpoint, hc aws.HTTPClient) *dynamodb.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		HTTPClient: hc, Retryer: NewRetryer}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(e.srv.URL) })
}

func putItem(t *testing.T, db *dynamodb.Client) {
	t.Helper()
	_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String("t"), Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "x"}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWarmUpConnectionIsTheFirstCallsConnection: the warm-up goes through
// the SDK's own HTTP client, so the first real call after it opens no new
// connection (no TCP or TLS handshake); and the warm-up sends only GET /.
func TestWarmUpConnectionIsTheFirstCallsConnection(t *testing.T) {
	e := newTLSEndpoint(t)
	hc := trusting(t, e)
	db := dynamoClient(e, hc)
	log, lines := logLines()

	WarmUp(hc, log, DynamoDBWarmUp(db, "t"))
	conns, reqs := e.seen()
	if conns != 1 || strings.Join(reqs, ",") != "GET /" {
		t.Fatalf("after the warm-up: %d connections, requests %q; want 1 connection and only GET /", conns, reqs)
	}
	if w := lines("WARN"); len(w) > 0 {
		t.Errorf("a warm-up that worked logged %q", w)
	}

	putItem(t, db)
	conns, reqs = e.seen()
	if conns != 1 {
		t.Errorf("the first call after the warm-up opened a connection of its own (%d in all); want the warm-up's reused", conns)
	}
	if len(reqs) != 2 || reqs[1] != "POST / DynamoDB_20120810.PutItem" {
		t.Errorf("requests %q, want GET / then the PutItem", reqs)
	}
}

// TestWarmUpThroughAnotherClientDoesNotHelp is the counter-check of the
// test above: warmed through any client but the SDK's, the first call
// dials again, so counting connections does tell the two apart.
func TestWarmUpThroughAnotherClientDoesNotHelp(t *testing.T) {
	e := newTLSEndpoint(t)
	db := dynamoClient(e, trusting(t, e))
	log, _ := logLines()
	WarmUp(trusting(t, e), log, DynamoDBWarmUp(db, "t"))
	putItem(t, db)
	if conns, _ := e.seen(); conns != 2 {
		t.Errorf("%d connections, want 2: the warm-up's client is not the SDK's", conns)
	}
}

// TestWarmUpNeverFails: with endpoints that never answer or refuse, the
// warm-up returns within its bound and logs one warning; nothing panics.
func TestWarmUpNeverFails(t *testing.T) {
	refused := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
		return "https://" + ln.Addr().String()
	}()
	for name, urls := range map[string][]string{
		"no answer":                {awsconftest.Blackhole(t)},
		"refused":                  {refused},
		"one of two never answers": {awsconftest.Blackhole(t), refused},
	} {
		t.Run(name, func(t *testing.T) {
			hc := HTTPClient()
			var calls []WarmUpCall
			for _, u := range urls {
				cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), HTTPClient: hc, Retryer: NewRetryer}
				db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(u) })
				calls = append(calls, DynamoDBWarmUp(db, "t"))
			}
			log, lines := logLines()
			start := time.Now()
			WarmUp(hc, log, calls...)
			if d := time.Since(start); d > WarmUpTimeout+500*time.Millisecond {
				t.Errorf("WarmUp took %s, want it bounded by %s", d, WarmUpTimeout)
			}
			if w := lines("WARN"); len(w) != 1 {
				t.Errorf("logged %d warnings, want exactly one: %q", len(w), w)
			}
		})
	}
}

// TestWarmUpCallThatStopsEarly: an SDK call that fails before sending
// (here a missing table name) is reported, not hidden.
func TestWarmUpCallThatStopsEarly(t *testing.T) {
	e := newTLSEndpoint(t)
	hc := trusting(t, e)
	db := dynamoClient(e, hc)
	log, lines := logLines()
	WarmUp(hc, log, func(ctx context.Context, via aws.HTTPClient) error {
		_, err := db.GetItem(ctx, &dynamodb.GetItemInput{}, func(o *dynamodb.Options) { o.HTTPClient = via })
		return err
	})
	if w := lines("WARN"); len(w) != 1 || !strings.Contains(w[0], "stopped before its request") {
		t.Errorf("warnings %q, want one saying the call stopped before its request", w)
	}
	if conns, _ := e.seen(); conns != 0 {
		t.Errorf("%d connections, want none", conns)
	}
}
