package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/clinicleads/leadpipe/internal/dev/benchdata"
	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
)

// StaffList is the inbox's list endpoint over many leads in dynalite: the
// staff function's binary, in one process behind the fake Runtime API,
// walks every page of a list by its cursor while a proxy in front of
// dynalite counts its DynamoDB calls.
type StaffList struct {
	Leads       int        `json:"leads"`
	SeedSeconds float64    `json:"seedSeconds"` // BatchWriteItem into dynalite
	Walks       []ListWalk `json:"walks"`
}

// ListWalk is one walk through a list, first page to last.
type ListWalk struct {
	Name     string `json:"name"`
	Query    string `json:"query"` // the list's query string, the cursor left out
	Pages    int    `json:"pages"`
	Rows     int    `json:"rows"`
	Distinct int    `json:"distinctLeads"`
	Complete bool   `json:"complete"` // reached the page without a next cursor
	// CallsPerPage is DynamoDB calls per page, by operation; MaxCalls the
	// most any one page made.
	CallsPerPage map[string]float64 `json:"dynamoCallsPerPage"`
	MaxCalls     int                `json:"maxDynamoCallsOnAPage"`
	// FirstMs is the first page in the fresh process (its first connection
	// to DynamoDB), asked once before the walk and not part of it.
	FirstMs float64 `json:"firstPageInFreshProcessMs"`
	P50Ms   float64 `json:"p50Ms"`
	P90Ms   float64 `json:"p90Ms"`
	MaxMs   float64 `json:"maxMs"`
	// Problems are what the walk got wrong: a lead twice, one out of order
	// (crisis first, then newest first), a page with other than one call.
	Problems []string `json:"problems,omitempty"`
}

// listWalks are the lists walked: the default view (New, 50 a page) and
// the same filtered by form, where the filter applies after the read.
var listWalks = []struct {
	name  string
	query map[string]string
}{
	{"new", map[string]string{"status": "new", "limit": "50"}},
	{"new contacts", map[string]string{"status": "new", "kind": "contact", "limit": "50"}},
}

// maxListPages bounds a walk whatever the lead count.
const maxListPages = 1000

