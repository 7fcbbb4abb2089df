package turnstile

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
			json.NewEncoder(w).Encode(map[string]any{"success": true, "error-codes": []string{}, "challenge_ts": "2026-11-28T14:03:21.000Z", "hostname": "example.com"})
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
		want                lead.Code // "" means accepted
	}{
		{"always passes", alwaysPasses, dummyToken, ""},
		{"always fails", alwaysFails, dummyToken, lead.CodeVerificationFailed},
		{"token already spent", tokenSpent, dummyToken, lead.CodeVerificationFailed},
		{"missing token", alwaysPasses, "", lead.CodeVerificationFailed},
		{"token too long", alwaysPasses, string(make([]byte, 2049)), lead.CodeVerificationFailed},
		{"verifier hangs", "hang", dummyToken, lead.CodeUnavailable},
		{"verifier answers HTML", "html", dummyToken, lead.CodeUnavailable},
		{"verifier fails", "500", dummyToken, lead.CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verifier{Secret: tt.secret, URL: srv.URL, Client: srv.Client(), Timeout: 200 * time.Millisecond}
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
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v, want the timeout to cut it short", d)
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
