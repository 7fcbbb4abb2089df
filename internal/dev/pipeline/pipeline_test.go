package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dev/localstream"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/intake"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/notify"
)

// stack is the pipeline wired as on AWS: intake writes through the stream
// proxy, whose records reach the notify handler.
type stack struct {
	tbl      *dynamotest.Table
	ses      *localaws.Emulator
	stream   *localstream.Stream
	contact  *intake.Handler
	notify   *notify.Handler
	failures atomic.Int32 // deliveries that failed at least one record
}

func newStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{tbl: dynamotest.New(t), ses: awstest.SES(t)}
	tmpl, err := samtemplate.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := localstream.ConfigFromTemplate(tmpl, samtemplate.LeadsTable, samtemplate.NotifyFunction, s.tbl.Name)
	if err != nil {
		t.Fatal(err)
	}
	var handler atomic.Pointer[notify.Handler]
	cfg.Target = s.tbl.Emulator.Endpoint
	cfg.Backoff, cfg.MaxBackoff = 200*time.Millisecond, time.Second
	cfg.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	cfg.Deliver = func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		resp, err := handler.Load().Handle(ctx, ev)
		if err != nil || len(resp.BatchItemFailures) > 0 {
			s.failures.Add(1)
		}
		return resp, err
	}
	if s.stream, err = localstream.Start(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stream.Close() })

	env := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_ENDPOINT_URL_DYNAMODB": s.stream.Endpoint(), "AWS_ENDPOINT_URL_SESV2": s.ses.Endpoint,
		"LEADS_TABLE": s.tbl.Name, "SENDER_EMAIL": "clinic@example.com", "STAFF_EMAILS": "staff@example.com",
		"CLINIC_NAME": "Example Ketamine Therapy Clinic", "LOG_LEVEL": "error",
		// These tests count staff emails by the wall clock's time; the
		// daily digest (internal/notify/digest.go) has tests of its own.
		"DIGEST_TIME": "off",
	}
	getenv := func(k string) string { return env[k] }
	icfg, err := intake.ConfigFromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if s.contact, err = intake.New(icfg, func() lead.Form { return new(lead.Contact) }); err != nil {
		t.Fatal(err)
	}
	s.contact.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	ncfg, err := notify.ConfigFromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	h, err := notify.New(ncfg)
	if err != nil {
		t.Fatal(err)
	}
	handler.Store(h)
	s.notify = h
	return s
}

func contactEvent(t *testing.T, email string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "contact-json.json"))
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatal(err)
	}
	req.Body = strings.Replace(req.Body, "jordan.avery@example.com", email, 1)
	req.Headers["idempotency-key"] = ""
	return req
}

// submit posts like the website: a 503 is retried with the same body.
func (s *stack) submit(t *testing.T, email string) string {
	t.Helper()
	req := contactEvent(t, email)
	for attempt := 0; ; attempt++ {
		resp, err := s.contact.Handle(context.Background(), req)
		if err == nil && resp.StatusCode == 503 && attempt < 4 {
			time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
			continue
		}
		if err != nil || resp.StatusCode != 201 {
			t.Errorf("submit: %d %s %v", resp.StatusCode, resp.Body, err)
			return ""
		}
		var body struct{ ID string }
		json.Unmarshal([]byte(resp.Body), &body)
		return body.ID
	}
}

// staffEmails waits until the stream is idle and returns the staff emails.
func (s *stack) staffEmails(t *testing.T) []awstest.SentEmail {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.stream.Wait(ctx); err != nil {
		t.Fatalf("stream never went idle: %v", err)
	}
	var staff []awstest.SentEmail
	for _, m := range awstest.SESStore(t, s.ses.Endpoint) {
		if len(m.Destination.To) == 1 && m.Destination.To[0] == "staff@example.com" {
			staff = append(staff, m)
		}
	}
	return staff
}

func TestSameSubmission20TimesIsOneLeadAndOneEmail(t *testing.T) {
	s := newStack(t)
	ids := make([]string, 20)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() { defer wg.Done(); ids[i] = s.submit(t, "same.person@example.com") }()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("ids %q and %q, want one lead", ids[0], id)
		}
	}
	if n := s.tbl.Count(t, s.tbl.Name, "lead"); n != 1 {
		t.Errorf("leads = %d, want 1", n)
	}
	if mails := s.staffEmails(t); len(mails) != 1 || !strings.HasSuffix(mails[0].Subject, lead.ShortID(ids[0])) {
		t.Errorf("staff emails = %d %+v, want 1 for lead %s", len(mails), mails, ids[0])
	}
}

