package httpapi

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/clinicleads/leadpipe/internal/lead"
)

func TestDecodeContentType(t *testing.T) {
	const jsonBody, formBody = `{"name":"Ana"}`, "name=Ana"
	tests := []struct {
		name    string
		headers map[string]string
		body    string
		want    Format // 0: refused with 415
	}{
		{name: "json", headers: map[string]string{"content-type": "application/json"}, body: jsonBody, want: FormatJSON},
		{name: "mixed-case media type", headers: map[string]string{"content-type": "Application/JSON"}, body: jsonBody, want: FormatJSON},
		{name: "charset UTF-8", headers: map[string]string{"content-type": "application/json; charset=UTF-8"}, body: jsonBody, want: FormatJSON},
		{name: "charset utf8", headers: map[string]string{"content-type": "application/json;charset=utf8"}, body: jsonBody, want: FormatJSON},
		{name: "quoted charset", headers: map[string]string{"content-type": `application/json; charset="utf-8"`}, body: jsonBody, want: FormatJSON},
		{name: "header name Content-Type", headers: map[string]string{"Content-Type": "application/json"}, body: jsonBody, want: FormatJSON},
		{name: "header name CONTENT-TYPE", headers: map[string]string{"CONTENT-TYPE": "application/x-www-form-urlencoded"}, body: formBody, want: FormatForm},
		{name: "form with charset", headers: map[string]string{"content-type": "application/x-www-form-urlencoded; charset=UTF-8"}, body: formBody, want: FormatForm},
		{name: "charset latin1", headers: map[string]string{"content-type": "application/json; charset=latin1"}, body: jsonBody},
		{name: "charset utf-16", headers: map[string]string{"content-type": "application/x-www-form-urlencoded; charset=utf-16"}, body: formBody},
		{name: "quoted comma in charset", headers: map[string]string{"content-type": `application/json; charset="utf-8, x"`}, body: jsonBody},
		{name: "two types", headers: map[string]string{"content-type": "application/json, text/plain"}, body: jsonBody},
		{name: "two types after parameter", headers: map[string]string{"content-type": "application/json; charset=utf-8, text/plain"}, body: jsonBody},
		{name: "header in two cases", headers: map[string]string{"Content-Type": "application/json", "content-type": "application/json"}, body: jsonBody},
		{name: "text/plain", headers: map[string]string{"content-type": "text/plain"}, body: jsonBody},
		{name: "multipart", headers: map[string]string{"content-type": "multipart/form-data; boundary=x"}, body: formBody},
		{name: "json suffix type", headers: map[string]string{"content-type": "application/ld+json"}, body: jsonBody},
		{name: "duplicate parameter", headers: map[string]string{"content-type": "application/json; charset=utf-8; charset=latin1"}, body: jsonBody},
		{name: "unparseable", headers: map[string]string{"content-type": "application/"}, body: jsonBody},
		{name: "empty", headers: map[string]string{"content-type": ""}, body: jsonBody},
		{name: "missing", headers: map[string]string{"accept": "application/json"}, body: jsonBody},
		{name: "no headers", body: jsonBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var form lead.Contact
			format, err := Decode(events.APIGatewayV2HTTPRequest{Headers: tt.headers, Body: tt.body}, &form)
			if format != tt.want {
				t.Errorf("format = %v, want %v", format, tt.want)
			}
			if tt.want != 0 {
				if err != nil || form.Name != "Ana" {
					t.Errorf("got %+v, %v; want name Ana", form, err)
				}
				return
			}
			if got, want := mapErr(t, err), (mapped{415, "unsupported_media_type", ""}); got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
			msg := err.(*lead.Error).Message
			if !strings.Contains(msg, "application/json") || !strings.Contains(msg, "application/x-www-form-urlencoded") {
				t.Errorf("message %q does not list the accepted types", msg)
			}
		})
	}
}

