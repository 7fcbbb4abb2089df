package devstack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// handlerFunc is a function's Lambda handler.
type handlerFunc func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

type route struct {
	routeSpec
	handle handlerFunc
}

// api behaves like the deployed HTTP API: the template's routes, each
// request turned into the payload format 2.0 event API Gateway sends, CORS
// answered as API Gateway answers it. It also serves the example website,
// which the deployed API does not: locally both share one origin.
type api struct {
	routes map[string]*route // by route key
	cors   corsConfig
	site   *os.Root // nil: no website, a placeholder page at /
	log    *slog.Logger
	now    func() time.Time
	// Links on the placeholder page.
	inbox string
}

// maxPayload is API Gateway's request size limit; the handlers' own limit
// (64 KiB) is far below it and is what a client meets.
const maxPayload = 10 << 20

// API Gateway's own answers, for requests it does not pass on.
const (
	bodyNotFound      = `{"message":"Not Found"}`
	bodyTooLarge      = `{"message":"Request Entity Too Large"}`
	bodyInternalError = `{"message":"Internal Server Error"}`
)

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	allowed := origin != "" && a.cors.Origins[origin]
	// With CORS configured, API Gateway answers every preflight itself.
	if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		a.preflight(w, r, allowed)
		return
	}
	if rt := a.routes[r.Method+" "+r.URL.Path]; rt != nil {
		a.invoke(w, r, rt, origin, allowed)
		return
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		a.static(w, r)
		return
	}
	// HTTP API answers an undefined route, and a defined path with another
	// method, with this 404.
	gatewayAnswer(w, http.StatusNotFound, bodyNotFound)
}

func gatewayAnswer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// preflight answers a CORS preflight: 204, with the allow headers only for
// an allowed origin asking for an allowed method.
func (a *api) preflight(w http.ResponseWriter, r *http.Request, allowed bool) {
	method := strings.ToUpper(strings.TrimSpace(r.Header.Get("Access-Control-Request-Method")))
	if allowed && slices.ContainsFunc(a.cors.Methods, func(m string) bool { return m == "*" || strings.EqualFold(m, method) }) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		h.Set("Access-Control-Allow-Methods", strings.Join(a.cors.Methods, ","))
		if len(a.cors.Headers) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(a.cors.Headers, ","))
		}
		if a.cors.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(a.cors.MaxAge))
		}
		if a.cors.Credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	w.Header().Add("Vary", "Origin")
	w.WriteHeader(http.StatusNoContent)
}

// invoke runs the route's function with the request as a v2 event and
// writes its response back, as the Lambda proxy integration does.
func (a *api) invoke(w http.ResponseWriter, r *http.Request, rt *route, origin string, allowed bool) {
	start := a.now()
	requestID := gatewayRequestID()
	w.Header().Set("Apigw-Requestid", requestID)
	if allowed {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		if len(a.cors.Expose) > 0 {
			w.Header().Set("Access-Control-Expose-Headers", strings.Join(a.cors.Expose, ","))
		}
		if a.cors.Credentials {
			w.Header().Set("Access-Control-Allow-Credentials", "true")
		}
	}
	w.Header().Add("Vary", "Origin")

	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		return // the client went away
	}
	if len(body) > maxPayload {
		gatewayAnswer(w, http.StatusRequestEntityTooLarge, bodyTooLarge)
		return
	}
	ev := buildEvent(r, rt.routeSpec, body, requestID, start)

	// A Lambda runs to completion even if the client leaves; it stops at its
	// Timeout.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), rt.Timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       newUUID(),
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:" + rt.Function,
	})
	resp, err := callHandler(ctx, rt.handle, ev)
	status := resp.StatusCode
	if err == nil && status == 0 {
		err = errors.New("the response has no statusCode")
	}
	var out []byte
	if err == nil {
		if out, err = responseBody(resp); err != nil {
			err = fmt.Errorf("response body: %w", err)
		}
	}
	if err != nil {
		// API Gateway turns a failed invocation into a bare 500; the
		// function's error goes to its log, here the stack's.
		a.log.Error("function failed", "function", rt.Function, "requestId", requestID, "error", err.Error())
		gatewayAnswer(w, http.StatusInternalServerError, bodyInternalError)
		return
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if allowed { // API Gateway's CORS headers win over the function's
		h.Set("Access-Control-Allow-Origin", origin)
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(out)
	}
	// Like the template's access log: no source IP, no user agent, no body.
	a.log.Info("request", "requestId", requestID, "routeKey", ev.RouteKey, "status", status,
		"latencyMs", a.now().Sub(start).Milliseconds())
}

