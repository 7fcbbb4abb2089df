package devstack

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
)

// routeSpec is one HttpApi event of a function in template.yaml.
type routeSpec struct {
	// Method is an HTTP method or ANY. Path is literal segments and
	// {name} parameters, the last of which may be greedy ({name+}).
	Method, Path string
	Function     string        // the function's logical ID
	Timeout      time.Duration // the function's Timeout
	// Authorizer names the HTTP API's JWT authorizer that guards the
	// route; "" means none (Auth.Authorizer: NONE, or no default).
	Authorizer string
	// Scopes are the route's AuthorizationScopes: a token must hold one.
	Scopes []string
}

// RouteKey is the API Gateway route key, such as "POST /contact".
func (r routeSpec) RouteKey() string { return r.Method + " " + r.Path }

// lambdaDefaultTimeout is Lambda's timeout when a template sets none.
const lambdaDefaultTimeout = 3 * time.Second

// httpAPISpec is what the local API needs of the template's one
// AWS::Serverless::HttpApi.
type httpAPISpec struct {
	cors corsConfig
	// authorizers are its JWT authorizers by name.
	authorizers map[string]authorizerSpec
	// defaultAuthorizer guards the routes that name no authorizer.
	defaultAuthorizer string
}

// authorizerSpec is a JWT authorizer of the HTTP API. Its issuer and
// audience are the template's user pool and client; locally they are the
// dev stack's user pool and client instead.
type authorizerSpec struct {
	// header is the request header its IdentitySource names.
	header string
}

// httpRoutes lists the template's HTTP API routes, so the local API serves
// the same routes as the deployed one, each with the authorizer API Gateway
// would run for it.
func httpRoutes(t *samtemplate.Template, api httpAPISpec) ([]routeSpec, error) {
	globalTimeout := lambdaDefaultTimeout
	if g, ok := t.Globals["Function"].(map[string]any); ok {
		if n, ok := g["Timeout"].(int); ok {
			globalTimeout = time.Duration(n) * time.Second
		}
	}
	var routes []routeSpec
	seen := map[string]string{}
	for id, r := range t.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		timeout := globalTimeout
		if n, ok := r.Properties["Timeout"].(int); ok {
			timeout = time.Duration(n) * time.Second
		}
		events, _ := r.Properties["Events"].(map[string]any)
		for name, e := range events {
			ev, _ := e.(map[string]any)
			if ev["Type"] != "HttpApi" {
				continue
			}
			p, _ := ev["Properties"].(map[string]any)
			rs, err := routeOf(p, api)
			if err != nil {
				return nil, fmt.Errorf("template: function %s event %s: %w", id, name, err)
			}
			rs.Function, rs.Timeout = id, timeout
			if other, dup := seen[rs.RouteKey()]; dup {
				return nil, fmt.Errorf("template: route %s is declared by %s and %s", rs.RouteKey(), other, id)
			}
			seen[rs.RouteKey()] = id
			routes = append(routes, rs)
		}
	}
	if len(routes) == 0 {
		return nil, fmt.Errorf("template: no function has an HttpApi event")
	}
	sort.Slice(routes, func(i, j int) bool {
		if routes[i].Path != routes[j].Path {
			return routes[i].Path < routes[j].Path
		}
		return routes[i].Method < routes[j].Method
	})
	return routes, nil
}

// routeOf reads one HttpApi event's properties.
func routeOf(p map[string]any, api httpAPISpec) (routeSpec, error) {
	method, _ := p["Method"].(string)
	path, _ := p["Path"].(string)
	rs := routeSpec{Method: strings.ToUpper(method), Path: path, Authorizer: api.defaultAuthorizer}
	if rs.Method == "" || !validPath(path) {
		return rs, fmt.Errorf("the dev stack serves routes such as POST /contact or GET /staff/leads/{id}, not %q %q", method, path)
	}
	auth, _ := p["Auth"].(map[string]any)
	if auth == nil {
		return rs, nil
	}
	if v, ok := auth["Authorizer"]; ok {
		name, _ := v.(string)
		switch {
		case name == "NONE":
			rs.Authorizer = ""
		case name == "":
			return rs, fmt.Errorf("Auth.Authorizer is %v, not an authorizer's name", v)
		default:
			if _, ok := api.authorizers[name]; !ok {
				return rs, fmt.Errorf("Auth.Authorizer %s is not a JWT authorizer of the HTTP API", name)
			}
			rs.Authorizer = name
		}
	}
	scopes, err := stringList(auth["AuthorizationScopes"], "Auth.AuthorizationScopes")
	if err != nil {
		return rs, err
	}
	if len(scopes) > 0 && rs.Authorizer == "" {
		return rs, fmt.Errorf("Auth.AuthorizationScopes without an authorizer")
	}
	rs.Scopes = scopes
	return rs, nil
}

