// Package localstream gives dynalite, which has no DynamoDB Streams, the
// stream the notify function runs on in AWS.
//
// A Stream is an HTTP reverse proxy bound to 127.0.0.1 in front of
// dynalite. Clients (the intake functions, tests) point
// AWS_ENDPOINT_URL_DYNAMODB at it; it forwards every request unchanged and,
// for each successful PutItem on the watched table, records a stream record
// as DynamoDB Streams would: INSERT when no item existed before, MODIFY
// otherwise. It then delivers the records the way Lambda's event source
// mapping does: filtered by the template's FilterCriteria, in order, in
// batches, with per-record failures (ReportBatchItemFailures), bisection on
// function errors, a bounded number of retries and a dead-letter list.
//
// To tell INSERT from MODIFY, the proxy asks dynalite for the old item
// ("ReturnValues":"ALL_OLD") when the client did not, and removes it from
// the answer again. The SDK signs the request body, but dynalite checks
// only that a signature is present, not that it is valid, so the rewritten
// request is accepted; the answer's x-amz-crc32 checksum, which the SDK
// verifies, is recomputed.
//
// dynalite has no transactions either: the proxy answers
// TransactWriteItems itself (transact.go).
//
// Only PutItem (also inside a transaction) is recorded. UpdateItem (the
// notify function's marks, the staff's changes), DeleteItem and
// BatchWriteItem produce no records: the deployed filter passes INSERTs
// only, so the function would never see their records anyway, and the
// table's TTL deletions do not happen in dynalite. A different filter that wants MODIFY records from UpdateItem
// would need this package to record them too.
package localstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/clinicleads/leadpipe/internal/dynamo"
)

// Deliver hands a batch to the function, like Lambda invoking it: a nil
// error with BatchItemFailures fails those records (and, by sequence
// number, everything after the first of them); an error fails the batch.
type Deliver func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Defaults for the Config fields left zero.
const (
	DefaultWindow        = 100 * time.Millisecond
	DefaultBackoff       = 50 * time.Millisecond
	DefaultMaxBackoff    = time.Second
	DefaultInvokeTimeout = 60 * time.Second
	DefaultDrainTimeout  = 10 * time.Second
	DefaultRegion        = "us-east-1"
)

// maxRequestBytes bounds a PutItem body the proxy reads: DynamoDB's own
// request limit is 16 MB, an item at most 400 KB.
const maxRequestBytes = 16 << 20

// Config configures a Stream. Target, Table, Keys, Event and Deliver are
// required; ConfigFromTemplate fills Table, Keys, ViewType and Event.
type Config struct {
	// Target is dynalite's base URL, such as http://127.0.0.1:8000.
	Target string
	// Port is the proxy's port on 127.0.0.1; 0 picks a free one.
	Port int
	// Table is the table whose writes are recorded.
	Table string
	// Keys are the table's key attribute names (hash, then range).
	Keys []string
	// ViewType is the table's StreamViewType; empty means NEW_IMAGE.
	ViewType string
	// Event is the function's stream event source: filter, batch size,
	// retries, bisection, per-record failures, maximum record age.
	Event samtemplate.StreamEvent
	// Deliver receives the batches.
	Deliver Deliver

	// Window is how long the first record of a batch waits for more
	// records (Lambda's MaximumBatchingWindowInSeconds, kept short here).
	Window time.Duration
	// Backoff is the delay before the first retry; it doubles on each
	// further retry up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// InvokeTimeout is the deadline of each Deliver call (the function's
	// Timeout).
	InvokeTimeout time.Duration
	// DrainTimeout bounds how long Close keeps delivering.
	DrainTimeout time.Duration
	// Region goes into the records and the stream ARN; default us-east-1.
	Region string
	// Log receives the stream's log lines; nil means slog.Default(). Lines
	// name records by sequence number and lead id only.
	Log *slog.Logger
}

// ConfigFromTemplate returns a Config for table, created from the table
// resource tableID, delivering as function functionID's DynamoDB event is
// configured in the template. The caller adds Target, Deliver and Port.
func ConfigFromTemplate(t *samtemplate.Template, tableID, functionID, table string) (Config, error) {
	in, err := t.CreateTableInput(tableID, table)
	if err != nil {
		return Config{}, err
	}
	ev, err := t.StreamEvent(functionID)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Table: table, Event: ev}
	for _, k := range in.KeySchema {
		cfg.Keys = append(cfg.Keys, *k.AttributeName)
	}
	if in.StreamSpecification == nil {
		return Config{}, fmt.Errorf("table %s has no StreamSpecification, so function %s would get no records", tableID, functionID)
	}
	cfg.ViewType = string(in.StreamSpecification.StreamViewType)
	return cfg, nil
}

