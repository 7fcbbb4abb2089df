package devstack

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
)

func TestRoutesAndCORSFromTemplate(t *testing.T) {
	tmpl, err := samtemplate.Load()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := httpAPI(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	routes, err := httpRoutes(tmpl, spec)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range routes {
		got[r.RouteKey()] = r.Function + " " + r.Timeout.String() + " " + r.Authorizer
		if _, ok := httpFunctions[r.Function]; !ok {
			t.Errorf("route %s goes to %s, which has no constructor in httpFunctions (functions.go)", r.RouteKey(), r.Function)
		}
	}
	for key, want := range map[string]string{
		"POST /consultations": "ConsultationFunction 10s ",
		"POST /contact":       "ContactFunction 10s ",
	} {
		if got[key] != want {
			t.Errorf("route %s = %q, want %q (function, timeout, no authorizer)", key, got[key], want)
		}
	}
	if strings.Join(spec.cors.Methods, ",") != "POST,OPTIONS" || strings.Join(spec.cors.Headers, ",") != "content-type,idempotency-key" || spec.cors.MaxAge != 600 {
		t.Errorf("CORS = %+v", spec.cors)
	}
}

// templateWithAPI is a template whose one HTTP API has the given Auth
// section and whose function Fn has the given HttpApi events.
func templateWithAPI(auth map[string]any, events map[string]any) *samtemplate.Template {
	api := map[string]any{}
	if auth != nil {
		api["Auth"] = auth
	}
	return &samtemplate.Template{Resources: map[string]samtemplate.Resource{
		"Api": {Type: "AWS::Serverless::HttpApi", Properties: api},
		"Fn":  {Type: "AWS::Serverless::Function", Properties: map[string]any{"Timeout": 5, "Events": events}},
	}}
}

func httpEvent(method, path string, auth map[string]any) map[string]any {
	p := map[string]any{"ApiId": map[string]any{"Ref": "Api"}, "Method": method, "Path": path}
	if auth != nil {
		p["Auth"] = auth
	}
	return map[string]any{"Type": "HttpApi", "Properties": p}
}

var jwtAuth = map[string]any{"Authorizers": map[string]any{"StaffJwt": map[string]any{
	"IdentitySource":   "$request.header.Authorization",
	"JwtConfiguration": map[string]any{"issuer": map[string]any{"Fn::Sub": "https://cognito-idp"}, "audience": []any{map[string]any{"Ref": "Client"}}},
}}}

func TestRouteAuthFromTemplate(t *testing.T) {
	events := map[string]any{
		"Page":  httpEvent("GET", "/staff", map[string]any{"Authorizer": "NONE"}),
		"List":  httpEvent("get", "/staff/leads", map[string]any{"Authorizer": "StaffJwt"}),
		"Get":   httpEvent("GET", "/staff/leads/{id}", map[string]any{"Authorizer": "StaffJwt", "AuthorizationScopes": []any{"leads/read"}}),
		"Proxy": httpEvent("ANY", "/files/{path+}", nil),
	}
	spec, err := httpAPI(templateWithAPI(jwtAuth, events))
	if err != nil {
		t.Fatal(err)
	}
	if spec.authorizers["StaffJwt"].header != "Authorization" {
		t.Errorf("authorizers = %+v", spec.authorizers)
	}
	routes, err := httpRoutes(templateWithAPI(jwtAuth, events), spec)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range routes {
		got = append(got, fmt.Sprintf("%s %s %v %s", r.RouteKey(), r.Authorizer, r.Scopes, r.Timeout))
	}
	want := "ANY /files/{path+}  [] 5s|GET /staff  [] 5s|GET /staff/leads StaffJwt [] 5s|GET /staff/leads/{id} StaffJwt [leads/read] 5s"
	if strings.Join(got, "|") != want {
		t.Errorf("routes =\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}

	// A default authorizer guards every route that does not say NONE.
	withDefault := map[string]any{"Authorizers": jwtAuth["Authorizers"], "DefaultAuthorizer": "StaffJwt"}
	tmpl := templateWithAPI(withDefault, events)
	spec, err = httpAPI(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	routes, _ = httpRoutes(tmpl, spec)
	for _, r := range routes {
		want := "StaffJwt"
		if r.Path == "/staff" { // Authorizer: NONE
			want = ""
		}
		if r.Authorizer != want {
			t.Errorf("with a default authorizer, %s has authorizer %q, want %q", r.RouteKey(), r.Authorizer, want)
		}
	}

	for _, tt := range []struct {
		name   string
		auth   map[string]any
		events map[string]any
		want   string
	}{
		{"undeclared authorizer", jwtAuth, map[string]any{"E": httpEvent("GET", "/x", map[string]any{"Authorizer": "Other"})}, "Other"},
		{"scopes without authorizer", nil, map[string]any{"E": httpEvent("GET", "/x", map[string]any{"AuthorizationScopes": []any{"a"}})}, "AuthorizationScopes"},
		{"greedy not last", nil, map[string]any{"E": httpEvent("GET", "/{p+}/x", nil)}, "/{p+}/x"},
		{"empty segment", nil, map[string]any{"E": httpEvent("GET", "/a//b", nil)}, "/a//b"},
		{"half a brace", nil, map[string]any{"E": httpEvent("GET", "/a{b", nil)}, "/a{b"},
		{"no method", nil, map[string]any{"E": httpEvent("", "/x", nil)}, "/x"},
		{"duplicate route", nil, map[string]any{"E": httpEvent("GET", "/x", nil), "F": httpEvent("get", "/x", nil)}, "GET /x"},
		{"lambda authorizer", map[string]any{"Authorizers": map[string]any{"L": map[string]any{"FunctionArn": "arn"}}}, nil, "JWT authorizers only"},
		{"query identity source", map[string]any{"Authorizers": map[string]any{"Q": map[string]any{
			"IdentitySource": "$request.querystring.token", "JwtConfiguration": map[string]any{}}}}, nil, "header"},
		{"unknown default", map[string]any{"DefaultAuthorizer": "Nope"}, nil, "Nope"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := templateWithAPI(tt.auth, tt.events)
			spec, err := httpAPI(tmpl)
			if err == nil {
				_, err = httpRoutes(tmpl, spec)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

// Routes match as on API Gateway: the most specific one, with its path
// parameters; a page route asked for with a trailing slash redirects.
func TestRouteMatching(t *testing.T) {
	var called []string
	handler := func(name string) HTTPHandler {
		return func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			called = append(called, fmt.Sprintf("%s %s %v", name, ev.RouteKey, ev.PathParameters))
			return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
		}
	}
	a := &api{log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now}
	for _, rs := range []routeSpec{
		{Method: "GET", Path: "/staff"}, {Method: "GET", Path: "/staff/{asset}"}, {Method: "GET", Path: "/staff/config.json"},
		{Method: "GET", Path: "/staff/leads"}, {Method: "GET", Path: "/staff/leads/{id}"}, {Method: "PATCH", Path: "/staff/leads/{id}"},
		{Method: "ANY", Path: "/files/{path+}"}, {Method: "DELETE", Path: "/files/{path+}"},
	} {
		rs.Function, rs.Timeout = "Fn", time.Second
		a.routes = append(a.routes, &route{routeSpec: rs, handle: handler(rs.RouteKey())})
	}
	for _, tt := range []struct{ method, path, want string }{
		{"GET", "/staff", "GET /staff GET /staff map[]"},
		{"GET", "/staff/app.js", "GET /staff/{asset} GET /staff/{asset} map[asset:app.js]"},
		{"GET", "/staff/config.json", "GET /staff/config.json GET /staff/config.json map[]"},
		{"GET", "/staff/leads", "GET /staff/leads GET /staff/leads map[]"},
		{"GET", "/staff/leads/019cb963-0b4e", "GET /staff/leads/{id} GET /staff/leads/{id} map[id:019cb963-0b4e]"},
		{"PATCH", "/staff/leads/a%20b", "PATCH /staff/leads/{id} PATCH /staff/leads/{id} map[id:a b]"},
		{"POST", "/files/a/b.txt", "ANY /files/{path+} ANY /files/{path+} map[path:a/b.txt]"},
		{"DELETE", "/files/a/b.txt", "DELETE /files/{path+} DELETE /files/{path+} map[path:a/b.txt]"},
	} {
		called = nil
		w := httptest.NewRecorder()
		a.ServeHTTP(w, httptest.NewRequest(tt.method, "http://127.0.0.1:3000"+tt.path, nil))
		if w.Code != 200 || len(called) != 1 || called[0] != tt.want {
			t.Errorf("%s %s = %d, called %q, want %q", tt.method, tt.path, w.Code, called, tt.want)
		}
	}
	for _, tt := range []struct{ method, path string }{
		{"POST", "/staff/leads"}, {"GET", "/staff/leads/1/2"}, {"GET", "/files"}, {"GET", "/files/"}, {"DELETE", "/staff/leads/1"},
	} {
		called = nil
		w := httptest.NewRecorder()
		a.ServeHTTP(w, httptest.NewRequest(tt.method, "http://127.0.0.1:3000"+tt.path, nil))
		if w.Code != 404 || len(called) != 0 {
			t.Errorf("%s %s = %d, called %q, want API Gateway's 404", tt.method, tt.path, w.Code, called)
		}
	}
	w := httptest.NewRecorder()
	a.ServeHTTP(w, httptest.NewRequest("GET", "http://127.0.0.1:3000/staff/?x=1", nil))
	if w.Code != http.StatusFound || w.Header().Get("Location") != "/staff?x=1" {
		t.Errorf("GET /staff/ = %d Location %q, want a redirect to /staff?x=1", w.Code, w.Header().Get("Location"))
	}
}

func TestBuildEvent(t *testing.T) {
	now := time.Date(2026, 11, 28, 14, 3, 21, 0, time.UTC)
	form := "name=Jordan+Avery&email=jordan%40example.com"
	r := httptest.NewRequest("POST", "http://127.0.0.1:3000/contact?utm_source=news&utm_source=mail", strings.NewReader(form))
	r.RemoteAddr = "127.0.0.1:54321"
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("User-Agent", "Mozilla/5.0 test")
	r.Header.Add("Accept", "text/html")
	r.Header.Add("Accept", "application/json")
	r.Header.Set("Cookie", "a=1; b=2")
	r.Header.Set("Idempotency-Key", "k-1")
	rt := routeSpec{Method: "POST", Path: "/contact", Function: "ContactFunction", Timeout: 10 * time.Second}

	ev := buildEvent(r, rt, []byte(form), "req-1", now)
	if ev.Version != "2.0" || ev.RouteKey != "POST /contact" || ev.RawPath != "/contact" || ev.RawQueryString != "utm_source=news&utm_source=mail" {
		t.Errorf("event = %+v", ev)
	}
	if ev.QueryStringParameters["utm_source"] != "news,mail" {
		t.Errorf("query = %v", ev.QueryStringParameters)
	}
	for k, want := range map[string]string{
		"content-type": "application/x-www-form-urlencoded", "accept": "text/html,application/json", "idempotency-key": "k-1",
		"host": "127.0.0.1:3000", "user-agent": "Mozilla/5.0 test", "x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "http", "x-forwarded-port": "3000",
	} {
		if got := ev.Headers[k]; got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q is not lower case", k)
		}
	}
	if _, ok := ev.Headers["cookie"]; ok || strings.Join(ev.Cookies, " ") != "a=1 b=2" {
		t.Errorf("cookies = %v, cookie header %q", ev.Cookies, ev.Headers["cookie"])
	}
	c := ev.RequestContext
	if c.RequestID != "req-1" || c.Stage != "$default" || c.RouteKey != "POST /contact" || c.HTTP.Method != "POST" || c.HTTP.Path != "/contact" ||
		c.HTTP.SourceIP != "127.0.0.1" || c.HTTP.UserAgent != "Mozilla/5.0 test" || c.Time != "28/Nov/2026:14:03:21 +0000" || c.TimeEpoch != now.UnixMilli() {
		t.Errorf("requestContext = %+v", c)
	}
	if raw, err := base64.StdEncoding.DecodeString(ev.Body); !ev.IsBase64Encoded || err != nil || string(raw) != form {
		t.Errorf("form body = %q base64 %v, want the form base64-encoded", ev.Body, ev.IsBase64Encoded)
	}

	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	if ev := buildEvent(r, rt, []byte(`{"a":1}`), "req-2", now); ev.IsBase64Encoded || ev.Body != `{"a":1}` {
		t.Errorf("JSON body = %q base64 %v, want text", ev.Body, ev.IsBase64Encoded)
	}
	if ev := buildEvent(r, rt, nil, "req-3", now); ev.IsBase64Encoded || ev.Body != "" {
		t.Errorf("empty body = %q base64 %v", ev.Body, ev.IsBase64Encoded)
	}
}

// A handler's response is written back as API Gateway writes it; a failed
// invocation is API Gateway's bare 500.
func TestInvokeWritesResponse(t *testing.T) {
	var gotCtx context.Context
	var gotEv events.APIGatewayV2HTTPRequest
	handle := func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		gotCtx, gotEv = ctx, ev
		switch ev.Body {
		case "fail":
			return events.APIGatewayV2HTTPResponse{}, io.ErrUnexpectedEOF
		case "panic":
			panic("boom")
		}
		return events.APIGatewayV2HTTPResponse{
			StatusCode: 201, Headers: map[string]string{"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"},
			Cookies: []string{"s=1"}, Body: base64.StdEncoding.EncodeToString([]byte(`{"ok":true}`)), IsBase64Encoded: true,
		}, nil
	}
	a := &api{
		routes: []*route{{routeSpec: routeSpec{Method: "POST", Path: "/contact", Function: "ContactFunction", Timeout: time.Second}, handle: handle}},
		cors:   corsConfig{Origins: map[string]bool{"http://127.0.0.1:3000": true}},
		log:    slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now,
	}
	post := func(body string) *http.Response {
		r := httptest.NewRequest("POST", "http://127.0.0.1:3000/contact", strings.NewReader(body))
		r.Header.Set("Content-Type", "text/plain")
		r.Header.Set("Origin", "http://127.0.0.1:3000")
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		return w.Result()
	}
	resp := post("ok")
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 || string(b) != `{"ok":true}` || resp.Header.Get("Set-Cookie") != "s=1" ||
		resp.Header.Get("Access-Control-Allow-Origin") != "http://127.0.0.1:3000" {
		t.Errorf("got %d %s %v", resp.StatusCode, b, resp.Header)
	}
	if dl, ok := gotCtx.Deadline(); !ok || time.Until(dl) > time.Second {
		t.Error("handler context has no deadline from the function's Timeout")
	}
	if lc, ok := lambdacontext.FromContext(gotCtx); !ok || lc.AwsRequestID == "" {
		t.Error("handler context has no Lambda context")
	}
	if gotEv.Body != "ok" || gotEv.IsBase64Encoded {
		t.Errorf("text/plain body = %q base64 %v", gotEv.Body, gotEv.IsBase64Encoded)
	}
	for _, body := range []string{"fail", "panic"} {
		resp := post(body)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 500 || string(b) != `{"message":"Internal Server Error"}` {
			t.Errorf("%s: got %d %s", body, resp.StatusCode, b)
		}
	}
}

func TestStaticSite(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"index.html": "<p>home</p>", "sub/index.html": "<p>sub</p>", "form.js": "var x;"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(dir, "empty"), 0o755)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	a := &api{site: root, log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now}
	get := func(a *api, path string) (int, string, string) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "http://127.0.0.1:3000/", nil)
		r.URL.Path = path
		a.ServeHTTP(w, r)
		return w.Code, w.Header().Get("Content-Type"), w.Body.String()
	}
	for _, tt := range []struct {
		path, wantType, wantBody string
		wantCode                 int
	}{
		{"/", "text/html", "home", 200},
		{"/index.html", "text/html", "home", 200},
		{"/sub/", "text/html", "sub", 200},
		{"/form.js", "text/javascript", "var x;", 200},
		{"/empty/", "application/json", "Not Found", 404},
		{"/missing.html", "application/json", "Not Found", 404},
		{"/../../etc/passwd", "application/json", "Not Found", 404},
	} {
		code, ct, body := get(a, tt.path)
		if code != tt.wantCode || !strings.HasPrefix(ct, tt.wantType) || !strings.Contains(body, tt.wantBody) {
			t.Errorf("GET %s = %d %s %q, want %d %s %q", tt.path, code, ct, body, tt.wantCode, tt.wantType, tt.wantBody)
		}
	}

	empty := &api{routes: []*route{{routeSpec: routeSpec{Method: "POST", Path: "/contact"}}}, log: a.log, now: time.Now, inbox: "http://127.0.0.1:8005/"}
	if code, ct, body := get(empty, "/"); code != 200 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, "POST /contact") || !strings.Contains(body, "8005") {
		t.Errorf("placeholder = %d %s %q", code, ct, body)
	}
}
