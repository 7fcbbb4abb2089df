package intake

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// fakeSecretsManager answers GetSecretValue like Secrets Manager's JSON
// API, on loopback, from secrets (name to the answer's fields, or to a
// status and error type when the value is a fault). It counts the calls
// and checks each is a signed GetSecretValue.
type fakeSecretsManager struct {
	*httptest.Server
	calls atomic.Int32
}

// secretAnswer is one secret's answer: fields of the response, or a fault.
type secretAnswer struct {
	fields    map[string]any
	status    int    // for a fault
	errorType string // for a fault
}

func newFakeSecretsManager(t *testing.T, secrets map[string]secretAnswer) *fakeSecretsManager {
	t.Helper()
	f := &fakeSecretsManager{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		if target := r.Header.Get("X-Amz-Target"); r.Method != http.MethodPost || target != "secretsmanager.GetSecretValue" {
			t.Errorf("fake Secrets Manager: %s %s, want POST secretsmanager.GetSecretValue", r.Method, target)
		}
		if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !strings.Contains(auth, "/secretsmanager/aws4_request") {
			t.Errorf("fake Secrets Manager: request not signed for secretsmanager: %q", auth)
		}
		var in struct{ SecretId string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			t.Errorf("fake Secrets Manager: body: %v", err)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		a, ok := secrets[in.SecretId]
		if !ok {
			a = secretAnswer{status: 400, errorType: "ResourceNotFoundException"}
		}
		if a.errorType != "" {
			w.WriteHeader(a.status)
			json.NewEncoder(w).Encode(map[string]string{"__type": a.errorType, "Message": "fake " + a.errorType})
			return
		}
		out := map[string]any{"Name": in.SecretId, "VersionId": "v1",
			"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + in.SecretId + "-AbCdEf"}
		for k, v := range a.fields {
			out[k] = v
		}
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(f.Close)
	return f
}

// closedURL is the URL of a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

// TestTurnstileSecretFromSecretsManager: with TURNSTILE_SECRET_NAME, New
// reads the key once, through the real SDK client signed with the
// function's credentials, and the check uses it for every request.
func TestTurnstileSecretFromSecretsManager(t *testing.T) {
	tbl := dynamotest.New(t)
	verify := fakeSiteverify(t, "current-secret")
	sm := newFakeSecretsManager(t, map[string]secretAnswer{
		"leadpipe/turnstile": {fields: map[string]any{"SecretString": "current-secret\n"}},
	})
	cfg, err := ConfigFromEnv(env(map[string]string{"LEADS_TABLE": tbl.Name, "AWS_ENDPOINT_URL_DYNAMODB": tbl.Emulator.Endpoint,
		"TURNSTILE_SECRET_NAME": "leadpipe/turnstile", "AWS_ENDPOINT_URL_SECRETS_MANAGER": sm.URL,
		"TURNSTILE_VERIFY_URL": verify.URL, "ALLOWED_ORIGINS": "https://www.clinic.example", "TURNSTILE_ACTION": "consultation",
		// Were the service's own variable ignored, calls would go here
		// (nothing listens), never to AWS.
		"AWS_ENDPOINT_URL": closedURL(t)}))
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(cfg, func() lead.Form { return new(lead.Consultation) })
	if err != nil {
		t.Fatal(err)
	}
	if n := sm.calls.Load(); n != 1 {
		t.Fatalf("GetSecretValue calls at start = %d, want 1", n)
	}
	for i, tt := range []struct {
		token  string
		status int
	}{{"good", 201}, {"bad", 403}, {"", 403}} {
		req := loadEvent(t, "consultation-json.json")
		req.Headers["idempotency-key"] = "secret-name-" + string(rune('a'+i))
		if tt.token != "" {
			req.Body = strings.Replace(req.Body, `"consentToContact"`, `"cf-turnstile-response": "`+tt.token+`", "consentToContact"`, 1)
		}
		resp, err := h.Handle(context.Background(), req)
		if err != nil || resp.StatusCode != tt.status {
			t.Errorf("token %q: got %d %s %v, want %d", tt.token, resp.StatusCode, resp.Body, err, tt.status)
		}
	}
	if n := sm.calls.Load(); n != 1 {
		t.Errorf("GetSecretValue calls after 3 requests = %d, want still 1 (read once at start)", n)
	}
}

// TestTurnstileSecretNameFaultsStopStart: a secret that cannot be read,
// or holds something other than the key, stops the function at start
// with an error naming the variable, never the value.
func TestTurnstileSecretNameFaultsStopStart(t *testing.T) {
	const value = "MKsecretvalue"
	sm := newFakeSecretsManager(t, map[string]secretAnswer{
		"denied":   {status: 400, errorType: "AccessDeniedException"},
		"failing":  {status: 500, errorType: "InternalServiceError"},
		"binary":   {fields: map[string]any{"SecretBinary": "TUtzZWNyZXR2YWx1ZQ=="}},
		"empty":    {fields: map[string]any{"SecretString": " \n"}},
		"json":     {fields: map[string]any{"SecretString": `{"turnstile":"` + value + `"}`}},
		"disabled": {status: 400, errorType: "InvalidRequestException"},
	})
	down := closedURL(t)
	for _, tt := range []struct{ name, endpoint, want string }{
		{"missing", sm.URL, "ResourceNotFoundException"},
		{"denied", sm.URL, "AccessDeniedException"},
		{"failing", sm.URL, "InternalServiceError"},
		{"disabled", sm.URL, "InvalidRequestException"},
		{"binary", sm.URL, "binary"},
		{"empty", sm.URL, "empty"},
		{"json", sm.URL, "JSON"},
		{"unreachable", down, "read secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ConfigFromEnv(env(map[string]string{"TURNSTILE_SECRET_NAME": tt.name,
				"AWS_ENDPOINT_URL_SECRETS_MANAGER": tt.endpoint, "AWS_ENDPOINT_URL": down}))
			if err != nil {
				t.Fatal(err)
			}
			h, err := New(cfg, func() lead.Form { return new(lead.Contact) })
			if err == nil || h != nil {
				t.Fatalf("New = %v, %v; want a start-up error", h, err)
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.HasPrefix(msg, "TURNSTILE_SECRET_NAME: ") || !strings.Contains(msg, tt.want) || !strings.Contains(msg, `"`+tt.name+`"`) {
				t.Errorf("error %q: want it to start with the variable, name the secret and say %q", msg, tt.want)
			}
			if strings.Contains(msg, value) {
				t.Errorf("error %q holds the secret's value", msg)
			}
		})
	}
}

