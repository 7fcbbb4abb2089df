package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/clinicleads/leadpipe/internal/dev/benchdata"
	"github.com/clinicleads/leadpipe/internal/staff"
)

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/clinicleads/leadpipe/internal/httpapi
cpu: AMD EPYC
BenchmarkDecode/contact-json-2         	   10000	     41210 ns/op	    4753 B/op	     136 allocs/op
BenchmarkNormalize-2                	  498985	       627.5 ns/op	      40 B/op	       3 allocs/op
PASS
pkg: github.com/clinicleads/leadpipe/internal/lead
BenchmarkValidate/consultation         	   12636	     16619 ns/op
`
	got := parseGoBench([]byte(out))
	want := []GoBench{
		{"github.com/clinicleads/leadpipe/internal/httpapi", "Decode/contact-json", 10000, 41210, 4753, 136},
		{"github.com/clinicleads/leadpipe/internal/httpapi", "Normalize", 498985, 627.5, 40, 3},
		{"github.com/clinicleads/leadpipe/internal/lead", "Validate/consultation", 12636, 16619, 0, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d results, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("result %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseInitTrace(t *testing.T) {
	stderr := `init internal/bytealg @0.008 ms, 0.003 ms clock, 0 bytes, 0 allocs
init runtime @0.047 ms, 0.091 ms clock, 0 bytes, 0 allocs
something else
init github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas @9.1 ms, 3.25 ms clock, 812344 bytes, 9021 allocs
`
	got := parseInitTrace([]byte(stderr))
	if len(got) != 3 {
		t.Fatalf("got %d packages, want 3: %+v", len(got), got)
	}
	if p := got[2]; p.Package != "github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas" || p.ClockMs != 3.25 || p.Bytes != 812344 || p.Allocs != 9021 {
		t.Errorf("last = %+v", p)
	}
	in := summarizeInit([][]PkgInit{got, got})
	if math.Abs(in.ClockMs-3.344) > 1e-9 || in.Slowest[0].ClockMs != 3.25 {
		t.Errorf("summary = %+v", in)
	}
}

func TestItemSize(t *testing.T) {
	item := map[string]any{
		"pk":        map[string]any{"S": "LEAD#abc"},                                                 // 2 + 8
		"expiresAt": map[string]any{"N": "1795874601"},                                               // 9 + (10 digits: 5+1)
		"ok":        map[string]any{"BOOL": true},                                                    // 2 + 1
		"list":      map[string]any{"L": []any{map[string]any{"S": "ab"}, map[string]any{"S": "c"}}}, // 4 + 3 + (1+2) + (1+1)
		"consent":   map[string]any{"M": map[string]any{"at": map[string]any{"S": "x"}}},             // 7 + 3 + 1+2+1
	}
	want := (2 + 8) + (9 + 6) + (2 + 1) + (4 + 3 + 3 + 2) + (7 + 3 + 4)
	if got := itemSize(item); got != want {
		t.Errorf("itemSize = %d, want %d", got, want)
	}
	for n, want := range map[string]int{"0": 1, "7": 2, "12": 2, "123": 3, "-1.50": 2, "1e10": 2, "000120": 2} {
		if got := numberSize(n); got != want {
			t.Errorf("numberSize(%s) = %d, want %d", n, got, want)
		}
	}
}

func TestSetAttrs(t *testing.T) {
	in := map[string]any{
		"UpdateExpression":          "SET #m = :at",
		"ExpressionAttributeNames":  map[string]any{"#m": "notifiedAt"},
		"ExpressionAttributeValues": map[string]any{":at": map[string]any{"S": "2026-11-28T14:03:21.000Z"}},
	}
	got := setAttrs(in)
	if len(got) != 1 || got["notifiedAt"] == nil {
		t.Fatalf("setAttrs = %v", got)
	}
	item := map[string]any{"pk": map[string]any{"S": "LEAD#abc"}}
	if n := sizeAfterSet(item, "notifiedAt", got["notifiedAt"]); n != 10+10+24 {
		t.Errorf("sizeAfterSet = %d, want %d", n, 44)
	}
}

func TestEstimate(t *testing.T) {
	in := CostInput{
		IntakeMemoryMB: 256, NotifyMemoryMB: 256, IntakeBilledMs: 10, NotifyBilledMs: 20,
		LeadItemBytes: 1000, ClaimItemBytes: 200, MarkedItemBytes: 1030, LeadGSIs: 2,
		MarkUpdatesGSIs: true, EmailsPerLead: 1, NotifyReadsPerRec: 1,
	}
	c := estimate(in)
	lines := map[string]CostLine{}
	for _, l := range c.Lines {
		lines[l.Item] = l
	}
	// 1 WRU claim + 3 x 1 WRU lead and its two index entries.
	if got := lines["DynamoDB writes: claim + lead + its index entries"].Quantity; got != 4e6 {
		t.Errorf("intake WRU = %g, want 4e6", got)
	}
	// The mark makes the item 1030 B: 2 WRU, in the table and both indexes.
	if got := lines["DynamoDB writes: notifier's mark (table + indexes)"].Quantity; got != 6e6 {
		t.Errorf("mark WRU = %g, want 6e6", got)
	}
	// 0.25 GB x 0.010 s x 1e6 x price.
	if got, want := lines["Lambda duration, intake (arm64)"].USD, 0.25*0.010*1e6*LambdaArmPerGBSecond; math.Abs(got-want) > 1e-9 {
		t.Errorf("intake duration = %g, want %g", got, want)
	}
	if got := lines["SES emails"].USD; math.Abs(got-100) > 1e-9 {
		t.Errorf("SES = %g, want 100", got)
	}
	if billedMs(0.2) != 1 || billedMs(1) != 1 || billedMs(1.01) != 2 {
		t.Errorf("billedMs rounds wrong: %g %g %g", billedMs(0.2), billedMs(1), billedMs(1.01))
	}
}

func TestParseDumpDep(t *testing.T) {
	dump := `text/template.(*state).evalFieldChain -> text/template.(*state).evalField <ReflectMethod>
