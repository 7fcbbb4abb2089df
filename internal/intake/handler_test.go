package intake

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/metrics"
	"github.com/clinicleads/leadpipe/internal/turnstile"
)

// now is the test clock: events/ hold adults born in 1988.
var now = time.Date(2026, 11, 28, 14, 3, 21, 0, time.UTC)

type fixture struct {
	tbl          *dynamotest.Table
	store        *dynamo.Store
	contact      *Handler
	consultation *Handler
	logs         *bytes.Buffer
	metrics      *bytes.Buffer // EMF lines, published by Stack testStack too
}

// testStack is the STACK_NAME the fixture's metrics carry.
const testStack = "leadpipe-test"

func newFixture(t *testing.T, thankYouURL string) *fixture {
	t.Helper()
	tbl := dynamotest.New(t)
	store := dynamo.New(tbl.Client, tbl.Name)
	logs := &bytes.Buffer{}
	svc := &lead.Service{
		Store: store, Validator: lead.NewValidator(func() time.Time { return now }),
		Retention: 365 * 24 * time.Hour, SpamRetention: 7 * 24 * time.Hour,
		Now: func() time.Time { return now }, NewID: lead.NewID,
	}
	log := slog.New(slog.NewJSONHandler(io.MultiWriter(logs, debugLog()), nil))
	m := &bytes.Buffer{}
	counter := &metrics.Counter{W: m, Stack: testStack, Now: func() time.Time { return now }, Log: log}
	return &fixture{
		tbl: tbl, store: store, logs: logs, metrics: m,
		contact:      &Handler{Service: svc, NewForm: func() lead.Form { return new(lead.Contact) }, ThankYouURL: thankYouURL, Log: log, Metrics: counter},
		consultation: &Handler{Service: svc, NewForm: func() lead.Form { return new(lead.Consultation) }, ThankYouURL: thankYouURL, Log: log, Metrics: counter},
	}
}

func (f *fixture) handler(req events.APIGatewayV2HTTPRequest) *Handler {
	if strings.Contains(req.RouteKey, "consultations") {
		return f.consultation
	}
	return f.contact
}

func (f *fixture) do(t *testing.T, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := f.handler(req).Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned error %v; client and store failures must be responses", err)
	}
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if got := resp.Headers[h]; got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	return resp
}