func Test200SubmissionsAre200LeadsAnd200Emails(t *testing.T) {
	s := newStack(t)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() { defer wg.Done(); s.submit(t, fmt.Sprintf("person%03d@example.com", i)) }()
	}
	wg.Wait()
	if n := s.tbl.Count(t, s.tbl.Name, "lead"); n != 200 {
		t.Errorf("leads = %d, want 200", n)
	}
	// A put whose client gave up under load is recorded when dynalite
	// answers, which can be after the submits return: wait for those too.
	mails := s.staffEmails(t)
	for deadline := time.Now().Add(20 * time.Second); len(mails) < 200 && time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
		mails = s.staffEmails(t)
	}
	subjects := map[string]bool{}
	for _, m := range mails {
		subjects[m.Subject] = true
	}
	if len(mails) != 200 || len(subjects) != 200 {
		t.Errorf("staff emails = %d (%d distinct), want 200", len(mails), len(subjects))
	}
	if dl := s.stream.DeadLetters(); len(dl) != 0 {
		t.Errorf("dead letters = %d, want 0", len(dl))
	}
}

// TestSESOutage stops the real SES emulator process: the lead is still
// answered 201 and stored, and its email goes out once SES is back.
func TestSESOutage(t *testing.T) {
	s := newStack(t)
	port := s.ses.Port
	s.ses.Kill()

	id := s.submit(t, "during.outage@example.com")
	if id == "" {
		t.Fatal("no lead id while SES is down")
	}
	if _, err := dynamo.New(s.tbl.Client, s.tbl.Name).Get(context.Background(), id); err != nil {
		t.Fatalf("lead not stored while SES is down: %v", err)
	}
	for deadline := time.Now().Add(30 * time.Second); s.failures.Load() == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the notifier never failed while SES was down")
		}
	}
	ses, err := localaws.StartSES(context.Background(), localaws.Options{Port: port})
	awstest.Check(t, err)
	t.Cleanup(func() { ses.Stop() })
	s.ses = ses

	mails := s.staffEmails(t)
	if len(mails) != 1 || !strings.HasSuffix(mails[0].Subject, lead.ShortID(id)) {
		t.Fatalf("staff emails after recovery = %+v, want the one for %s", mails, id)
	}
	if dl := s.stream.DeadLetters(); len(dl) != 0 {
		t.Errorf("dead letters = %d, want 0", len(dl))
	}
}

// TestSESDownForGoodThenSwept: when SES stays down past the stream's
// retries, the record dead-letters (on AWS the queue holds only a pointer
// to it), the lead stays stored and unmarked, and the scheduled sweep
// emails staff once SES is back: exactly once, however often it runs.
func TestSESDownForGoodThenSwept(t *testing.T) {
	s := newStack(t)
	port := s.ses.Port
	s.ses.Kill()
	// The lead was taken in, and written, two hours ago: the sweep leaves
	// leads written since the stream's record age to the stream.
	s.contact.Service.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	s.contact.Service.Store.(*dynamo.Store).Now = s.contact.Service.Now
	id := s.submit(t, "never.mailed@example.com")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := s.stream.Wait(ctx); err != nil {
		t.Fatalf("stream never went idle: %v", err)
	}
	if dl := s.stream.DeadLetters(); len(dl) != 1 || !strings.HasSuffix(dl[0].Change.Keys["pk"].String(), id) {
		t.Fatalf("dead letters = %+v, want the record of lead %s", dl, id)
	}
	store := dynamo.New(s.tbl.Client, s.tbl.Name)
	if m, err := store.Marks(context.Background(), id); err != nil || !m.NotifiedAt.IsZero() {
		t.Fatalf("marks = %+v, %v; want the lead stored and not marked notified", m, err)
	}

	ses, err := localaws.StartSES(context.Background(), localaws.Options{Port: port})
	awstest.Check(t, err)
	t.Cleanup(func() { ses.Stop() })
	s.ses = ses
	for range 2 {
		if res, err := s.notify.Sweep(context.Background()); err != nil {
			t.Fatalf("Sweep = %+v, %v", res, err)
		}
	}
	mails := s.staffEmails(t)
	if len(mails) != 1 || !strings.HasSuffix(mails[0].Subject, lead.ShortID(id)) {
		t.Fatalf("staff emails after the sweep = %+v, want exactly the one for %s", mails, id)
	}
	if m, err := store.Marks(context.Background(), id); err != nil || m.NotifiedAt.IsZero() {
		t.Fatalf("marks after the sweep = %+v, %v; want notifiedAt set", m, err)
	}
}