func callHandler(ctx context.Context, h handlerFunc, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, ev)
}

func responseBody(resp events.APIGatewayV2HTTPResponse) ([]byte, error) {
	if resp.IsBase64Encoded {
		return base64.StdEncoding.DecodeString(resp.Body)
	}
	return []byte(resp.Body), nil
}

// buildEvent turns r into the payload format 2.0 event API Gateway's HTTP
// API sends for the route rt (stage $default).
func buildEvent(r *http.Request, rt routeSpec, body []byte, requestID string, now time.Time) events.APIGatewayV2HTTPRequest {
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		k = strings.ToLower(k)
		if k == "cookie" {
			// Cookies get a field of their own and leave the headers.
			for _, v := range vs {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[k] = strings.Join(vs, ",")
	}
	headers["host"] = r.Host
	if r.ContentLength > 0 {
		headers["content-length"] = strconv.FormatInt(r.ContentLength, 10)
	}
	if prior := headers["x-forwarded-for"]; prior != "" {
		headers["x-forwarded-for"] = prior + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		headers["x-forwarded-proto"] = "https"
	}
	if _, p, err := net.SplitHostPort(r.Host); err == nil {
		headers["x-forwarded-port"] = p
	}

	var query map[string]string
	if r.URL.RawQuery != "" {
		query = map[string]string{}
		for k, vs := range r.URL.Query() {
			query[k] = strings.Join(vs, ",")
		}
	}

	domain := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		domain = h
	}
	prefix, _, _ := strings.Cut(domain, ".")

	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.RouteKey(),
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rt.RouteKey(),
			AccountID:    "000000000000",
			Stage:        "$default",
			RequestID:    requestID,
			APIID:        "local",
			DomainName:   domain,
			DomainPrefix: prefix,
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isTextBody(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			// API Gateway passes a form post (and any other binary-looking
			// body) base64-encoded.
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

// isTextBody reports whether API Gateway passes a body of this content
// type as text: JSON and text/*. Everything else, form posts included,
// arrives base64-encoded.
func isTextBody(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json") || strings.HasPrefix(mt, "text/")
}

// gatewayRequestID looks like API Gateway's request ids ("JKJaXmPLvHcESHA=").
func gatewayRequestID() string {
	var b [11]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = 0x40 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// static serves the website: GET and HEAD only, files only (no listings),
// nothing outside the site's directory, never cached (it is being edited).
func (a *api) static(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	f, st, err := a.open(name)
	if err != nil {
		if name == "index.html" {
			a.placeholder(w, r)
			return
		}
		gatewayAnswer(w, http.StatusNotFound, bodyNotFound)
		return
	}
	defer f.Close()
	http.ServeContent(w, r, st.Name(), st.ModTime(), f)
}

// open opens a regular file of the site, or the index.html of a directory.
func (a *api) open(name string) (*os.File, fs.FileInfo, error) {
	if a.site == nil {
		return nil, nil, fs.ErrNotExist
	}
	for range 2 {
		f, err := a.site.Open(name)
		if err != nil {
			return nil, nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		if st.Mode().IsRegular() {
			return f, st, nil
		}
		f.Close()
		if !st.IsDir() {
			break
		}
		name = path.Join(name, "index.html")
	}
	return nil, nil, fs.ErrNotExist
}

var placeholderPage = template.Must(template.New("placeholder").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>leadpipe dev stack</title>
<style>body{font:1rem/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style></head>
<body><main>
<h1>leadpipe dev stack</h1>
<p>The API is running, but there is no example website to show: <code>examples/website/index.html</code> is missing.</p>
<ul>
{{range .Routes}}<li><code>{{.}}</code></li>
{{end}}</ul>
<p>Staff inbox: <a href="{{.Inbox}}">{{.Inbox}}</a></p>
</main></body></html>`))

func (a *api) placeholder(w http.ResponseWriter, r *http.Request) {
	var routes []string
	for k := range a.routes {
		routes = append(routes, k)
	}
	slices.Sort(routes)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodHead {
		return
	}
	placeholderPage.Execute(w, struct {
		Routes []string
		Inbox  string
	}{routes, a.inbox})
}
