package intake

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// memStore is a tiny in-memory lead.Store for the fuzz target.
type memStore struct {
	mu     sync.Mutex
	claims map[string]lead.Claim
	leads  map[string]lead.Lead
}

func (m *memStore) Claim(_ context.Context, c lead.Claim) (lead.Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if held, ok := m.claims[c.Key]; ok {
		return held, nil
	}
	m.claims[c.Key] = c
	return c, nil
}

func (m *memStore) HeldClaim(_ context.Context, key string, _ time.Time) (lead.Claim, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	held, ok := m.claims[key]
	return held, ok, nil
}

func (m *memStore) Put(_ context.Context, l lead.Lead) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.leads[l.ID]; ok {
		return lead.ErrLeadExists
	}
	m.leads[l.ID] = l
	return nil
}

// FuzzHandle: whatever arrives, the handler answers (never a Lambda error,
// never a 5xx while the store is healthy), and whatever it stores
// validates again.
func FuzzHandle(f *testing.F) {
	for _, seed := range []struct {
		body, contentType string
		b64               bool
	}{
		{`{"name":"Ann","email":"ann@example.com","message":"hi"}`, "application/json", false},
		{`{"name":"Ann","email":"ann@example.com","message":"hi","preferredContact":"text","smsConsent":true}`, "application/json", false},
		{`{"name":"Ann\u2028","email":"ann@example.com","message":"hi"}`, "application/json", false},
		{`{"name":"Ann","EMAIL":"ann@example.com","message":"hi"}`, "application/json", false},
		{`{"name":"Ann","name":"Bob","email":"ann@example.com","message":"hi"}`, "application/json", false},
		{`{"name":"<script>","email":"\"<script>\"@x.com","message":"{{.}}"}`, "application/json", false},
		{"name=Ann&email=ann%40example.com&message=hi&smsConsent=on", "application/x-www-form-urlencoded", false},
		{base64.StdEncoding.EncodeToString([]byte("name=Ann&email=ann%40example.com&message=hi")), "application/x-www-form-urlencoded", true},
		{"name=Ann;email=x", "application/x-www-form-urlencoded", false},
		{"%zz", "application/x-www-form-urlencoded; charset=latin1", false},
		{"\xef\xbb\xbf{}", "application/json", false},
		{"null", "application/json", false},
		{`{"name":"A","email":"a@b.co","message":"m","website":"x"}`, "Application/JSON; charset=UTF-8", false},
	} {
		f.Add(seed.body, seed.contentType, seed.b64)
	}
	store := &memStore{claims: map[string]lead.Claim{}, leads: map[string]lead.Lead{}}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	validator := lead.NewValidator(func() time.Time { return now })
	h := &Handler{
		Service: &lead.Service{Store: store, Validator: validator, Retention: time.Hour, SpamRetention: time.Hour,
			Now: func() time.Time { return now }, NewID: lead.NewID},
		NewForm: func() lead.Form { return new(lead.Contact) },
		Log:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	f.Fuzz(func(t *testing.T, body, contentType string, b64 bool) {
		req := events.APIGatewayV2HTTPRequest{
			RouteKey: "POST /contact", Body: body, IsBase64Encoded: b64,
			Headers: map[string]string{"content-type": contentType, "accept": "application/json"},
		}
		resp, err := h.Handle(context.Background(), req)
		if err != nil {
			t.Fatalf("Handle returned error %v", err)
		}
		switch {
		case resp.StatusCode == 201:
		case resp.StatusCode >= 400 && resp.StatusCode < 500:
			return
		default:
			t.Fatalf("status %d for %q (%s): want 201 or a 4xx", resp.StatusCode, body, contentType)
		}
		store.mu.Lock()
		defer store.mu.Unlock()
		for id, l := range store.leads {
			c := *l.Contact
			if err := validator.Validate(&c); err != nil {
				t.Fatalf("stored lead %s does not validate: %v", id, err)
			}
		}
	})
}
