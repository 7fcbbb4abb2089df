package intake

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/clinicleads/leadpipe/internal/awsconf"
	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dynamo"
)

// faultyTransport sits between the SDK and a real dynalite and breaks
// calls on demand, the way DynamoDB and networks break.
type faultyTransport struct {
	mu    sync.Mutex
	fault string // "", "throttle", "5xx", "reset", "hang"
	only  string // break only calls whose X-Amz-Target ends with this ("" = all)
	skip  int    // let this many matching calls through first
}

func (ft *faultyTransport) set(fault, only string, skip int) {
	ft.mu.Lock()
	ft.fault, ft.only, ft.skip = fault, only, skip
	ft.mu.Unlock()
}

func (ft *faultyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ft.mu.Lock()
	fault := ft.fault
	if ft.only != "" && !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ft.only) {
		fault = ""
	}
	if fault != "" && ft.skip > 0 {
		ft.skip--
		fault = ""
	}
	ft.mu.Unlock()
	if fault == "" {
		return http.DefaultTransport.RoundTrip(r)
	}
	answer := func(status int, typ string) (*http.Response, error) {
		return &http.Response{StatusCode: status, Request: r, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
			Body: io.NopCloser(strings.NewReader(`{"__type":"com.amazonaws.dynamodb.v20120810#` + typ + `","message":"injected"}`))}, nil
	}
	switch fault {
	case "throttle":
		return answer(400, "ThrottlingException")
	case "5xx":
		return answer(500, "InternalServerError")
	case "reset":
		return nil, errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer")
	case "hang":
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	panic("unknown fault " + fault)
}

// faultyFixture is newFixture with the production retry policy and a
// breakable transport in front of dynalite.
func faultyFixture(t *testing.T) (*fixture, *faultyTransport) {
	t.Helper()
	f := newFixture(t, "")
	ft := &faultyTransport{}
	cfg := awstest.Config()
	cfg.HTTPClient = &http.Client{Transport: ft}
	cfg.Retryer = awsconf.NewRetryer
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(f.tbl.Emulator.Endpoint) })
	f.contact.Service.Store = dynamo.New(db, f.tbl.Name)
	return f, ft
}

func TestDynamoFaultsAnswer503ThenRecoverWithOneLead(t *testing.T) {
	for _, tt := range []struct {
		name, fault, only string
		skip              int
	}{
		{"throttling", "throttle", "", 0},
		{"server errors", "5xx", "", 0},
		{"connection resets", "reset", "", 0},
		{"hanging", "hang", "", 0},
		// The claim lands, then every attempt at the lead write fails: the
		// retry must finish that same lead, not start a second one.
		{"lead write fails after the claim", "throttle", "PutItem", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, ft := faultyFixture(t)
			req := loadEvent(t, "contact-json.json")
			ft.set(tt.fault, tt.only, tt.skip)
			start := time.Now()
			resp := f.do(t, req)
			took := time.Since(start)
			if b := parse(t, resp); resp.StatusCode != 503 || b.Error != "unavailable" || resp.Headers["Retry-After"] == "" {
				t.Fatalf("during fault: got %d %s, want 503 with Retry-After", resp.StatusCode, resp.Body)
			}
			if took > 3*dynamo.DefaultCallTimeout {
				t.Errorf("answered after %v, want inside the store's budget", took)
			}
			ft.set("", "", 0)
			resp = f.do(t, req) // the website's retry, same Idempotency-Key
			if resp.StatusCode != 201 {
				t.Fatalf("after recovery: got %d %s, want 201", resp.StatusCode, resp.Body)
			}
			if n := f.tbl.Count(t, f.tbl.Name, "lead"); n != 1 {
				t.Fatalf("leads after retry = %d, want exactly 1", n)
			}
		})
	}
}

// TestDynamoProcessKilled stops the real emulator process, as an outage
// would, then brings a new one up on the same port.
func TestDynamoProcessKilled(t *testing.T) {
	f := newFixture(t, "")
	port := f.tbl.Emulator.Endpoint[strings.LastIndexByte(f.tbl.Emulator.Endpoint, ':')+1:]
	f.tbl.Emulator.Kill()
	req := loadEvent(t, "contact-json.json")
	resp := f.do(t, req)
	if resp.StatusCode != 503 || resp.Headers["Retry-After"] == "" {
		t.Fatalf("emulator down: got %d %s, want 503 with Retry-After", resp.StatusCode, resp.Body)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	emu, err := localaws.StartDynamo(context.Background(), localaws.Options{Port: p})
	awstest.Check(t, err)
	t.Cleanup(func() { emu.Stop() })
	f.tbl.Emulator = emu
	f.tbl.Client = awstest.DynamoClient(t, emu.Endpoint)
	if name := f.tbl.Create(t); name == "" {
		t.Fatal("no table")
	} else {
		f.contact.Service.Store = dynamo.New(f.tbl.Client, name)
		f.tbl.Name = name
	}
	if resp := f.do(t, req); resp.StatusCode != 201 {
		t.Fatalf("after restart: got %d %s, want 201", resp.StatusCode, resp.Body)
	}
	if n := f.tbl.Count(t, f.tbl.Name, "lead"); n != 1 {
		t.Fatalf("leads = %d, want 1", n)
	}
}
