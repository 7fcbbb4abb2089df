package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// emf is the part of an Embedded Metric Format line the tests check.
type emf struct {
	AWS struct {
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
	Kind  string
	Stack string
}

// assertMetrics checks that out holds exactly the counts want, each
// "Name/kind", one per line in order, each published without dimensions,
// by Kind, and by Stack testStack.
func assertMetrics(t *testing.T, out *bytes.Buffer, want ...string) {
	t.Helper()
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if l == "" {
			continue
		}
		var m emf
		var flat map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || json.Unmarshal([]byte(l), &flat) != nil {
			t.Fatalf("metric line is not JSON: %q", l)
		}
		cw := m.AWS.CloudWatchMetrics
		if len(cw) != 1 || cw[0].Namespace != "LeadPipeline" || len(cw[0].Metrics) != 1 || cw[0].Metrics[0].Unit != "Count" {
			t.Fatalf("metric line %s", l)
		}
		name := cw[0].Metrics[0].Name
		wantDims := [][]string{{}, {"Kind"}, {"Stack"}, {"Stack", "Kind"}}
		if !slices.EqualFunc(cw[0].Dimensions, wantDims, slices.Equal) || m.Stack != testStack || flat[name] != 1.0 {
			t.Errorf("metric line %s: want a count of 1 by %v with Stack %q", l, wantDims, testStack)
		}
		got = append(got, name+"/"+m.Kind)
	}
	if !slices.Equal(got, want) {
		t.Errorf("metrics = %v, want %v\n%s", got, want, out)
	}
	out.Reset()
}

// storeFunc is a lead.Store whose calls fail or pass as the test says.
type storeFunc struct {
	lead.Store
	put func(lead.Lead) error
}

func (s storeFunc) Put(ctx context.Context, l lead.Lead) error {
	if s.put != nil {
		if err := s.put(l); err != nil {
			return err
		}
	}
	return s.Store.Put(ctx, l)
}

// TestFaultsAreCounted: every 5xx answer is one IntakeFaults count, by
// stack and kind; answers to the client's mistakes and successes count
// nothing.
func TestFaultsAreCounted(t *testing.T) {
	f, ft := faultyFixture(t)
	f.contact.Metrics = f.consultation.Metrics

	t.Run("store throttled", func(t *testing.T) {
		ft.set("throttle", "", 0)
		defer ft.set("", "", 0)
		req := loadEvent(t, "contact-json.json")
		req.Headers["idempotency-key"] = "fault-throttled"
		if resp := f.do(t, req); resp.StatusCode != 503 {
			t.Fatalf("got %d %s, want 503", resp.StatusCode, resp.Body)
		}
		assertMetrics(t, f.metrics, "IntakeFaults/contact")
	})
	t.Run("internal error", func(t *testing.T) {
		h := *f.consultation
		svc := *h.Service
		svc.Store = storeFunc{Store: svc.Store, put: func(lead.Lead) error { return errors.New("a bug") }}
		h.Service = &svc
		resp, err := h.Handle(context.Background(), loadEvent(t, "consultation-json.json"))
		if err != nil || resp.StatusCode != 500 {
			t.Fatalf("got %d %v, want 500", resp.StatusCode, err)
		}
		assertMetrics(t, f.metrics, "IntakeFaults/consultation")
	})
	for _, tt := range []struct {
		name, event string
		status      int
	}{
		{"stored", "contact-json.json", 201},
		{"invalid", "contact-invalid.json", 422},
		{"malformed", "", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := loadEvent(t, "contact-json.json")
			if tt.event == "" {
				req.Body = `{"name":`
			} else {
				req = loadEvent(t, tt.event)
			}
			if resp := f.do(t, req); resp.StatusCode != tt.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, resp.Body, tt.status)
			}
			assertMetrics(t, f.metrics)
		})
	}
}