// loadEvent reads a sample from events/, so the samples cannot rot.
func loadEvent(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

type body struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Error     string `json:"error"`
	Field     string `json:"field"`
	RequestID string `json:"requestId"`
	Fields    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"fields"`
	Crisis *struct {
		Resources []struct {
			Phone string `json:"phone"`
		} `json:"resources"`
	} `json:"crisis"`
}

func parse(t *testing.T, resp events.APIGatewayV2HTTPResponse) body {
	t.Helper()
	if ct := resp.Headers["Content-Type"]; !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON", ct)
	}
	var b body
	if err := json.Unmarshal([]byte(resp.Body), &b); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return b
}

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestJSONSubmissionsAreStored(t *testing.T) {
	f := newFixture(t, "")
	for _, tt := range []struct{ event, wantEmail string }{
		{"contact-json.json", "jordan.avery@example.com"},
		{"consultation-json.json", "sam.rivera@example.com"},
	} {
		t.Run(tt.event, func(t *testing.T) {
			resp := f.do(t, loadEvent(t, tt.event))
			b := parse(t, resp)
			if resp.StatusCode != 201 || b.Status != "received" || !uuidV7.MatchString(b.ID) || b.Crisis != nil {
				t.Fatalf("got %d %+v, want 201 received with a UUIDv7 id and no crisis block", resp.StatusCode, b)
			}
			got, err := f.store.Get(context.Background(), b.ID)
			if err != nil {
				t.Fatalf("stored lead: %v", err)
			}
			if got.Email() != tt.wantEmail || got.Status != lead.StatusNew || !got.CreatedAt.Equal(now) {
				t.Errorf("stored %s %s %v, want %s new %v", got.Email(), got.Status, got.CreatedAt, tt.wantEmail, now)
			}
			if got.Consent.ClientIP != "203.0.113.7" || !strings.HasPrefix(got.Consent.UserAgent, "Mozilla/5.0") || !got.Consent.At.Equal(now) {
				t.Errorf("consent record = %+v, want the request's IP, user agent and time", got.Consent)
			}
			if want := now.Add(365 * 24 * time.Hour); !got.ExpiresAt.Equal(want) {
				t.Errorf("expiresAt = %v, want %v", got.ExpiresAt, want)
			}
			// The same request again (a retry with its Idempotency-Key) is the same lead.
			again := parse(t, f.do(t, loadEvent(t, tt.event)))
			if again.ID != b.ID {
				t.Errorf("retry got id %s, want %s", again.ID, b.ID)
			}
		})
	}
	if n := f.tbl.Count(t, f.tbl.Name, "lead"); n != 2 {
		t.Errorf("leads stored = %d, want 2 (retries store nothing)", n)
	}
}

func TestConsultationDetailsStored(t *testing.T) {
	f := newFixture(t, "")
	b := parse(t, f.do(t, loadEvent(t, "consultation-json.json")))
	got, err := f.store.Get(context.Background(), b.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := got.Consultation
	if c == nil || c.Phone != "+14105550188" || strings.Join(c.Concerns, ",") != "depression,anxiety" ||
		c.State != "MD" || c.CurrentMedications != "Sertraline 100 mg daily" || !c.ConsentToContact || got.Attribution.UTMSource != "newsletter" {
		t.Errorf("stored consultation = %+v", c)
	}
}

func TestPlainFormPosts(t *testing.T) {
	t.Run("redirect to the thank-you page", func(t *testing.T) {
		f := newFixture(t, "https://www.example-clinic.com/thank-you")
		resp := f.do(t, loadEvent(t, "consultation-form.json"))
		if resp.StatusCode != 303 || resp.Headers["Location"] != "https://www.example-clinic.com/thank-you" {
			t.Fatalf("got %d Location %q, want 303 to the configured page", resp.StatusCode, resp.Headers["Location"])
		}
		if n := f.tbl.Count(t, f.tbl.Name, "lead"); n != 1 {
			t.Fatalf("leads stored = %d, want 1", n)
		}
	})
	t.Run("built-in thank-you page", func(t *testing.T) {
		f := newFixture(t, "")
		resp := f.do(t, loadEvent(t, "contact-form.json"))
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Headers["Content-Type"], "text/html") ||
			!strings.Contains(resp.Body, "We received your request") || strings.Contains(resp.Body, "Jordan") {
			t.Fatalf("got %d %q %q", resp.StatusCode, resp.Headers["Content-Type"], resp.Body)
		}
	})
	t.Run("form post that asks for JSON", func(t *testing.T) {
		f := newFixture(t, "https://www.example-clinic.com/thank-you")
		req := loadEvent(t, "consultation-form.json")
		req.Headers["accept"] = "application/json"
		resp := f.do(t, req)
		b := parse(t, resp)
		if resp.StatusCode != 201 || b.ID == "" {
			t.Fatalf("got %d %+v, want 201 with an id", resp.StatusCode, b)
		}
		got, err := f.store.Get(context.Background(), b.ID)
		if err != nil || strings.Join(got.Consultation.Concerns, ",") != "depression,ptsd" || !got.Consultation.AcknowledgedPrivacy {
			t.Errorf("stored = %+v, %v", got.Consultation, err)
		}
	})
}

func TestCrisisResponseCarriesResources(t *testing.T) {
	f := newFixture(t, "")
	resp := f.do(t, loadEvent(t, "consultation-crisis.json"))
	b := parse(t, resp)
	if resp.StatusCode != 201 || b.Crisis == nil || len(b.Crisis.Resources) != 2 ||
		b.Crisis.Resources[0].Phone != "988" || b.Crisis.Resources[1].Phone != "911" {
		t.Fatalf("got %d %s, want 201 with 988 and 911", resp.StatusCode, resp.Body)
	}
}

func TestInvalidSubmissionsListEveryField(t *testing.T) {
	f := newFixture(t, "")
	for _, tt := range []struct {
		event string
		want  []string
	}{
		{"contact-invalid.json", []string{"name", "email", "phone", "message", "smsConsent"}},
		{"consultation-invalid.json", []string{"lastName", "email", "phone", "dateOfBirth", "state", "concerns", "consentToContact", "acknowledgedPrivacy"}},
	} {
		t.Run(tt.event, func(t *testing.T) {
			resp := f.do(t, loadEvent(t, tt.event))
			b := parse(t, resp)
			var got []string
			for _, fe := range b.Fields {
				got = append(got, fe.Field)
			}
			if resp.StatusCode != 422 || b.Error != "validation_failed" || strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("got %d %s fields %v, want 422 validation_failed %v", resp.StatusCode, b.Error, got, tt.want)
			}
		})
	}
	if n := f.tbl.Count(t, f.tbl.Name, "lead"); n != 0 {
		t.Errorf("leads stored = %d, want 0", n)
	}
}

func TestIdempotencyKeyReusedForAnotherBody(t *testing.T) {
	f := newFixture(t, "")
	first := parse(t, f.do(t, loadEvent(t, "contact-json.json")))
	req := loadEvent(t, "contact-json.json")
	req.Body = strings.Replace(req.Body, "insurance", "cost", 1)
	resp := f.do(t, req)
	if b := parse(t, resp); resp.StatusCode != 422 || b.Error != "idempotency_key_reused" || b.ID != "" {
		t.Fatalf("got %d %+v, want 422 idempotency_key_reused", resp.StatusCode, b)
	}
	if first.ID == "" || f.tbl.Count(t, f.tbl.Name, "lead") != 1 {
		t.Error("want exactly the first lead stored")
	}
}

func TestHoneypotLooksLikeSuccessButIsSpam(t *testing.T) {
	f := newFixture(t, "")
	req := loadEvent(t, "contact-json.json")
	req.Body = strings.Replace(req.Body, `"smsConsent": false`, `"smsConsent": false, "website": "http://spam.example"`, 1)
	resp := f.do(t, req)
	b := parse(t, resp)
	if resp.StatusCode != 201 || b.Status != "received" {
		t.Fatalf("got %d %+v, want the same 201 a person gets", resp.StatusCode, b)
	}
	got, err := f.store.Get(context.Background(), b.ID)
	if err != nil || got.Status != lead.StatusSpam || !got.ExpiresAt.Equal(now.Add(7*24*time.Hour)) {
		t.Fatalf("stored = %s expires %v (%v), want spam kept 7 days", got.Status, got.ExpiresAt, err)
	}
	assertMetrics(t, f.metrics, "SpamCaught/contact")
}

func TestTransportErrors(t *testing.T) {
	f := newFixture(t, "")
	for _, tt := range []struct {
		name   string
		mutate func(*events.APIGatewayV2HTTPRequest)
		status int
		code   string
	}{
		{"text/plain", func(r *events.APIGatewayV2HTTPRequest) { r.Headers["content-type"] = "text/plain" }, 415, "unsupported_media_type"},
		{"over 64 KiB", func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"name":"` + strings.Repeat("a", 70_000) + `"}` }, 413, "body_too_large"},
		{"base64 over 64 KiB once decoded", func(r *events.APIGatewayV2HTTPRequest) {
			r.Headers["content-type"] = "application/x-www-form-urlencoded"
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte("message="+strings.Repeat("a", 65_600))), true
		}, 413, "body_too_large"},
		{"bad JSON", func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"name":` }, 400, "malformed_body"},
		{"server-owned field", func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"id":"mine","status":"new"}` }, 400, "unknown_field"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := loadEvent(t, "contact-json.json")
			tt.mutate(&req)
			resp := f.do(t, req)
			if b := parse(t, resp); resp.StatusCode != tt.status || b.Error != tt.code {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, b.Error, tt.status, tt.code)
			}
		})
	}
}