// Stream is a running proxy and its delivery loop.
type Stream struct {
	cfg       Config
	log       *slog.Logger
	arn       string
	target    *url.URL
	transport *http.Transport
	server    *http.Server
	listener  net.Listener
	served    chan struct{} // closed when Serve has returned

	ctx    context.Context // cancelled to stop the delivery loop at once
	cancel context.CancelFunc
	wake   chan struct{} // a record was queued, or Close began
	done   chan struct{} // closed when the delivery loop has returned

	mu          sync.Mutex
	seq         uint64
	queue       []entry // recorded, filtered, not yet done; head is next
	delivering  bool
	closing     bool
	fails       int // failed attempts of the batch at the head of queue
	limit       int // size of the next batch while bisecting; 0: Event.BatchSize
	zone        int // records at the head that belong to a bisected batch
	deadLetters []events.DynamoDBEventRecord

	closeOnce sync.Once
	closeErr  error

	txMu   sync.Mutex          // one transaction at a time (transact.go)
	txKeys map[string][]string // key attributes by table; guarded by txMu
}

type entry struct {
	rec events.DynamoDBEventRecord
	at  time.Time
}

// Start starts the proxy on 127.0.0.1 and the delivery loop.
func Start(cfg Config) (*Stream, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	target, err := url.Parse(cfg.Target)
	if err != nil || target.Scheme == "" || target.Host == "" {
		return nil, fmt.Errorf("localstream: target %q is not a URL such as http://127.0.0.1:8000", cfg.Target)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("localstream: listen on 127.0.0.1:%d: %w", cfg.Port, err)
	}
	s := &Stream{
		cfg:       cfg,
		log:       cfg.Log,
		target:    target,
		transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second},
		listener:  l,
		served:    make(chan struct{}),
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		arn: fmt.Sprintf("arn:aws:dynamodb:%s:000000000000:table/%s/stream/%s",
			cfg.Region, cfg.Table, time.Now().UTC().Format("2006-01-02T15:04:05.000")),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(s.target)
			pr.Out.Host = pr.In.Host // forwarded unchanged, Host included
		},
		Transport:      s.transport,
		ModifyResponse: s.modifyResponse,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.log.Warn("stream proxy: DynamoDB request failed", "error", err.Error())
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	s.server = &http.Server{
		Handler:           s.handler(proxy),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go func() {
		defer close(s.served)
		s.server.Serve(l) // ErrServerClosed after Close; nothing else to report
	}()
	go s.run()
	return s, nil
}

func (c *Config) defaults() error {
	switch {
	case c.Table == "":
		return errors.New("localstream: no table")
	case len(c.Keys) == 0:
		return errors.New("localstream: no key attributes")
	case c.Deliver == nil:
		return errors.New("localstream: no Deliver")
	}
	if c.ViewType == "" {
		c.ViewType = string(events.DynamoDBStreamViewTypeNewImage)
	}
	switch events.DynamoDBStreamViewType(c.ViewType) {
	case events.DynamoDBStreamViewTypeNewImage, events.DynamoDBStreamViewTypeOldImage,
		events.DynamoDBStreamViewTypeNewAndOldImages, events.DynamoDBStreamViewTypeKeysOnly:
	default:
		return fmt.Errorf("localstream: unknown StreamViewType %q", c.ViewType)
	}
	// An unsupported pattern must stop the start, not every record later.
	if _, err := c.Event.Match([]byte(`{}`)); err != nil {
		return fmt.Errorf("localstream: filter of event %s: %w", c.Event.Name, err)
	}
	if c.Event.BatchSize <= 0 {
		c.Event.BatchSize = 100
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&c.Window, DefaultWindow}, {&c.Backoff, DefaultBackoff}, {&c.MaxBackoff, DefaultMaxBackoff},
		{&c.InvokeTimeout, DefaultInvokeTimeout}, {&c.DrainTimeout, DefaultDrainTimeout}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return nil
}

// Endpoint is the proxy's base URL, for AWS_ENDPOINT_URL_DYNAMODB.
func (s *Stream) Endpoint() string { return "http://" + s.listener.Addr().String() }

