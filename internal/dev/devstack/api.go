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
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type route struct {
	routeSpec
	handle HTTPHandler
}

// authorizer is a JWT authorizer of the template, reading its token from
// header.
type authorizer struct {
	header string
	jwt    *jwtAuthorizer
}

// api behaves like the deployed HTTP API: the template's routes, each
// request checked by the route's JWT authorizer and turned into the
// payload format 2.0 event API Gateway sends, CORS answered as API Gateway
// answers it. It also serves the example website, which the deployed API
// does not: locally both share one origin.
type api struct {
	routes      []*route
	authorizers map[string]authorizer // by name
	cors        corsConfig
	site        *os.Root // nil: no website, a placeholder page at /
	log         *slog.Logger
	now         func() time.Time
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
	bodyUnauthorized  = `{"message":"Unauthorized"}`
	bodyForbidden     = `{"message":"Forbidden"}`
)

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	allowed := origin != "" && a.cors.Origins[origin]
	// With CORS configured, API Gateway answers every preflight itself.
	if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		a.preflight(w, r, allowed)
		return
	}
	if rt, params := a.match(r.Method, r.URL.EscapedPath()); rt != nil {
		a.invoke(w, r, rt, params, origin, allowed)
		return
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		// A page route such as GET /staff, asked for as /staff/: its
		// relative links only work without the slash. (API Gateway would
		// answer 404; locally the inbox's address is shown with it.)
		if p := r.URL.EscapedPath(); len(p) > 1 && strings.HasSuffix(p, "/") {
			if rt, _ := a.match(http.MethodGet, strings.TrimSuffix(p, "/")); rt != nil {
				target := strings.TrimSuffix(p, "/")
				if r.URL.RawQuery != "" {
					target += "?" + r.URL.RawQuery
				}
				http.Redirect(w, r, target, http.StatusFound)
				return
			}
		}
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

// match finds the route for a request as API Gateway does, the most
// specific first: segment by segment a literal beats a {parameter}, which
// beats a greedy {parameter+}; then a method beats ANY. It returns the
// route's path parameters, unescaped.
func (a *api) match(method, escapedPath string) (*route, map[string]string) {
	segs := strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	var best *route
	var bestRank []int
	var bestParams map[string]string
	for _, rt := range a.routes {
		if rt.Method != method && rt.Method != "ANY" {
			continue
		}
		rank, params, ok := matchPath(rt.Path, segs)
		if !ok {
			continue
		}
		methodRank := 0
		if rt.Method == method {
			methodRank = 1
		}
		rank = append(rank, methodRank)
		if best == nil || slices.Compare(rank, bestRank) > 0 {
			best, bestRank, bestParams = rt, rank, params
		}
	}
	return best, bestParams
}

// matchPath matches a route's path against a request's escaped path
// segments, and ranks each segment of the match: 2 literal, 1 parameter,
// 0 greedy.
func matchPath(routePath string, segs []string) (rank []int, params map[string]string, ok bool) {
	if routePath == "/" {
		return []int{2}, nil, len(segs) == 1 && segs[0] == ""
	}
	rsegs := strings.Split(routePath[1:], "/")
	for i, rs := range rsegs {
		name, isParam := paramName(rs)
		if isParam && strings.HasSuffix(name, "+") {
			rest := segs[i:]
			if len(rest) == 0 || rest[0] == "" {
				return nil, nil, false
			}
			v, err := url.PathUnescape(strings.Join(rest, "/"))
			if err != nil {
				return nil, nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[strings.TrimSuffix(name, "+")] = v
			return append(rank, 0), params, true
		}
		if i >= len(segs) || segs[i] == "" {
			return nil, nil, false
		}
		if !isParam {
			if segs[i] != rs {
				return nil, nil, false
			}
			rank = append(rank, 2)
			continue
		}
		v, err := url.PathUnescape(segs[i])
		if err != nil {
			return nil, nil, false
		}
		if params == nil {
			params = map[string]string{}
		}
		params[name] = v
		rank = append(rank, 1)
	}
	return rank, params, len(segs) == len(rsegs)
}

// authorize runs the route's authorizer, if it has one, as API Gateway
// does before it invokes the function: without a valid token the answer
// is 401 (403 for a token without the route's scopes) and the function
// never runs. ok is false when the request was answered.
func (a *api) authorize(w http.ResponseWriter, r *http.Request, rt *route, requestID string, start time.Time) (
	jwt *events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription, ok bool) {
	if rt.Authorizer == "" {
		return nil, true
	}
	az, found := a.authorizers[rt.Authorizer]
	var err error
	if !found {
		err = fmt.Errorf("no authorizer %s", rt.Authorizer)
	} else if jwt, err = az.jwt.authorize(r.Context(), r.Header.Get(az.header), rt.Scopes); err == nil {
		return jwt, true
	}
	status, body := http.StatusUnauthorized, bodyUnauthorized
	if errors.Is(err, errForbidden) {
		status, body = http.StatusForbidden, bodyForbidden
	}
	gatewayAnswer(w, status, body)
	a.log.Info("request", "requestId", requestID, "routeKey", rt.RouteKey(), "status", status,
		"authorizerError", err.Error(), "latencyMs", a.now().Sub(start).Milliseconds())
	return nil, false
}

// invoke runs the route's function with the request as a v2 event and
// writes its response back, as the Lambda proxy integration does.
func (a *api) invoke(w http.ResponseWriter, r *http.Request, rt *route, params map[string]string, origin string, allowed bool) {
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

	claims, ok := a.authorize(w, r, rt, requestID, start)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		return // the client went away
	}
	if len(body) > maxPayload {
		gatewayAnswer(w, http.StatusRequestEntityTooLarge, bodyTooLarge)
		return
	}
	ev := buildEvent(r, rt.routeSpec, body, requestID, start)
	ev.PathParameters = params
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: claims}
	}

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

func callHandler(ctx context.Context, h HTTPHandler, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
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
	for _, rt := range a.routes {
		routes = append(routes, rt.RouteKey())
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
