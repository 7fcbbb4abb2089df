package turnstile

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/lead"
)

// Cloudflare's documented test secrets, and the answers siteverify gives
// for them (developers.cloudflare.com/turnstile/troubleshooting/testing).
const (
	alwaysPasses = "1x0000000000000000000000000000000AA"
	alwaysFails  = "2x0000000000000000000000000000000AA"
	tokenSpent   = "3x0000000000000000000000000000000AA"
	dummyToken   = "XXXX.DUMMY.TOKEN.XXXX"
)

// fakeSiteverify answers like Cloudflare does for its test secrets, on
// loopback. It records what it was sent.
func fakeSiteverify(t *testing.T, got *http.Request) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("fake siteverify: %v", err)
		}
		*got = *r
		w.Header().Set("Content-Type", "application/json")
		switch r.PostForm.Get("secret") {
		case alwaysPasses:
			json.NewEncoder(w).Encode(map[string]any{"success": true, "error-codes": []string{}, "challenge_ts": "2026-11-28T14:03:21.000Z", "hostname": "example.com", "action": ""})
		case "passes-for-login":
			json.NewEncoder(w).Encode(map[string]any{"success": true, "error-codes": []string{}, "hostname": "www.clinic.example", "action": "login"})
		case alwaysFails:
			json.NewEncoder(w).Encode(map[string]any{"success": false, "error-codes": []string{"invalid-input-response"}})
		case tokenSpent:
			json.NewEncoder(w).Encode(map[string]any{"success": false, "error-codes": []string{"timeout-or-duplicate"}})
		case "hang":
			<-r.Context().Done()
		case "html":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>gateway error</html>"))
		case "500":
			w.WriteHeader(500)
		case "":
			json.NewEncoder(w).Encode(map[string]any{"success": false, "error-codes": []string{"missing-input-secret"}})
		case "garbled":
			json.NewEncoder(w).Encode(map[string]any{"success": false, "error-codes": []string{"bad-request"}})
		case "cloudflare-down":
			json.NewEncoder(w).Encode(map[string]any{"success": false, "error-codes": []string{"internal-error"}})
		case "rotated-and-bad-token":
			json.NewEncoder(w).Encode(map[string]any{"success": false, "error-codes": []string{"invalid-input-response", "invalid-input-secret"}})
		default:
			json.NewEncoder(w).Encode(map[string]any{"success": false, "error-codes": []string{"invalid-input-secret"}})
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestVerify(t *testing.T) {
	var sent http.Request
	srv := fakeSiteverify(t, &sent)
	tests := []struct {
		name, secret, token string
		hostnames           []string
		action              string
		want                lead.Code // "" means accepted
		misconfigured       bool      // the error wraps ErrMisconfigured
	}{
		{name: "always passes", secret: alwaysPasses, token: dummyToken},
		{name: "always fails", secret: alwaysFails, token: dummyToken, want: lead.CodeVerificationFailed},
		{name: "token already spent", secret: tokenSpent, token: dummyToken, want: lead.CodeVerificationFailed},
		{name: "missing token", secret: alwaysPasses, want: lead.CodeVerificationFailed},
		{name: "token too long", secret: alwaysPasses, token: string(make([]byte, 2049)), want: lead.CodeVerificationFailed},
		{name: "verifier hangs", secret: "hang", token: dummyToken, want: lead.CodeUnavailable},
		{name: "verifier answers HTML", secret: "html", token: dummyToken, want: lead.CodeUnavailable},
		{name: "verifier fails", secret: "500", token: dummyToken, want: lead.CodeUnavailable},

		// Faults of the secret or of Cloudflare: nobody could pass, so
		// they are ours to fix (503), not the visitor's (403).
		{name: "wrong or rotated secret", secret: "not-the-secret", token: dummyToken, want: lead.CodeUnavailable, misconfigured: true},
		{name: "no secret", secret: "", token: dummyToken, want: lead.CodeUnavailable, misconfigured: true},
		{name: "bad request", secret: "garbled", token: dummyToken, want: lead.CodeUnavailable, misconfigured: true},
		{name: "siteverify internal error", secret: "cloudflare-down", token: dummyToken, want: lead.CodeUnavailable, misconfigured: true},
		{name: "secret fault beside a bad token", secret: "rotated-and-bad-token", token: dummyToken, want: lead.CodeUnavailable, misconfigured: true},

		// Where and for what the token was solved.
		{name: "hostname allowed", secret: alwaysPasses, token: dummyToken, hostnames: []string{"www.clinic.example", "example.com"}},
		{name: "hostname of another site", secret: alwaysPasses, token: dummyToken, hostnames: []string{"www.clinic.example"}, want: lead.CodeVerificationFailed},
		{name: "action matches", secret: "passes-for-login", token: dummyToken, hostnames: []string{"www.clinic.example"}, action: "login"},
		{name: "action of another widget", secret: "passes-for-login", token: dummyToken, action: "consultation", want: lead.CodeVerificationFailed},
		{name: "action required, none given", secret: alwaysPasses, token: dummyToken, action: "consultation", want: lead.CodeVerificationFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verifier{Secret: tt.secret, URL: srv.URL, Client: srv.Client(), Timeout: 200 * time.Millisecond,
				Hostnames: tt.hostnames, Action: tt.action}
			start := time.Now()
			err := v.Verify(context.Background(), tt.token, "203.0.113.7")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want accepted", err)
				}
				if sent.PostForm.Get("response") != tt.token || sent.PostForm.Get("remoteip") != "203.0.113.7" {
					t.Errorf("sent %v, want the token and the client IP", sent.PostForm)
				}
				return
			}
			if got := lead.ErrorCode(err); got != tt.want {
				t.Fatalf("Verify = %v (code %s), want code %s", err, got, tt.want)
			}
			if got := errors.Is(err, ErrMisconfigured); got != tt.misconfigured {
				t.Errorf("errors.Is(%v, ErrMisconfigured) = %v, want %v", err, got, tt.misconfigured)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v, want the timeout to cut it short", d)
			}
		})
	}
}