// Port is the proxy's port on 127.0.0.1.
func (s *Stream) Port() int { return s.listener.Addr().(*net.TCPAddr).Port }

// StreamARN is the fake ARN the records carry as eventSourceARN.
func (s *Stream) StreamARN() string { return s.arn }

// putKey marks a proxied request as a PutItem on the watched table.
type putKey struct{}

type put struct {
	item      json.RawMessage
	stripOld  bool // the client did not ask for the old item
	requested time.Time
}

// handler reads PutItem requests on the watched table before proxying them,
// to note the item and ask for the old one.
func (s *Stream) handler(proxy http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == transactTarget && r.Header.Get("Content-Encoding") == "" {
			s.transact(w, r) // dynalite has none
			return
		}
		if r.Header.Get("X-Amz-Target") != "DynamoDB_20120810.PutItem" || r.Header.Get("Content-Encoding") != "" {
			proxy.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
		r.Body.Close()
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if len(body) > maxRequestBytes {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		if p, rewritten := s.preparePut(body); p != nil {
			body = rewritten
			// A client that gives up (its call timeout) must not cancel the
			// put on its way to dynalite: the write may commit anyway, and
			// DynamoDB Streams records every committed write, so the proxy
			// must read the answer and record it even if nobody waits.
			r = r.WithContext(context.WithValue(context.WithoutCancel(r.Context()), putKey{}, p))
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		// Hide http.CloseNotifier too: ReverseProxy would otherwise cancel
		// the put when the client hangs up.
		proxy.ServeHTTP(struct{ http.ResponseWriter }{w}, r)
	})
}

// preparePut returns the put to record and the body to send, or nil when
// the request is not one to record (another table, a body dynalite will
// reject anyway).
func (s *Stream) preparePut(body []byte) (*put, []byte) {
	var req map[string]json.RawMessage
	if json.Unmarshal(body, &req) != nil {
		return nil, body
	}
	var table, rv string
	if json.Unmarshal(req["TableName"], &table) != nil || table != s.cfg.Table || len(req["Item"]) == 0 {
		return nil, body
	}
	if v, ok := req["ReturnValues"]; ok && json.Unmarshal(v, &rv) != nil {
		return nil, body
	}
	p := &put{item: req["Item"], requested: time.Now()}
	switch rv {
	case "ALL_OLD":
		return p, body
	case "", "NONE":
		req["ReturnValues"] = json.RawMessage(`"ALL_OLD"`)
		rewritten, err := json.Marshal(req)
		if err != nil {
			return nil, body
		}
		p.stripOld = true
		return p, rewritten
	}
	return nil, body // an invalid ReturnValues: dynalite answers the error
}

// modifyResponse records a successful put and, when the proxy asked for the
// old item on the client's behalf, takes it out of the answer.
func (s *Stream) modifyResponse(resp *http.Response) error {
	p, _ := resp.Request.Context().Value(putKey{}).(*put)
	if p == nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "" {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("read PutItem answer: %w", err)
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("PutItem answer is not JSON: %w", err)
	}
	old := out["Attributes"]
	if p.stripOld {
		delete(out, "Attributes")
		if body, err = json.Marshal(out); err != nil {
			return fmt.Errorf("PutItem answer: %w", err)
		}
		resp.Header.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	s.record(p, old)
	return nil
}

// record turns a stored put into a stream record and queues it if the
// filter passes it. It runs before the client gets its answer, so a client
// that has seen its put succeed can Wait for the record's delivery.
func (s *Stream) record(p *put, old json.RawMessage) {
	var newImage, oldImage map[string]events.DynamoDBAttributeValue
	if err := json.Unmarshal(p.item, &newImage); err != nil {
		// The json error names a type or an offset, not a value.
		s.log.Error("stream: stored item cannot be read; no record written", "error", err.Error())
		return
	}
	if len(old) > 0 && !bytes.Equal(bytes.TrimSpace(old), []byte("null")) {
		if err := json.Unmarshal(old, &oldImage); err != nil {
			s.log.Error("stream: old item cannot be read; no record written", "error", err.Error())
			return
		}
	}
	keys := make(map[string]events.DynamoDBAttributeValue, len(s.cfg.Keys))
	for _, k := range s.cfg.Keys {
		if v, ok := newImage[k]; ok {
			keys[k] = v
		}
	}
	name := events.DynamoDBOperationTypeInsert
	if len(oldImage) > 0 {
		name = events.DynamoDBOperationTypeModify
	}
	change := events.DynamoDBStreamRecord{
		ApproximateCreationDateTime: events.SecondsEpochTime{Time: p.requested.Truncate(time.Second)},
		Keys:                        keys,
		StreamViewType:              s.cfg.ViewType,
	}
	switch events.DynamoDBStreamViewType(s.cfg.ViewType) {
	case events.DynamoDBStreamViewTypeNewImage:
		change.NewImage = newImage
	case events.DynamoDBStreamViewTypeOldImage:
		change.OldImage = oldImage
	case events.DynamoDBStreamViewTypeNewAndOldImages:
		change.NewImage, change.OldImage = newImage, oldImage
	}
	change.SizeBytes = int64(len(p.item) + len(old))

	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	change.SequenceNumber = fmt.Sprintf("%021d", s.seq)
	rec := events.DynamoDBEventRecord{
		AWSRegion:      s.cfg.Region,
		Change:         change,
		EventID:        fmt.Sprintf("%032x", s.seq),
		EventName:      string(name),
		EventSource:    "aws:dynamodb",
		EventVersion:   "1.1",
		EventSourceArn: s.arn,
	}
	recJSON, err := json.Marshal(rec)
	if err != nil {
		s.log.Error("stream: record cannot be encoded; not delivered", "seq", change.SequenceNumber, "error", err.Error())
		return
	}
	match, err := s.cfg.Event.Match(recJSON)
	if err != nil {
		// Start checked the patterns, so this is unexpected: deliver rather
		// than lose a lead, and say so.
		s.log.Error("stream: filter failed; delivering the record unfiltered", "seq", change.SequenceNumber, "error", err.Error())
		match = true
	}
	if !match {
		return
	}
	s.queue = append(s.queue, entry{rec: rec, at: time.Now()})
	s.signal()
}

func (s *Stream) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Idle reports whether every record so far has been delivered or
// dead-lettered.
func (s *Stream) Idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) == 0 && !s.delivering
}