func TestTurnstileSecretNameSettings(t *testing.T) {
	c, err := ConfigFromEnv(env(map[string]string{"TURNSTILE_SECRET_NAME": " leadpipe/turnstile ", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:4566"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.TurnstileSecretName != "leadpipe/turnstile" || c.TurnstileSecret != "" {
		t.Errorf("config = %q, %q; want the name and no key", c.TurnstileSecretName, c.TurnstileSecret)
	}
	if got := c.AWS.Endpoint("Secrets Manager"); got == nil || *got != "http://127.0.0.1:4566" {
		t.Errorf("Secrets Manager endpoint = %v, want AWS_ENDPOINT_URL_SECRETS_MANAGER", got)
	}
	if c, err := ConfigFromEnv(env(map[string]string{"TURNSTILE_SECRET_NAME": "arn:aws:secretsmanager:us-east-1:123456789012:secret:leadpipe/turnstile-AbCdEf"})); err != nil || c.TurnstileSecretName == "" {
		t.Errorf("an ARN: %v", err)
	}
	for _, tt := range []struct {
		vars map[string]string
		want []string // in the error
	}{
		{map[string]string{"TURNSTILE_SECRET_NAME": "leadpipe turnstile"}, []string{"TURNSTILE_SECRET_NAME"}},
		{map[string]string{"TURNSTILE_SECRET_NAME": "leadpipe/*"}, []string{"TURNSTILE_SECRET_NAME"}},
		{map[string]string{"TURNSTILE_SECRET_NAME": "leadpipe/turnstile", "TURNSTILE_SECRET": "MKkey"}, []string{"TURNSTILE_SECRET ", "TURNSTILE_SECRET_NAME"}},
		{map[string]string{"TURNSTILE_SECRET_NAME": "leadpipe/turnstile", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "127.0.0.1:4566"}, []string{"AWS_ENDPOINT_URL_SECRETS_MANAGER"}},
	} {
		_, err := ConfigFromEnv(env(tt.vars))
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: ConfigFromEnv = %v, want an error naming %s", tt.vars, err, w)
			}
		}
		if err != nil && strings.Contains(err.Error(), "MKkey") {
			t.Errorf("error %q holds the key", err)
		}
	}
}
