package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/clinicleads/leadpipe/internal/lead"
)

func TestError(t *testing.T) {
	internalBody := `{"error":"internal","message":"something went wrong on our side; please try again, or call the clinic","requestId":"req-1"}`
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantBody   string
		retryAfter string
	}{
		{
			name:       "malformed",
			err:        lead.Errorf(lead.CodeMalformed, "the form is not valid JSON"),
			wantStatus: 400,
			wantBody:   `{"error":"malformed_body","message":"the form is not valid JSON"}`,
		},
		{
			name:       "unknown field",
			err:        &lead.Error{Code: lead.CodeUnknownField, Field: "EMAIL", Message: "unknown"},
			wantStatus: 400,
			wantBody:   `{"error":"unknown_field","field":"EMAIL","message":"unknown"}`,
		},
		{
			name:       "unknown field with markup",
			err:        &lead.Error{Code: lead.CodeUnknownField, Field: "<img src=x>", Message: "unknown"},
			wantStatus: 400,
			wantBody:   `{"error":"unknown_field","field":"(unnamed)","message":"unknown"}`,
		},
		{
			name:       "unknown field too long",
			err:        &lead.Error{Code: lead.CodeUnknownField, Field: strings.Repeat("a", 65), Message: "unknown"},
			wantStatus: 400,
			wantBody:   `{"error":"unknown_field","field":"(unnamed)","message":"unknown"}`,
		},
		{
			name:       "unknown field without a name",
			err:        &lead.Error{Code: lead.CodeUnknownField, Message: "unknown"},
			wantStatus: 400,
			wantBody:   `{"error":"unknown_field","field":"(unnamed)","message":"unknown"}`,
		},
		{
			name:       "stale version names the current one",
			err:        &lead.Error{Code: lead.CodeStaleVersion, Version: 7},
			wantStatus: 412,
			wantBody:   `{"error":"stale_version","message":"someone else changed this lead; reload it and try again","version":7}`,
		},
		{
			name:       "too large",
			err:        lead.Errorf(lead.CodeTooLarge, "too large"),
			wantStatus: 413,
			wantBody:   `{"error":"body_too_large","message":"too large"}`,
		},
		{
			name:       "unsupported media",
			err:        unsupportedMedia(nil),
			wantStatus: 415,
			wantBody:   `{"error":"unsupported_media_type","message":"` + mediaMessage + `"}`,
		},
		{
			name: "invalid",
			err: &lead.Error{Code: lead.CodeInvalid, Message: "some answers need another look",
				Fields: []lead.FieldError{{Field: "email", Message: "must be a valid email address"}}},
			wantStatus: 422,
			wantBody:   `{"error":"validation_failed","message":"some answers need another look","fields":[{"field":"email","message":"must be a valid email address"}]}`,
		},
		{
			name:       "invalid without fields still lists them",
			err:        &lead.Error{Code: lead.CodeInvalid, Message: "look again"},
			wantStatus: 422,
			wantBody:   `{"error":"validation_failed","message":"look again","fields":[]}`,
		},
		{
			name:       "idempotency key reused",
			err:        lead.Errorf(lead.CodeIdempotencyReused, "used"),
			wantStatus: 422,
			wantBody:   `{"error":"idempotency_key_reused","message":"used"}`,
		},
		{
			name:       "verification failed",
			err:        lead.Errorf(lead.CodeVerificationFailed, "not verified"),
			wantStatus: 403,
			wantBody:   `{"error":"verification_failed","message":"not verified"}`,
		},
		{
			name:       "unavailable, wrapped",
			err:        fmt.Errorf("put lead: %w", lead.Unavailable(errors.New("throttled"))),
			wantStatus: 503,
			wantBody:   `{"error":"unavailable","message":"we could not save your request just now; please try again in a moment"}`,
			retryAfter: "5",
		},
		{
			name:       "unavailable without a message gets a kind one",
			err:        &lead.Error{Code: lead.CodeUnavailable},
			wantStatus: 503,
			wantBody:   `{"error":"unavailable","message":"we could not save your request just now; please try again in a moment"}`,
			retryAfter: "5",
		},
		{name: "plain error", err: errors.New("dynamodb: access denied"), wantStatus: 500, wantBody: internalBody},
		{name: "internal code", err: &lead.Error{Code: lead.CodeInternal, Message: "table missing"}, wantStatus: 500, wantBody: internalBody},
		{name: "unknown code", err: &lead.Error{Code: "teapot", Message: "short and stout"}, wantStatus: 500, wantBody: internalBody},
		{name: "nil", err: nil, wantStatus: 500, wantBody: internalBody},
		{name: "typed nil", err: (*lead.Error)(nil), wantStatus: 500, wantBody: internalBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := Error(tt.err, "req-1")
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if resp.Body != tt.wantBody {
				t.Errorf("body:\ngot  %s\nwant %s", resp.Body, tt.wantBody)
			}
			if got := resp.Headers["Retry-After"]; got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			if got := resp.Headers["Content-Type"]; got != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", got)
			}
		})
	}
}