// Wait blocks until Idle or until ctx ends.
func (s *Stream) Wait(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !s.Idle() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for stream delivery: %w", ctx.Err())
		case <-s.done:
			if !s.Idle() {
				return errors.New("wait for stream delivery: stream closed with records left")
			}
			return nil
		case <-t.C:
		}
	}
	return nil
}

// DeadLetters returns the records given up on, oldest first.
func (s *Stream) DeadLetters() []events.DynamoDBEventRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]events.DynamoDBEventRecord(nil), s.deadLetters...)
}

// Close stops accepting requests, keeps delivering until every record is
// done or DrainTimeout has passed, then stops. Records still queued then
// are logged (sequence numbers and lead ids) and dropped. Close is
// idempotent.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
		defer cancel()
		if err := s.server.Shutdown(ctx); err != nil {
			s.server.Close()
			s.closeErr = fmt.Errorf("localstream: stop proxy: %w", err)
		}
		<-s.served
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.signal()
		select {
		case <-s.done:
		case <-ctx.Done():
		}
		s.cancel()
		<-s.done
		s.mu.Lock()
		left := s.queue
		s.queue = nil
		s.mu.Unlock()
		if len(left) > 0 {
			recs := make([]events.DynamoDBEventRecord, len(left))
			for i, e := range left {
				recs[i] = e.rec
			}
			seqs, ids := describe(recs)
			s.log.Error("stream: closed with records not delivered", "records", len(recs), "sequenceNumbers", seqs, "leadIds", ids)
			if s.closeErr == nil {
				s.closeErr = fmt.Errorf("localstream: closed with %d records not delivered", len(recs))
			}
		}
		s.transport.CloseIdleConnections()
	})
	return s.closeErr
}

// describe names records without their content: sequence numbers and the
// lead ids of lead items.
func describe(recs []events.DynamoDBEventRecord) (seqs, ids []string) {
	for _, r := range recs {
		seqs = append(seqs, r.Change.SequenceNumber)
		img := r.Change.NewImage
		if img == nil {
			img = r.Change.OldImage
		}
		if v, ok := img["id"]; ok && dynamo.IsLeadImage(img) && v.DataType() == events.DataTypeString {
			ids = append(ids, v.String())
		}
	}
	return seqs, ids
}
