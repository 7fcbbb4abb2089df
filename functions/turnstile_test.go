package functions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
)

// TestTurnstileSecretNameAtStart runs the contact binary as deployed with
// TURNSTILE_SECRET_NAME and a loopback Secrets Manager: it reads the key
// once at start with the function's AWS settings, and the check is on; a
// secret it may not read stops it at start, naming the variable.
func TestTurnstileSecretNameAtStart(t *testing.T) {
	rieBin := rie(t)
	bins := bootstraps(t)
	const key = "MKturnstilekey"
	var calls atomic.Int32
	sm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var in struct{ SecretId string }
		json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || in.SecretId != "leadpipe/turnstile" {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"__type": "AccessDeniedException", "Message": "not allowed"})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"Name": in.SecretId, "SecretString": key})
	}))
	t.Cleanup(sm.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // nothing listens: neither DynamoDB nor siteverify is reached

	for _, tt := range []struct {
		name, secret string
		started      bool
	}{
		{"readable", "leadpipe/turnstile", true},
		{"denied", "another/secret", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls.Store(0)
			env := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_LAMBDA_FUNCTION_TIMEOUT=10",
				"LEADS_TABLE=leads", "AWS_ENDPOINT_URL=" + closed.URL, "TURNSTILE_VERIFY_URL=" + closed.URL,
				"TURNSTILE_SECRET_NAME=" + tt.secret, "AWS_ENDPOINT_URL_SECRETS_MANAGER=" + sm.URL}
			logs := &awstest.Buffer{}
			emu := awstest.RIE(t, localaws.RIEOptions{Binary: bins["contact"], RIEPath: rieBin, Env: env, Log: logs})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := emu.Invoke(ctx, loadEvent(t, "contact-json.json"))
			if tt.started {
				// The sample has no Turnstile token: refused before any write.
				if err != nil || !bytes.Contains(out, []byte(`"statusCode":403`)) || !bytes.Contains(out, []byte("verification_failed")) {
					t.Errorf("invocation = %s, %v; want 403 verification_failed", out, err)
				}
				if _, err := emu.Invoke(ctx, loadEvent(t, "contact-json.json")); err != nil {
					t.Fatal(err)
				}
				if n := calls.Load(); n != 1 {
					t.Errorf("GetSecretValue calls after two invocations = %d, want 1 (at start)", n)
				}
				return
			}
			if err == nil && !bytes.Contains(out, []byte(`"errorType"`)) {
				t.Errorf("invocation answered %s, want a failed start", out)
			}
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(logs.String(), "TURNSTILE_SECRET_NAME") && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			got := logs.String()
			if !strings.Contains(got, "start-up failed") || !strings.Contains(got, "TURNSTILE_SECRET_NAME") || !strings.Contains(got, "AccessDeniedException") {
				t.Errorf("function output does not name TURNSTILE_SECRET_NAME and the refusal:\n%s", got)
			}
			if strings.Contains(got, key) {
				t.Errorf("function output holds the key:\n%s", got)
			}
		})
	}
}
