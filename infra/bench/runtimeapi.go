package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// runtimeAPI is a minimal Lambda Runtime API (2018-06-01) on loopback, one
// per function process: it hands out queued invocations on
// GET /invocation/next and records the function's answers. The runtime
// interface emulator is not used because it starts the process lazily, so
// its Init Duration does not include process start.
type runtimeAPI struct {
	ln   net.Listener
	srv  *http.Server
	next chan *invocation

	mu        sync.Mutex
	pending   map[string]*invocation
	firstNext time.Time // when the process first asked for work: init done
	initErr   string
	initDone  chan struct{} // closed by POST /init/error
	seq       int

	// onReady, when set, runs once at the first GET /invocation/next,
	// before any event is handed over: the end of init, where Lambda
	// starts holding the function to its CPU share. Its error fails the
	// run.
	onReady  func() error
	readyErr error
}

type invocation struct {
	id       string
	event    []byte
	deadline time.Time
	sent     time.Time // when the event was handed over (Lambda starts billing)
	done     chan result
}

type result struct {
	at      time.Time // when the response arrived
	body    []byte
	isError bool
}

const runtimePrefix = "/2018-06-01/runtime/"

func newRuntimeAPI() (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rt := &runtimeAPI{ln: ln, next: make(chan *invocation, 1), pending: map[string]*invocation{}, initDone: make(chan struct{})}
	rt.srv = &http.Server{Handler: rt, ReadHeaderTimeout: 10 * time.Second}
	go rt.srv.Serve(ln)
	return rt, nil
}

// addr is the value for AWS_LAMBDA_RUNTIME_API.
func (rt *runtimeAPI) addr() string { return rt.ln.Addr().String() }

func (rt *runtimeAPI) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if rt.srv.Shutdown(ctx) != nil {
		rt.srv.Close()
	}
}

func (rt *runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, runtimePrefix)
	switch {
	case !ok:
		http.NotFound(w, r)
	case r.Method == http.MethodGet && path == "invocation/next":
		rt.serveNext(w, r)
	case r.Method == http.MethodPost && path == "init/error":
		b, _ := io.ReadAll(r.Body)
		rt.mu.Lock()
		if rt.initErr == "" {
			rt.initErr = string(b)
			close(rt.initDone)
		}
		rt.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		rest := strings.TrimPrefix(path, "invocation/")
		id, kind, _ := strings.Cut(rest, "/")
		if kind != "response" && kind != "error" {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		at := time.Now()
		rt.mu.Lock()
		inv := rt.pending[id]
		delete(rt.pending, id)
		rt.mu.Unlock()
		if inv == nil {
			http.Error(w, "unknown request id", http.StatusBadRequest)
			return
		}
		inv.done <- result{at: at, body: b, isError: kind == "error"}
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

func (rt *runtimeAPI) serveNext(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	rt.mu.Lock()
	first := rt.firstNext.IsZero()
	if first {
		rt.firstNext = now
	}
	rt.mu.Unlock()
	if first && rt.onReady != nil {
		err := rt.onReady()
		rt.mu.Lock()
		rt.readyErr = err
		rt.mu.Unlock()
	}
	var inv *invocation
	select {
	case inv = <-rt.next:
	case <-r.Context().Done():
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
	inv.sent = time.Now()
	w.Write(inv.event)
}

// errExited reports that the function process ended before answering.
var errExited = errors.New("function process exited")

// invoke queues event and waits for the function's answer. exited is closed
// when the process ends. The returned invocation's sent time and the
// result's arrival time bracket the invocation as Lambda bills it.
func (rt *runtimeAPI) invoke(event []byte, timeout time.Duration, exited <-chan struct{}) (*invocation, result, error) {
	rt.mu.Lock()
	rt.seq++
	inv := &invocation{
		id:       fmt.Sprintf("bench-%08d", rt.seq),
		event:    event,
		deadline: time.Now().Add(timeout),
		done:     make(chan result, 1),
	}
	rt.pending[inv.id] = inv
	rt.mu.Unlock()
	rt.next <- inv
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case res := <-inv.done:
		return inv, res, nil
	case <-rt.initDone:
		return inv, result{}, fmt.Errorf("init error: %s", rt.initErr)
	case <-exited:
		return inv, result{}, errExited
	case <-timer.C:
		return inv, result{}, fmt.Errorf("no answer within %s", timeout)
	}
}

// readyError is onReady's error.
func (rt *runtimeAPI) readyError() error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.readyErr
}

// ready returns when the process first asked for work (zero if it has not).
func (rt *runtimeAPI) ready() time.Time {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.firstNext
}
