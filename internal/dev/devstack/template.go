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
	Method, Path string
	Function     string        // the function's logical ID
	Timeout      time.Duration // the function's Timeout
}

// RouteKey is the API Gateway route key, such as "POST /contact".
func (r routeSpec) RouteKey() string { return r.Method + " " + r.Path }

// lambdaDefaultTimeout is Lambda's timeout when a template sets none.
const lambdaDefaultTimeout = 3 * time.Second

// httpRoutes lists the template's HTTP API routes, so the local API serves
// the same routes as the deployed one.
func httpRoutes(t *samtemplate.Template) ([]routeSpec, error) {
	globalTimeout := lambdaDefaultTimeout
	if g, ok := t.Globals["Function"].(map[string]any); ok {
		if n, ok := g["Timeout"].(int); ok {
			globalTimeout = time.Duration(n) * time.Second
		}
	}
	var routes []routeSpec
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
			method, _ := p["Method"].(string)
			path, _ := p["Path"].(string)
			if method == "" || path == "" || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "{}") {
				return nil, fmt.Errorf("template: function %s event %s: the dev stack serves literal routes such as POST /contact, not %q %q", id, name, method, path)
			}
			routes = append(routes, routeSpec{Method: strings.ToUpper(method), Path: path, Function: id, Timeout: timeout})
		}
	}
	if len(routes) == 0 {
		return nil, fmt.Errorf("template: no function has an HttpApi event")
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path < routes[j].Path })
	return routes, nil
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

// httpAPICORS reads the CorsConfiguration of the template's one
// AWS::Serverless::HttpApi.
func httpAPICORS(t *samtemplate.Template) (corsConfig, error) {
	var c corsConfig
	var found []string
	for id, r := range t.Resources {
		if r.Type == "AWS::Serverless::HttpApi" {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		return c, fmt.Errorf("template: got HTTP APIs %v, want exactly one", found)
	}
	cc, ok := t.Resources[found[0]].Properties["CorsConfiguration"].(map[string]any)
	if !ok {
		return c, nil // no CORS: browsers on other origins are refused
	}
	var err error
	if c.Methods, err = stringList(cc["AllowMethods"], "AllowMethods"); err != nil {
		return c, err
	}
	if c.Headers, err = stringList(cc["AllowHeaders"], "AllowHeaders"); err != nil {
		return c, err
	}
	if c.Expose, err = stringList(cc["ExposeHeaders"], "ExposeHeaders"); err != nil {
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
		return nil, fmt.Errorf("template: CorsConfiguration.%s is not a list of literal values", what)
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("template: CorsConfiguration.%s holds %v, not a string", what, e)
		}
		out = append(out, s)
	}
	return out, nil
}