func TestDecodeBodySize(t *testing.T) {
	// pad makes a JSON object of exactly n bytes.
	pad := func(n int) string {
		const obj = `{"name":"Ana"}`
		return obj + strings.Repeat(" ", n-len(obj))
	}
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name   string
		body   string
		base64 bool
		want   mapped // zero: accepted
	}{
		{name: "raw at the limit", body: pad(MaxBodyBytes)},
		{name: "raw over the limit", body: pad(MaxBodyBytes + 1), want: mapped{413, "body_too_large", ""}},
		{name: "base64", body: b64([]byte(`{"name":"Ana"}`)), base64: true},
		{name: "base64 over 64 KiB raw but at the limit decoded", body: b64([]byte(pad(MaxBodyBytes))), base64: true},
		{name: "base64 over the limit only once decoded", body: b64([]byte(pad(MaxBodyBytes + 1))), base64: true, want: mapped{413, "body_too_large", ""}},
		{name: "base64 too long to decode at all", body: strings.Repeat("AAAA", MaxBodyBytes), base64: true, want: mapped{413, "body_too_large", ""}},
		{name: "base64 invalid", body: "eyJuYW1lIjoiQW5hIn0!", base64: true, want: mapped{400, "malformed_body", ""}},
		{name: "base64 bad padding", body: "eyJ", base64: true, want: mapped{400, "malformed_body", ""}},
		{name: "base64 URL alphabet", body: "-_-_", base64: true, want: mapped{400, "malformed_body", ""}},
		{name: "base64 empty", body: "", base64: true, want: mapped{400, "malformed_body", ""}},
		{name: "base64 of invalid UTF-8", body: b64([]byte("{\"name\":\"\xff\"}")), base64: true, want: mapped{400, "malformed_body", ""}},
		{name: "not base64-encoded base64", body: b64([]byte(`{"name":"Ana"}`)), want: mapped{400, "malformed_body", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(ctJSON, tt.body)
			req.IsBase64Encoded = tt.base64
			var form lead.Contact
			_, err := Decode(req, &form)
			if tt.want == (mapped{}) {
				if err != nil || form.Name != "Ana" {
					t.Errorf("got %+v, %v; want name Ana", form, err)
				}
				return
			}
			if got := mapErr(t, err); got != tt.want {
				t.Errorf("got %+v, want %+v (err %v)", got, tt.want, err)
			}
		})
	}
}

func TestDecodeBadFormType(t *testing.T) {
	type nested struct {
		Inner struct{ A string } `json:"inner"`
	}
	type number struct {
		Age int `json:"age"`
	}
	var s string
	tests := []struct {
		name string
		form any
	}{
		{name: "not a pointer", form: lead.Contact{}},
		{name: "nil pointer", form: (*lead.Contact)(nil)},
		{name: "nil", form: nil},
		{name: "pointer to string", form: &s},
		{name: "nested struct", form: &nested{}},
		{name: "int field", form: &number{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(request(ctJSON, `{}`), tt.form)
			if got := lead.ErrorCode(err); got != lead.CodeInternal {
				t.Errorf("code = %v, want internal", got)
			}
			if got := Error(err, "req-1").StatusCode; got != 500 {
				t.Errorf("status = %d, want 500", got)
			}
		})
	}
}

func TestHeader(t *testing.T) {
	req := events.APIGatewayV2HTTPRequest{Headers: map[string]string{
		"content-type":    "application/json",
		"X-Forwarded-For": "203.0.113.7",
		"accept":          "text/html",
		"Accept":          "application/json",
	}}
	tests := []struct{ name, want string }{
		{"Content-Type", "application/json"},
		{"CONTENT-TYPE", "application/json"},
		{"x-forwarded-for", "203.0.113.7"},
		{"Accept", "application/json,text/html"}, // both cases, in a fixed order
		{"Idempotency-Key", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Header(req, tt.name); got != tt.want {
				t.Errorf("Header(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestWantsJSON(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"application/json", true},
		{"Application/JSON", true},
		{"application/json; charset=utf-8", true},
		{"application/problem+json", true},
		{"*/json", true},
		{"text/html, application/json", true},
		{"text/html;q=0.5, application/json", true},
		{"application/json;q=0.9, text/html", false},
		{"application/json;q=0", false},
		{"application/json;q=nan", false},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", false},
		{"*/*", false},
		{"", false},
		{"text/plain", false},
		{"garbage", false},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			req := events.APIGatewayV2HTTPRequest{Headers: map[string]string{"ACCEPT": tt.accept}}
			if got := WantsJSON(req); got != tt.want {
				t.Errorf("WantsJSON(%q) = %v, want %v", tt.accept, got, tt.want)
			}
		})
	}
}

func TestFormatString(t *testing.T) {
	got := []string{Format(0).String(), FormatJSON.String(), FormatForm.String()}
	if want := []string{"unknown", "json", "form"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
