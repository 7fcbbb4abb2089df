package awsconf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// WarmUpTimeout bounds a function's whole connection warm-up.
const WarmUpTimeout = time.Second

// WarmUpCall is one SDK call made with via as its HTTP client, through the
// per-call option of the client the function will use, for example
//
//	func(ctx context.Context, via aws.HTTPClient) error {
//		_, err := db.GetItem(ctx, in, func(o *dynamodb.Options) { o.HTTPClient = via })
//		return err
//	}
//
// The call itself never leaves the process (see WarmUp).
type WarmUpCall func(ctx context.Context, via aws.HTTPClient) error

// WarmUp moves the first connection to AWS out of a function's first
// invocation and into its init, which Lambda runs before it holds the
// function to the CPU share of its memory size: the TCP and TLS handshakes
// and the loading of the trusted roots are paid there, and the first real
// call finds an open connection in client's pool.
//
// client must be the HTTP client the SDK clients were built with (the
// aws.Config's HTTPClient). Each call is rehearsed: the SDK resolves the
// endpoint, serialises and signs the request as it will for real, and
// hands it to via, which sends a plain GET / to that endpoint's host
// through client instead (AWS endpoints answer it without authentication
// and do no work) and answers the SDK with an error; the signed request is
// never sent. Whatever the endpoint answers to the GET (DynamoDB's is 200
// and a "healthy" line; others answer 4xx), the connection stays open for
// the first real call.
//
// WarmUp never fails: it gives up after WarmUpTimeout, and a failure is
// logged once, at warn, for the function to start anyway; its first call
// then connects as it would have without the warm-up.
func WarmUp(client aws.HTTPClient, log *slog.Logger, calls ...WarmUpCall) {
	ctx, cancel := context.WithTimeout(context.Background(), WarmUpTimeout)
	defer cancel()
	start := time.Now()
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Go(func() { errs[i] = rehearse(ctx, client, call) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		log.Warn("connection warm-up failed; the first request will connect instead",
			"error", strings.ReplaceAll(err.Error(), "\n", "; "), "ms", time.Since(start).Milliseconds())
		return
	}
	log.Debug("connections warmed up", "ms", time.Since(start).Milliseconds())
}

// rehearse makes call through a rehearsal and returns what kept it from
// opening the connection.
func rehearse(ctx context.Context, client aws.HTTPClient, call WarmUpCall) error {
	r := &rehearsal{client: client}
	callErr := call(ctx, r)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case !r.sent:
		// The SDK stopped before sending (endpoint, credentials, input):
		// the first real call would stop there too, and say so then.
		return fmt.Errorf("warm-up call stopped before its request: %w", callErr)
	case r.err != nil:
		return r.err
	}
	return nil
}

// rehearsal is the HTTP client a warm-up call is made with.
type rehearsal struct {
	client aws.HTTPClient

	mu   sync.Mutex
	sent bool
	err  error
}

// warmUpErrorType names the answer a rehearsal gives the SDK: a client
// error that no retryer retries.
const warmUpErrorType = "LeadpipeWarmUpNotSent"

// Do sends GET / to req's scheme and host through the real client, reads
// the answer so the connection goes back to the pool, and answers the SDK
// with an error; req itself is never sent. Only the first request of a
// call goes out.
func (r *rehearsal) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	first := !r.sent
	r.sent = true
	r.mu.Unlock()
	if first {
		err := r.get(req)
		r.mu.Lock()
		r.err = err
		r.mu.Unlock()
	}
	body := `{"__type":"` + warmUpErrorType + `","message":"warm-up: the request was not sent"}`
	return &http.Response{
		Status: "400 Bad Request", StatusCode: http.StatusBadRequest,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"Content-Type":     {"application/json"},
			"X-Amzn-Errortype": {warmUpErrorType},
		},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// maxRootBody is as much of the answer to GET / as is read to put the
// connection back in the pool; an endpoint's is a line or two.
const maxRootBody = 64 << 10

func (r *rehearsal) get(req *http.Request) error {
	root := *req.URL
	root.Path, root.RawPath, root.RawQuery, root.Fragment = "/", "", "", ""
	get, err := http.NewRequestWithContext(req.Context(), http.MethodGet, root.String(), nil)
	if err != nil {
		return fmt.Errorf("warm-up GET %s: %w", root.Host, err)
	}
	resp, err := r.client.Do(get)
	if err != nil {
		return fmt.Errorf("warm-up GET %s: %w", root.Host, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxRootBody))
	resp.Body.Close()
	return nil
}

// DynamoDBWarmUp is the warm-up call for a DynamoDB client: a GetItem on
// table with an empty key, which would be refused without reading
// anything if it were ever sent.
func DynamoDBWarmUp(db *dynamodb.Client, table string) WarmUpCall {
	return func(ctx context.Context, via aws.HTTPClient) error {
		_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{}},
			func(o *dynamodb.Options) { o.HTTPClient = via })
		return err
	}
}