// TestRefusedRedirectAfterSaveIsCounted covers a Handler built without
// ConfigFromEnv: the lead is saved, and the 500 is not silent.
func TestRefusedRedirectAfterSaveIsCounted(t *testing.T) {
	f := newFixture(t, "https://clinic.example/dank-schön")
	resp := f.do(t, loadEvent(t, "contact-form.json"))
	if resp.StatusCode != 500 {
		t.Fatalf("got %d, want 500", resp.StatusCode)
	}
	if n := f.tbl.Count(t, f.tbl.Name, "lead"); n != 1 {
		t.Fatalf("leads = %d, want the lead saved", n)
	}
	assertMetrics(t, f.metrics, "IntakeFaults/contact")
	if !strings.Contains(f.logs.String(), "lead saved, answer failed") {
		t.Errorf("logs lack the failure:\n%s", f.logs)
	}
}

// streamPasses reports whether the lead with id, as stored, passes the
// template's stream filter for the notify function.
func streamPasses(t *testing.T, tbl *dynamotest.Table, id string) bool {
	t.Helper()
	out, err := tbl.Client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &tbl.Name,
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "LEAD#" + id}}, ConsistentRead: new(true)})
	if err != nil || out.Item == nil {
		t.Fatalf("get lead %s: %v", id, err)
	}
	img, err := dynamo.StreamImage(out.Item)
	if err != nil {
		t.Fatal(err)
	}
	rec := events.DynamoDBEventRecord{EventName: "INSERT", EventSource: "aws:dynamodb"}
	rec.Change.NewImage = img
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load()
	if err != nil {
		t.Fatal(err)
	}
	ev, err := tmpl.StreamEvent(samtemplate.NotifyFunction)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := ev.Match(b)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestHoneypotNeverDropsACrisis: autofill filled the hidden field of a
// person in crisis. The lead is a normal new one (streamed to staff, kept
// the normal time) flagged suspectedSpam; one not in crisis stays spam.
// Both are counted.
func TestHoneypotNeverDropsACrisis(t *testing.T) {
	f := newFixture(t, "")
	for _, tt := range []struct {
		event      string
		wantStatus lead.Status
		wantExpiry time.Time
		wantFlag   bool
		wantStream bool
	}{
		{"consultation-crisis.json", lead.StatusNew, now.Add(365 * 24 * time.Hour), true, true},
		{"consultation-json.json", lead.StatusSpam, now.Add(7 * 24 * time.Hour), false, false},
	} {
		t.Run(tt.event, func(t *testing.T) {
			req := loadEvent(t, tt.event)
			var body map[string]any
			if err := json.Unmarshal([]byte(req.Body), &body); err != nil {
				t.Fatal(err)
			}
			body["website"] = "https://autofill.example"
			b, _ := json.Marshal(body)
			req.Body = string(b)
			resp := f.do(t, req)
			got := parse(t, resp)
			if resp.StatusCode != 201 || (got.Crisis != nil) != tt.wantFlag {
				t.Fatalf("got %d %s, want 201 (with crisis resources when in crisis)", resp.StatusCode, resp.Body)
			}
			l, err := f.store.Get(context.Background(), got.ID)
			if err != nil {
				t.Fatal(err)
			}
			if l.Status != tt.wantStatus || l.SuspectedSpam != tt.wantFlag || !l.ExpiresAt.Equal(tt.wantExpiry) {
				t.Errorf("stored %s suspectedSpam %v expires %v, want %s %v %v", l.Status, l.SuspectedSpam, l.ExpiresAt, tt.wantStatus, tt.wantFlag, tt.wantExpiry)
			}
			if pass := streamPasses(t, f.tbl, got.ID); pass != tt.wantStream {
				t.Errorf("the stream filter passes it: %v, want %v", pass, tt.wantStream)
			}
			assertMetrics(t, f.metrics, "SpamCaught/consultation")
		})
	}
}