// validPath reports whether path is an HTTP API route path: "/" and
// segments that are literal or a {parameter}, the last possibly greedy.
func validPath(path string) bool {
	if !strings.HasPrefix(path, "/") {
		return false
	}
	if path == "/" {
		return true
	}
	segs := strings.Split(path[1:], "/")
	for i, s := range segs {
		if s == "" {
			return false
		}
		name, isParam := paramName(s)
		switch {
		case !isParam && strings.ContainsAny(s, "{}"):
			return false
		case isParam && (name == "" || strings.ContainsAny(name, "{}")):
			return false
		case isParam && strings.HasSuffix(name, "+") && (i != len(segs)-1 || name == "+"):
			return false
		}
	}
	return true
}

// paramName returns the name inside a {name} segment (with a greedy
// parameter's "+"), and whether seg is one.
func paramName(seg string) (string, bool) {
	if len(seg) < 2 || seg[0] != '{' || seg[len(seg)-1] != '}' {
		return "", false
	}
	return seg[1 : len(seg)-1], true
}

// corsConfig is an HTTP API's CorsConfiguration. The origins come from the
// dev stack's configuration instead of the template's parameter.
type corsConfig struct {
	Origins     map[string]bool
	Methods     []string
	Headers     []string
	Expose      []string
	MaxAge      int
	Credentials bool
}

// httpAPI reads the CORS configuration and the authorizers of the
// template's one AWS::Serverless::HttpApi. Only JWT authorizers whose
// token comes from a header are supported, as the local user pool stands
// in for every one of them.
func httpAPI(t *samtemplate.Template) (httpAPISpec, error) {
	api := httpAPISpec{authorizers: map[string]authorizerSpec{}}
	var found []string
	for id, r := range t.Resources {
		if r.Type == "AWS::Serverless::HttpApi" {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		return api, fmt.Errorf("template: got HTTP APIs %v, want exactly one", found)
	}
	props := t.Resources[found[0]].Properties
	var err error
	if api.cors, err = corsOf(props); err != nil {
		return api, err
	}
	auth, _ := props["Auth"].(map[string]any)
	authorizers, _ := auth["Authorizers"].(map[string]any)
	for name, a := range authorizers {
		spec, _ := a.(map[string]any)
		if _, ok := spec["JwtConfiguration"].(map[string]any); !ok {
			return api, fmt.Errorf("template: authorizer %s of %s has no JwtConfiguration; the dev stack emulates JWT authorizers only", name, found[0])
		}
		source := "$request.header.Authorization" // SAM's default
		if v, ok := spec["IdentitySource"]; ok {
			if source, ok = v.(string); !ok {
				return api, fmt.Errorf("template: authorizer %s: IdentitySource is %v, not a literal", name, v)
			}
		}
		header, ok := strings.CutPrefix(source, "$request.header.")
		if !ok || header == "" {
			return api, fmt.Errorf("template: authorizer %s: the dev stack reads tokens from a header ($request.header.Authorization), not %q", name, source)
		}
		api.authorizers[name] = authorizerSpec{header: header}
	}
	if v, ok := auth["DefaultAuthorizer"]; ok {
		name, _ := v.(string)
		if _, ok := api.authorizers[name]; !ok {
			return api, fmt.Errorf("template: DefaultAuthorizer %v is not a JWT authorizer of %s", v, found[0])
		}
		api.defaultAuthorizer = name
	}
	return api, nil
}

func corsOf(props map[string]any) (corsConfig, error) {
	var c corsConfig
	cc, ok := props["CorsConfiguration"].(map[string]any)
	if !ok {
		return c, nil // no CORS: browsers on other origins are refused
	}
	var err error
	if c.Methods, err = stringList(cc["AllowMethods"], "CorsConfiguration.AllowMethods"); err != nil {
		return c, err
	}
	if c.Headers, err = stringList(cc["AllowHeaders"], "CorsConfiguration.AllowHeaders"); err != nil {
		return c, err
	}
	if c.Expose, err = stringList(cc["ExposeHeaders"], "CorsConfiguration.ExposeHeaders"); err != nil {
		return c, err
	}
	c.MaxAge, _ = cc["MaxAge"].(int)
	c.Credentials, _ = cc["AllowCredentials"].(bool)
	return c, nil
}

func stringList(v any, what string) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("template: %s is not a list of literal values", what)
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("template: %s holds %v, not a string", what, e)
		}
		out = append(out, s)
	}
	return out, nil
}