func measureStaffList(env *benchEnv, f *FunctionReport, o options) (*StaffList, error) {
	if f == nil || f.bin == "" || f.Error != "" {
		return nil, fmt.Errorf("the staff function did not build or run")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	emu, err := localaws.StartDynamo(ctx, localaws.Options{})
	if err != nil {
		return nil, err
	}
	defer emu.Stop()
	db := dynamodb.NewFromConfig(awstest.Config(), func(opt *dynamodb.Options) { opt.BaseEndpoint = aws.String(emu.Endpoint) })
	// LEADS_TABLE in the function's environment.
	if err := dynamotest.CreateLeadsTable(ctx, db, env.tmpl, "Leads"); err != nil {
		return nil, err
	}
	leads, err := benchdata.InboxLeads(o.listLeads)
	if err != nil {
		return nil, err
	}
	progress("staff list: seeding %d leads into dynalite", len(leads))
	began := time.Now()
	if err := dynamotest.PutLeads(ctx, db, "Leads", leads); err != nil {
		return nil, err
	}
	sl := &StaffList{Leads: len(leads), SeedSeconds: time.Since(began).Seconds()}

	proxy, err := newCallCounter(emu.Endpoint)
	if err != nil {
		return nil, err
	}
	defer proxy.close()
	procEnv := append(env.processEnv(f.target), "AWS_ENDPOINT_URL_DYNAMODB="+proxy.url) // the last value wins
	for _, l := range listWalks {
		progress("staff list: walking ?%s (at most %s)", queryString(l.query, ""), o.listTime)
		w, err := walkList(env, f, procEnv, proxy, l.query, o.listTime)
		if err != nil {
			return nil, fmt.Errorf("staff list ?%s: %w", queryString(l.query, ""), err)
		}
		w.Name = l.name
		sl.Walks = append(sl.Walks, *w)
	}
	return sl, nil
}

// walkList asks for the first page once (the fresh process's first), then
// walks the list from its first page to its last, or until maxTime.
func walkList(env *benchEnv, f *FunctionReport, procEnv []string, proxy *callCounter, q map[string]string, maxTime time.Duration) (*ListWalk, error) {
	var base map[string]any
	if err := json.Unmarshal(env.events[f.target.Event], &base); err != nil {
		return nil, err
	}
	w := &ListWalk{Query: queryString(q, ""), CallsPerPage: map[string]float64{}}
	var (
		cursor   string
		complete bool
		seen     = map[string]bool{}
		calls    = map[string]int{}
		before   = proxy.snapshot()
		prev     *listRow
	)
	event := func(i int) []byte {
		c := cursor
		if i <= 1 { // 0: the fresh process's page; 1: the walk's first
			c = ""
		}
		ev := base
		params := map[string]string{}
		for k, v := range q {
			params[k] = v
		}
		if c != "" {
			params["cursor"] = c
		}
		ev["queryStringParameters"] = params
		ev["rawQueryString"] = queryString(q, c)
		b, _ := json.Marshal(ev)
		return b
	}
	check := func(i int, b []byte) error {
		now := proxy.snapshot()
		page := map[string]int{}
		for op, n := range now {
			if d := n - before[op]; d > 0 {
				page[op] = d
			}
		}
		before = now
		p, err := decodeList(b)
		if err != nil {
			return err
		}
		cursor = p.Next
		if i == 0 {
			return nil
		}
		total := 0
		for op, n := range page {
			calls[op] += n
			total += n
		}
		w.MaxCalls = max(w.MaxCalls, total)
		if total != 1 || page["Query"] != 1 {
			w.Problems = append(w.Problems, fmt.Sprintf("page %d made DynamoDB calls %v", i, page))
		}
		w.Pages++
		for _, r := range p.Leads {
			w.Rows++
			if seen[r.ID] {
				w.Problems = append(w.Problems, "lead "+r.ID+" listed twice")
			}
			seen[r.ID] = true
			if prev != nil && (r.InCrisis && !prev.InCrisis || r.InCrisis == prev.InCrisis && r.ReceivedAt > prev.ReceivedAt) {
				w.Problems = append(w.Problems, fmt.Sprintf("lead %s (crisis %t, %s) after %s (crisis %t, %s)", r.ID, r.InCrisis, r.ReceivedAt, prev.ID, prev.InCrisis, prev.ReceivedAt))
			}
			prev = &r
		}
		complete = p.Next == ""
		return nil
	}
	n := 0
	proc, err := runProcess(f.bin, runOpts{
		env: procEnv, n: maxListPages + 1, maxTime: maxTime, timeout: invokeTimeout,
		events: event,
		check: func(b []byte) error {
			err := check(n, b)
			n++
			return err
		},
		done: func() bool { return complete },
	})
	if err != nil {
		return nil, err
	}
	w.Distinct, w.Complete = len(seen), complete
	for op, c := range calls {
		w.CallsPerPage[op] = float64(c) / float64(max(w.Pages, 1))
	}
	w.FirstMs = ms(proc.invs[0].answered.Sub(proc.invs[0].sent))
	var lat []float64
	for _, inv := range proc.invs[1:] {
		lat = append(lat, ms(inv.answered.Sub(inv.sent)))
	}
	if len(lat) > 0 {
		w.P50Ms, w.P90Ms, w.MaxMs = quantile(lat, 0.5), quantile(lat, 0.9), quantile(lat, 1)
	}
	if len(w.Problems) > 5 {
		w.Problems = append(w.Problems[:5], fmt.Sprintf("and %d more", len(w.Problems)-5))
	}
	return w, nil
}

// queryString is q (and the cursor) as API Gateway's rawQueryString
// carries it, keys sorted.
func queryString(q map[string]string, cursor string) string {
	v := url.Values{}
	for k, x := range q {
		v.Set(k, x)
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	return v.Encode()
}

// callCounter is a reverse proxy on loopback in front of DynamoDB that
// counts the calls through it by operation (X-Amz-Target).
type callCounter struct {
	srv *http.Server
	url string

	mu    sync.Mutex
	calls map[string]int
}

func newCallCounter(target string) (*callCounter, error) {
	to, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &callCounter{url: "http://" + ln.Addr().String(), calls: map[string]int{}}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(to) }}
	c.srv = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			op := r.Header.Get("X-Amz-Target")
			if _, after, ok := strings.Cut(op, "."); ok {
				op = after
			}
			c.mu.Lock()
			c.calls[op]++
			c.mu.Unlock()
			rp.ServeHTTP(w, r)
		}),
	}
	go c.srv.Serve(ln)
	return c, nil
}

func (c *callCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.calls)
}

func (c *callCounter) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if c.srv.Shutdown(ctx) != nil {
		c.srv.Close()
	}
}