// fakeSiteverify answers like Cloudflare, on loopback: a fault code for a
// secret other than current, else by token.
func fakeSiteverify(t *testing.T, current string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("fake siteverify: %v", err)
		}
		ok := map[string]any{"success": true, "error-codes": []string{}, "hostname": "www.clinic.example", "action": "consultation"}
		fail := func(code string) map[string]any {
			return map[string]any{"success": false, "error-codes": []string{code}}
		}
		answer := fail("invalid-input-response")
		switch token := r.PostForm.Get("response"); {
		case r.PostForm.Get("secret") != current:
			answer = fail("invalid-input-secret")
		case token == "good":
			answer = ok
		case token == "solved-elsewhere":
			ok["hostname"] = "phish.example"
			answer = ok
		case token == "other-widget":
			ok["action"] = "contact"
			answer = ok
		case token == "garbled":
			answer = fail("bad-request")
		case token == "cloudflare-down":
			answer = fail("internal-error")
		}
		json.NewEncoder(w).Encode(answer)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestTurnstileFromConfig drives the whole path: the environment, New's
// wiring, the request to a siteverify on loopback, the answer, the log and
// the metrics.
func TestTurnstileFromConfig(t *testing.T) {
	tbl := dynamotest.New(t)
	fake := fakeSiteverify(t, "current-secret")
	build := func(secret string) (*Handler, *bytes.Buffer, *bytes.Buffer) {
		env := map[string]string{"LEADS_TABLE": tbl.Name, "TURNSTILE_SECRET": secret, "TURNSTILE_VERIFY_URL": fake.URL,
			"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_ENDPOINT_URL_DYNAMODB": tbl.Emulator.Endpoint,
			"ALLOWED_ORIGINS": "https://clinic.example, https://WWW.Clinic.example", "TURNSTILE_ACTION": "consultation", "STACK_NAME": testStack}
		cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		h, err := New(cfg, func() lead.Form { return new(lead.Consultation) })
		if err != nil {
			t.Fatal(err)
		}
		var logs, m bytes.Buffer
		h.Log = slog.New(slog.NewJSONHandler(&logs, nil))
		h.Metrics.W, h.Metrics.Log = &m, h.Log
		return h, &logs, &m
	}
	for _, tt := range []struct {
		name, secret, token string
		status              int
		code                string   // in the response body
		logged              string   // in the logs
		metrics             []string // counted
	}{
		{"solved here", "current-secret", "good", 201, "", "", nil},
		{"refused token", "current-secret", "bad", 403, "verification_failed", "", nil},
		{"solved on another site", "current-secret", "solved-elsewhere", 403, "verification_failed", "", nil},
		{"token of another widget", "current-secret", "other-widget", 403, "verification_failed", "", nil},
		{"rotated secret", "old-secret", "good", 503, "unavailable", "invalid-input-secret",
			[]string{"IntakeFaults/consultation", "TurnstileConfigFaults/consultation"}},
		{"bad request", "current-secret", "garbled", 503, "unavailable", "bad-request",
			[]string{"IntakeFaults/consultation", "TurnstileConfigFaults/consultation"}},
		{"siteverify internal error", "current-secret", "cloudflare-down", 503, "unavailable", "internal-error",
			[]string{"IntakeFaults/consultation", "TurnstileConfigFaults/consultation"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, logs, m := build(tt.secret)
			req := loadEvent(t, "consultation-json.json")
			req.Headers["idempotency-key"] = "turnstile-" + strings.ReplaceAll(tt.name, " ", "-")
			req.Body = strings.Replace(req.Body, `"consentToContact"`, `"cf-turnstile-response": "`+tt.token+`", "consentToContact"`, 1)
			resp, err := h.Handle(context.Background(), req)
			if err != nil || resp.StatusCode != tt.status {
				t.Fatalf("got %d %s %v, want %d", resp.StatusCode, resp.Body, err, tt.status)
			}
			if tt.code != "" {
				if b := parse(t, resp); b.Error != tt.code {
					t.Errorf("error = %q, want %q", b.Error, tt.code)
				}
			}
			if !strings.Contains(logs.String(), tt.logged) {
				t.Errorf("logs lack %q:\n%s", tt.logged, logs)
			}
			assertMetrics(t, m, tt.metrics...)
		})
	}
	if n := tbl.Count(t, tbl.Name, "lead"); n != 1 {
		t.Errorf("leads stored = %d, want only the verified one", n)
	}
}
