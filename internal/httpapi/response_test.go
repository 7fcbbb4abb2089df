package httpapi

import (
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func checkCommonHeaders(t *testing.T, resp events.APIGatewayV2HTTPResponse, contentType string) {
	t.Helper()
	want := map[string]string{
		"Content-Type":           contentType,
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
		"Referrer-Policy":        "no-referrer",
	}
	for k, v := range want {
		if got := resp.Headers[k]; got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestJSON(t *testing.T) {
	resp := JSON(201, map[string]string{"id": "abc", "note": "<b>&</b>"})
	if resp.StatusCode != 201 {
		t.Errorf("status = %d, want 201", resp.StatusCode)
	}
	if want := `{"id":"abc","note":"\u003cb\u003e\u0026\u003c/b\u003e"}`; resp.Body != want {
		t.Errorf("body = %s, want %s", resp.Body, want)
	}
	checkCommonHeaders(t, resp, "application/json; charset=utf-8")
	if _, ok := resp.Headers["Content-Security-Policy"]; ok {
		t.Error("JSON carries a Content-Security-Policy; only HTML needs one")
	}
}

func TestJSONUnencodable(t *testing.T) {
	resp := JSON(200, math.Inf(1))
	if resp.StatusCode != 500 || resp.Body != internalBody {
		t.Errorf("got %d %s, want 500 %s", resp.StatusCode, resp.Body, internalBody)
	}
	checkCommonHeaders(t, resp, "application/json; charset=utf-8")
}

func TestHTML(t *testing.T) {
	resp := HTML(200, "<p>Thank you</p>")
	if resp.StatusCode != 200 || resp.Body != "<p>Thank you</p>" {
		t.Errorf("got %d %q", resp.StatusCode, resp.Body)
	}
	checkCommonHeaders(t, resp, "text/html; charset=utf-8")
	csp := resp.Headers["Content-Security-Policy"]
	for _, want := range []string{"default-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "script-src") {
		t.Errorf("Content-Security-Policy %q allows scripts", csp)
	}
}

func TestRedirect(t *testing.T) {
	tests := []struct {
		location string
		ok       bool
	}{
		{"https://clinic.example/thank-you", true},
		{"https://clinic.example/thank-you?form=contact#top", true},
		{"http://localhost:8080/thanks", true},
		{"/thank-you", true},
		{"/", true},
		{"", false},
		{"thank-you", false},
		{"//evil.example/", false},
		{"/\\evil.example/", false},
		{"javascript:alert(1)", false},
		{"https:///nohost", false},
		{"https://clinic.example/\r\nSet-Cookie: a=b", false},
		{"https://clinic.example/a b", false},
		{"https://clinic.example/ü", false},
	}
	for _, tt := range tests {
		t.Run(tt.location, func(t *testing.T) {
			resp := Redirect(tt.location)
			if !tt.ok {
				if resp.StatusCode != 500 || resp.Headers["Location"] != "" {
					t.Errorf("got %d to %q, want a 500 without Location", resp.StatusCode, resp.Headers["Location"])
				}
				return
			}
			if resp.StatusCode != 303 {
				t.Errorf("status = %d, want 303", resp.StatusCode)
			}
			if got := resp.Headers["Location"]; got != tt.location {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
			checkCommonHeaders(t, resp, "text/html; charset=utf-8")
			if resp.Headers["Content-Security-Policy"] == "" {
				t.Error("no Content-Security-Policy on an HTML body")
			}
		})
	}
}

func TestRedirectEscapesBody(t *testing.T) {
	resp := Redirect(`https://clinic.example/?a="><script>`)
	if resp.StatusCode != 303 {
		t.Fatalf("status = %d, want 303", resp.StatusCode)
	}
	if want := `href="https://clinic.example/?a=&#34;&gt;&lt;script&gt;"`; !strings.Contains(resp.Body, want) {
		t.Errorf("body %s lacks the escaped link %s", resp.Body, want)
	}
}