// TestErrorNeverEchoes puts a marker in submitted values, keys, headers and
// internal errors, and checks that neither the response nor the error text
// (which may be logged) carries it.
func TestErrorNeverEchoes(t *testing.T) {
	const marker = "SECRET.7f3a"
	decodeErr := func(contentType, body string) error {
		var form lead.Consultation
		_, err := Decode(request(contentType, body), &form)
		if err == nil {
			t.Fatalf("Decode(%q) succeeded", body)
		}
		return err
	}
	// Decode's errors may be logged whole, so their text must be clean too.
	decoded := map[string]error{
		"json duplicate":      decodeErr(ctJSON, `{"firstName":"`+marker+`","firstName":"`+marker+`"}`),
		"json unknown key":    decodeErr(ctJSON, `{"`+marker+`":"`+marker+`"}`),
		"json NUL":            decodeErr(ctJSON, `{"firstName":"`+marker+`\u0000"}`),
		"json surrogate":      decodeErr(ctJSON, `{"firstName":"`+marker+`\ud800"}`),
		"json wrong type":     decodeErr(ctJSON, `{"inCrisis":"`+marker+`"}`),
		"json syntax":         decodeErr(ctJSON, `{"firstName":"`+marker+`" `+marker+`}`),
		"json bare word":      decodeErr(ctJSON, marker),
		"json trailing":       decodeErr(ctJSON, `{} `+marker),
		"form duplicate":      decodeErr(ctForm, "firstName="+marker+"&firstName="+marker),
		"form unknown key":    decodeErr(ctForm, marker+"="+marker),
		"form bad bool":       decodeErr(ctForm, "inCrisis="+marker),
		"form bad escape":     decodeErr(ctForm, "firstName="+marker+"%zz"),
		"form semicolon":      decodeErr(ctForm, "firstName="+marker+";x=1"),
		"form NUL":            decodeErr(ctForm, "firstName="+marker+"%00"),
		"content type":        decodeErr("text/"+marker, "{}"),
		"content type params": decodeErr("application/json; charset="+marker, "{}"),
	}
	// Errors from elsewhere carry the marker in their causes, for logs.
	other := map[string]error{
		"wrapped internal":    fmt.Errorf("put lead %s: %w", marker, errors.New(marker)),
		"internal lead error": &lead.Error{Code: lead.CodeInternal, Message: marker, Err: errors.New(marker)},
		"unavailable cause":   lead.Unavailable(errors.New(marker)),
	}
	check := func(t *testing.T, err error) {
		resp := Error(err, "req-1")
		if strings.Contains(resp.Body, marker) {
			t.Errorf("body echoes the marker: %s", resp.Body)
		}
		for k, v := range resp.Headers {
			if strings.Contains(v, marker) {
				t.Errorf("header %s echoes the marker: %s", k, v)
			}
		}
		if !json.Valid([]byte(resp.Body)) {
			t.Errorf("body is not JSON: %s", resp.Body)
		}
	}
	for name, err := range decoded {
		t.Run(name, func(t *testing.T) {
			check(t, err)
			if strings.Contains(err.Error(), marker) {
				t.Errorf("error text, which may be logged, echoes the marker: %v", err)
			}
		})
	}
	for name, err := range other {
		t.Run(name, func(t *testing.T) { check(t, err) })
	}
}

func TestSafeFieldName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"email", "email"},
		{"cf-turnstile-response", "cf-turnstile-response"},
		{"utm_source2", "utm_source2"},
		{strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{strings.Repeat("a", 65), "(unnamed)"},
		{"", "(unnamed)"},
		{"e mail", "(unnamed)"},
		{"e.mail", "(unnamed)"},
		{"email\n", "(unnamed)"},
		{"émail", "(unnamed)"},
		{`"}`, "(unnamed)"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := safeFieldName(tt.in); got != tt.want {
				t.Errorf("safeFieldName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestErrorPage: a page answer keeps Error's status, body and headers; only
// the representation changes, and it is the caller's page.
func TestErrorPage(t *testing.T) {
	for _, err := range []error{
		&lead.Error{Code: lead.CodeInvalid, Message: "look again", Fields: []lead.FieldError{{Field: "email", Message: "bad"}}},
		lead.Unavailable(errors.New("dynamodb down")),
		errors.New("boom"),
	} {
		asJSON := Error(err, "req-1")
		var got ErrorBody
		resp := ErrorPage(err, "req-1", func(b ErrorBody) string {
			got = b
			return "<p>page</p>"
		})
		var want ErrorBody
		if e := json.Unmarshal([]byte(asJSON.Body), &want); e != nil {
			t.Fatal(e)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%v: page got body %+v, want the JSON answer's %+v", err, got, want)
		}
		if resp.StatusCode != asJSON.StatusCode || resp.Body != "<p>page</p>" || resp.Headers["Retry-After"] != asJSON.Headers["Retry-After"] {
			t.Errorf("%v: got %d %q Retry-After %q, want %d and the page", err, resp.StatusCode, resp.Body, resp.Headers["Retry-After"], asJSON.StatusCode)
		}
		checkCommonHeaders(t, resp, "text/html; charset=utf-8")
		if resp.Headers["Content-Security-Policy"] == "" {
			t.Errorf("%v: page without a Content-Security-Policy", err)
		}
	}
}