github.com/go-playground/validator/v10.isValidateFn -> github.com/go-playground/validator/v10.tryCallValidateFn <ReflectMethod>
type:reflect.Value <UsedInIface> -> reflect.Value.Methods.func1 <ReflectMethod>
github.com/clinicleads/leadpipe/internal/intake.New -> go:itab.*github.com/aws/aws-sdk-go-v2/service/dynamodb.Client,github.com/clinicleads/leadpipe/internal/dynamo.API
`
	d := parseDumpDep([]byte(dump))
	if got := strings.Join(d.ReflectMethodCallers, " "); got != "github.com/go-playground/validator/v10.tryCallValidateFn text/template.(*state).evalField" {
		t.Errorf("callers = %s", got)
	}
	if got := strings.Join(d.ClientsInInterfaces, " "); got != "dynamodb.Client" {
		t.Errorf("clients = %s", got)
	}
}

func TestQuantile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	for q, want := range map[float64]float64{0: 1, 0.5: 3, 1: 5, 0.9: 4.6} {
		if got := quantile(xs, q); math.Abs(got-want) > 1e-9 {
			t.Errorf("quantile(%g) = %g, want %g", q, got, want)
		}
	}
}

// TestRuntimeAPI plays the function's side of the Runtime API.
func TestRuntimeAPI(t *testing.T) {
	rt, err := newRuntimeAPI()
	if err != nil {
		t.Fatal(err)
	}
	defer rt.close()
	base := "http://" + rt.addr() + runtimePrefix
	go func() {
		for i := 0; i < 2; i++ {
			resp, err := http.Get(base + "invocation/next")
			if err != nil {
				return
			}
			id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
			if resp.Header.Get("Lambda-Runtime-Deadline-Ms") == "" || resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn") == "" {
				id = "missing-headers"
			}
			ev, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			kind := "response"
			if i == 1 {
				kind = "error"
			}
			r, err := http.Post(base+"invocation/"+id+"/"+kind, "application/json", bytes.NewReader(append([]byte("echo:"), ev...)))
			if err == nil {
				r.Body.Close()
			}
		}
	}()
	exited := make(chan struct{})
	inv, res, err := rt.invoke([]byte(`{"n":1}`), 5*time.Second, exited)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.body) != `echo:{"n":1}` || res.isError || inv.sent.IsZero() || res.at.Before(inv.sent) {
		t.Errorf("first invocation: %+v %+v", inv, res)
	}
	if rt.ready().IsZero() {
		t.Error("ready not recorded")
	}
	_, res, err = rt.invoke([]byte(`{"n":2}`), 5*time.Second, exited)
	if err != nil || !res.isError {
		t.Errorf("second invocation: %+v, %v; want an error result", res, err)
	}
	close(exited)
	if _, _, err := rt.invoke([]byte(`{}`), 5*time.Second, exited); !errors.Is(err, errExited) {
		t.Errorf("invoke after exit = %v, want errExited", err)
	}
}

// TestStaffListSample holds events/staff-list.json to API Gateway's v2
// event shape and to the staff function: through the real handler, with
// the bench's own settings and AWS stub, it is a staff member's list
// request that costs one Query and answers a page of leads, crisis first.
func TestStaffListSample(t *testing.T) {
	root, err := benchdata.Root()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := benchdata.EventBytes(benchdata.StaffListEvent)
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // a misspelt field would be dropped silently
	if err := dec.Decode(&req); err != nil {
		t.Fatalf("%s: %v", benchdata.StaffListEvent, err)
	}
	if req.RouteKey != "GET /staff/leads" || req.RequestContext.HTTP.Method != "GET" || req.RawPath != "/staff/leads" {
		t.Errorf("route %q, method %q, path %q", req.RouteKey, req.RequestContext.HTTP.Method, req.RawPath)
	}

	// The authorizer's claims are the bearer token's, as strings, issued by
	// the pool and for the client the bench's settings name.
	env, err := newBenchEnv(root, t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer env.close()
	var tgt target
	for _, x := range targets {
		if x.Name == "staff" {
			tgt = x
		}
	}
	vars := map[string]string{}
	for _, kv := range env.processEnv(tgt) {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	claims := req.RequestContext.Authorizer.JWT.Claims
	if want := "https://cognito-idp.us-east-1.amazonaws.com/" + vars["USER_POOL_ID"]; claims["iss"] != want {
		t.Errorf("iss %q, want %q", claims["iss"], want)
	}
	if claims["client_id"] != vars["USER_POOL_CLIENT_ID"] {
		t.Errorf("client_id %q, want USER_POOL_CLIENT_ID %q", claims["client_id"], vars["USER_POOL_CLIENT_ID"])
	}
	token, ok := strings.CutPrefix(req.Headers["authorization"], "Bearer ")
	parts := strings.Split(token, ".")
	if !ok || len(parts) != 3 {
		t.Fatalf("authorization header %q is not a bearer JWT", req.Headers["authorization"])
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var inToken map[string]any
	pd := json.NewDecoder(bytes.NewReader(payload))
	pd.UseNumber() // times as the digits API Gateway passes on
	if err := pd.Decode(&inToken); err != nil {
		t.Fatal(err)
	}
	if len(inToken) != len(claims) {
		t.Errorf("token has %d claims, the authorizer passes %d", len(inToken), len(claims))
	}
	for k, v := range inToken {
		want := fmt.Sprint(v)
		if list, ok := v.([]any); ok { // API Gateway flattens arrays: [staff]
			want = fmt.Sprint(list)
		}
		if claims[k] != want {
			t.Errorf("claim %s: token %v, authorizer %q", k, v, claims[k])
		}
	}

	cfg, err := staff.ConfigFromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	h, err := staff.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(resp)
	page, err := staffPage(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Leads) != 50 || page.Next == "" {
		t.Errorf("%d leads, next %q; want a full page of 50 and a next", len(page.Leads), page.Next)
	}
	crisis := 0
	for crisis < len(page.Leads) && page.Leads[crisis].InCrisis {
		crisis++
	}
	if want := stubLeads / 20; crisis != want {
		t.Errorf("%d leads in crisis at the top, want the stub's %d", crisis, want)
	}
	calls := env.stub.snapshot()
	delete(calls, "connections")
	if len(calls) != 2 || calls["DynamoDB.Query"] != 1 || calls["DynamoDB.GET /"] != 1 {
		t.Errorf("AWS calls %v, want New's warm-up GET / and one Query", calls)
	}
	if conns := env.stub.snapshot()["connections"]; conns != 1 {
		t.Errorf("%d connections, want 1: the Query on the warm-up's", conns)
	}
}
