package staff_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/staff"
)

func pageHandler(t *testing.T, cfg staff.Config) *staff.Handler {
	return staff.NewWithStore(cfg, "eu-west-2", untouchable{t}, time.Now, slog.New(slog.NewJSONHandler(io.Discard, nil)))
}

func TestPage(t *testing.T) {
	h := pageHandler(t, testConfig())
	for _, tt := range []struct {
		name, route, param, file, contentType string
	}{
		{"index", "GET /staff", "", "web/index.html", "text/html; charset=utf-8"},
		{"script", "GET /staff/{asset}", "app.js", "web/app.js", "text/javascript; charset=utf-8"},
		{"styles", "GET /staff/{asset}", "app.css", "web/app.css", "text/css; charset=utf-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := request(tt.route, nil) // no authorizer on the page
			if tt.param != "" {
				req.PathParameters = map[string]string{"asset": tt.param}
			}
			resp, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || resp.Body != string(want) {
				t.Errorf("%d, body of %d bytes; want 200 and %s (%d bytes)", resp.StatusCode, len(resp.Body), tt.file, len(want))
			}
			for k, v := range map[string]string{
				"Content-Type": tt.contentType,
				"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
					"connect-src 'self' https://cognito-idp.eu-west-2.amazonaws.com; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
				"X-Frame-Options":        "DENY",
				"Referrer-Policy":        "no-referrer",
				"X-Content-Type-Options": "nosniff",
				"Cache-Control":          "no-store",
			} {
				if resp.Headers[k] != v {
					t.Errorf("%s = %q, want %q", k, resp.Headers[k], v)
				}
			}
		})
	}
	for _, asset := range []string{"index.html", "../handler.go", "app.js.map", "web", ""} {
		req := request("GET /staff/{asset}", nil)
		req.PathParameters = map[string]string{"asset": asset}
		resp, _ := h.Handle(context.Background(), req)
		if resp.StatusCode != 404 || resp.Headers["Cache-Control"] != "no-store" {
			t.Errorf("asset %q: %d, want 404", asset, resp.StatusCode)
		}
	}
}

// Without the template's routes (a $default route), method and path pick
// the same answers, below a stage prefix too.
func TestDefaultRoute(t *testing.T) {
	h := pageHandler(t, testConfig())
	for path, want := range map[string]int{
		"/staff": 200, "/prod/staff": 200, "/staff/app.js": 200, "/prod/staff/app.css": 200, "/staff/config.json": 200,
		"/staff/leads": 401, "/prod/staff/leads/0190f5a4-0000-7000-8000-000000000000": 401,
		"/staff/other.txt": 404, "/staff/leads/a/b": 404, "/elsewhere": 404, "/staff/": 404,
	} {
		req := events.APIGatewayV2HTTPRequest{RouteKey: "$default", RawPath: path}
		req.RequestContext.HTTP.Method = "GET"
		req.RequestContext.Stage = "$default"
		if strings.HasPrefix(path, "/prod/") {
			req.RequestContext.Stage = "prod"
		}
		resp, _ := h.Handle(context.Background(), req)
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestConfigJSON(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  func(*staff.Config)
		want map[string]any
		csp  string
	}{
		{"AWS", func(*staff.Config) {}, map[string]any{
			"region": "eu-west-2", "userPoolId": "us-east-1_Pool123", "clientId": "client123", "timeZone": "America/New_York", "idleMinutes": 15.0,
		}, "https://cognito-idp.eu-west-2.amazonaws.com"},
		{"local", func(c *staff.Config) { c.CognitoEndpoint, c.TimeZone = "http://127.0.0.1:9229", nil }, map[string]any{
			"region": "eu-west-2", "userPoolId": "us-east-1_Pool123", "clientId": "client123", "cognitoEndpoint": "http://127.0.0.1:9229", "idleMinutes": 15.0,
		}, "http://127.0.0.1:9229"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.cfg(&cfg)
			h := pageHandler(t, cfg)
			for _, req := range []events.APIGatewayV2HTTPRequest{
				request("GET /staff/config.json", nil),
				func() events.APIGatewayV2HTTPRequest {
					r := request("GET /staff/{asset}", nil)
					r.PathParameters = map[string]string{"asset": "config.json"}
					return r
				}(),
			} {
				resp, _ := h.Handle(context.Background(), req)
				var got map[string]any
				if err := json.Unmarshal([]byte(resp.Body), &got); err != nil || resp.StatusCode != 200 {
					t.Fatalf("%s: %d %s", req.RouteKey, resp.StatusCode, resp.Body)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("%s: config = %v, want %v", req.RouteKey, got, tt.want)
				}
				if resp.Headers["Cache-Control"] != "no-store" {
					t.Error("config.json is cacheable")
				}
			}
			page, _ := h.Handle(context.Background(), request("GET /staff", nil))
			want := "connect-src 'self' " + tt.csp + ";"
			if csp := page.Headers["Content-Security-Policy"]; !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		})
	}
}