func TestStoreDownAnswers503(t *testing.T) {
	// A DynamoDB endpoint nobody listens on: connections are refused.
	cfg := awstest.Config()
	cfg.Retryer = nil
	down := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:1") })
	logs := &bytes.Buffer{}
	h := &Handler{
		Service: &lead.Service{Store: dynamo.New(down, "leads"), Validator: lead.NewValidator(func() time.Time { return now }),
			Retention: time.Hour, SpamRetention: time.Hour, Now: func() time.Time { return now }, NewID: lead.NewID},
		NewForm: func() lead.Form { return new(lead.Contact) },
		Log:     slog.New(slog.NewJSONHandler(logs, nil)),
	}
	start := time.Now()
	resp, err := h.Handle(context.Background(), loadEvent(t, "contact-json.json"))
	if err != nil {
		t.Fatal(err)
	}
	b := parse(t, resp)
	if resp.StatusCode != 503 || b.Error != "unavailable" || resp.Headers["Retry-After"] == "" {
		t.Fatalf("got %d %+v Retry-After %q, want 503 unavailable with Retry-After", resp.StatusCode, b, resp.Headers["Retry-After"])
	}
	if d := time.Since(start); d > 3*dynamo.DefaultCallTimeout {
		t.Errorf("took %v, want an answer inside the store's time budget", d)
	}
	if strings.Contains(logs.String(), "jordan") || strings.Contains(logs.String(), "Jordan") {
		t.Errorf("logs hold submitted data: %s", logs)
	}
}