// TestFaultNamesCloudflaresCodes: the log line ops read says which code
// siteverify gave, so a rotated secret is told from Cloudflare's outage.
func TestFaultNamesCloudflaresCodes(t *testing.T) {
	var sent http.Request
	srv := fakeSiteverify(t, &sent)
	v := &Verifier{Secret: "not-the-secret", URL: srv.URL, Client: srv.Client(), Timeout: time.Second}
	err := v.Verify(context.Background(), dummyToken, "")
	if err == nil || !strings.Contains(err.Error(), "invalid-input-secret") {
		t.Fatalf("Verify = %v, want an error naming invalid-input-secret", err)
	}
	if strings.Contains(err.Error(), dummyToken) || strings.Contains(err.Error(), "not-the-secret") {
		t.Errorf("error %q holds the token or the secret", err)
	}
}

func TestCheckURL(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{SiteverifyURL, true},
		{"https://verify.internal.example/siteverify", true},
		{"http://127.0.0.1:8787/siteverify", true},
		{"http://localhost:8787/siteverify", true},
		{"http://[::1]:8787/", true},
		{"http://challenges.cloudflare.com/turnstile/v0/siteverify", false}, // the secret in the clear
		{"http://10.0.0.5/siteverify", false},
		{"ftp://127.0.0.1/", false},
		{"challenges.cloudflare.com/turnstile/v0/siteverify", false},
		{"/siteverify", false},
		{"https://user:pw@challenges.cloudflare.com/", false},
		{"https://", false},
		{"", false},
	} {
		t.Run(tt.url, func(t *testing.T) {
			if err := CheckURL(tt.url); (err == nil) != tt.ok {
				t.Errorf("CheckURL(%q) = %v, want ok %v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestVerifierDownFailsClosed(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now: connection refused
	v := &Verifier{Secret: alwaysPasses, URL: url, Client: http.DefaultClient, Timeout: time.Second}
	if got := lead.ErrorCode(v.Verify(context.Background(), dummyToken, "")); got != lead.CodeUnavailable {
		t.Fatalf("code = %s, want unavailable (rejected)", got)
	}
}