func TestTurnstileRejectsBeforeStoring(t *testing.T) {
	var calls atomic.Int32
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		r.ParseForm()
		ok := r.PostForm.Get("response") == "good-token"
		json.NewEncoder(w).Encode(map[string]any{"success": ok, "error-codes": []string{}})
	}))
	defer fake.Close()
	f := newFixture(t, "")
	f.contact.Service.Verifier = &turnstile.Verifier{Secret: "s", URL: fake.URL, Client: fake.Client(), Timeout: time.Second}

	for _, tt := range []struct {
		name, token string
		status      int
	}{
		{"no token", "", 403},
		{"refused token", "bad-token", 403},
		{"good token", "good-token", 201},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := loadEvent(t, "contact-json.json")
			req.Headers["idempotency-key"] = "turnstile-" + strings.ReplaceAll(tt.name, " ", "-")
			if tt.token != "" {
				req.Body = strings.Replace(req.Body, `"smsConsent": false`, `"smsConsent": false, "cf-turnstile-response": "`+tt.token+`"`, 1)
			}
			if resp := f.do(t, req); resp.StatusCode != tt.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, resp.Body, tt.status)
			}
		})
	}
	if n := f.tbl.Count(t, f.tbl.Name, "lead"); n != 1 {
		t.Errorf("leads stored = %d, want only the verified one", n)
	}
	if calls.Load() != 2 {
		t.Errorf("verifier called %d times, want 2 (a missing token is refused without asking)", calls.Load())
	}

	// The retry of the verified submission, whose answer was lost, comes
	// with its spent token: it gets the same lead, not a 403. Other answers
	// under that key still need a good token.
	retry := func(body string) events.APIGatewayV2HTTPResponse {
		req := loadEvent(t, "contact-json.json")
		req.Headers["idempotency-key"] = "turnstile-good-token"
		req.Body = strings.Replace(body, `"smsConsent": false`, `"smsConsent": false, "cf-turnstile-response": "spent-token"`, 1)
		return f.do(t, req)
	}
	base := loadEvent(t, "contact-json.json").Body
	if resp := retry(base); resp.StatusCode != 201 {
		t.Errorf("retry with a spent token: got %d %s, want 201", resp.StatusCode, resp.Body)
	}
	if resp := retry(strings.Replace(base, "insurance", "cost", 1)); resp.StatusCode != 403 {
		t.Errorf("other answers with a spent token: got %d, want 403", resp.StatusCode)
	}
	if n := f.tbl.Count(t, f.tbl.Name, "lead"); n != 1 {
		t.Errorf("leads stored after the retries = %d, want still 1", n)
	}
}

func debugLog() io.Writer {
	if os.Getenv("DEBUG_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

func TestPlainFormPostErrorsArePages(t *testing.T) {
	f := newFixture(t, "https://www.example-clinic.com/thank-you")
	req := loadEvent(t, "contact-form.json")
	req.Body = base64.StdEncoding.EncodeToString([]byte("name=Jordan&email=not-an-address&message=&phone=%3Cscript%3E"))
	resp := f.do(t, req)
	if resp.StatusCode != 422 || !strings.HasPrefix(resp.Headers["Content-Type"], "text/html") {
		t.Fatalf("got %d %q, want a 422 page", resp.StatusCode, resp.Headers["Content-Type"])
	}
	for _, want := range []string{"Some answers need another look", "<strong>Email</strong>: must be a valid email address", "<strong>Message</strong>", "988"} {
		if !strings.Contains(resp.Body, want) {
			t.Errorf("page lacks %q:\n%s", want, resp.Body)
		}
	}
	if strings.Contains(resp.Body, "not-an-address") || strings.Contains(resp.Body, "script") {
		t.Errorf("page echoes submitted values:\n%s", resp.Body)
	}
	// The same post from curl (Accept */*) still gets the JSON contract.
	req.Headers["accept"] = "*/*"
	if b := parse(t, f.do(t, req)); b.Error != "validation_failed" {
		t.Errorf("curl got %+v, want JSON validation_failed", b)
	}
}
