package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sesmail"
)

// fakeLedger is a ledger made of functions.
type fakeLedger struct {
	marks         func(ctx context.Context, id string) (dynamo.Marks, error)
	markNotified  func(ctx context.Context, id string, at time.Time) error
	markConfirmed func(ctx context.Context, id string, at time.Time) error
	markRefused   func(ctx context.Context, id string, at time.Time) error
}

func (f *fakeLedger) Marks(ctx context.Context, id string) (dynamo.Marks, error) {
	return f.marks(ctx, id)
}
func (f *fakeLedger) MarkNotified(ctx context.Context, id string, at time.Time) error {
	return f.markNotified(ctx, id, at)
}
func (f *fakeLedger) MarkConfirmed(ctx context.Context, id string, at time.Time) error {
	return f.markConfirmed(ctx, id, at)
}
func (f *fakeLedger) MarkConfirmRefused(ctx context.Context, id string, at time.Time) error {
	return f.markRefused(ctx, id, at)
}

// memLedger backs a fakeLedger with a map, with the store's conditional
// semantics: a mark is set once. Like the store, a mark is not written in
// a context that is done.
type memLedger struct {
	mu    sync.Mutex
	marks map[string]dynamo.Marks
}

func newMemLedger() (*memLedger, *fakeLedger) {
	m := &memLedger{marks: map[string]dynamo.Marks{}}
	set := func(ctx context.Context, id string, get func(*dynamo.Marks) *time.Time, at time.Time) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("mark lead %s: %w", id, err)
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		mk := m.marks[id]
		if !get(&mk).IsZero() {
			return dynamo.ErrAlreadyMarked
		}
		*get(&mk) = at
		m.marks[id] = mk
		return nil
	}
	return m, &fakeLedger{
		marks: func(_ context.Context, id string) (dynamo.Marks, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			return m.marks[id], nil
		},
		markNotified: func(ctx context.Context, id string, at time.Time) error {
			return set(ctx, id, func(mk *dynamo.Marks) *time.Time { return &mk.NotifiedAt }, at)
		},
		markConfirmed: func(ctx context.Context, id string, at time.Time) error {
			return set(ctx, id, func(mk *dynamo.Marks) *time.Time { return &mk.ConfirmedAt }, at)
		},
		markRefused: func(ctx context.Context, id string, at time.Time) error {
			return set(ctx, id, func(mk *dynamo.Marks) *time.Time { return &mk.ConfirmRefusedAt }, at)
		},
	}
}

func (m *memLedger) get(id string) dynamo.Marks {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.marks[id]
}

// fakeMailer is a mailer made of a function.
type fakeMailer struct {
	send func(ctx context.Context, m sesmail.Message) error
}

func (f *fakeMailer) Send(ctx context.Context, m sesmail.Message) error { return f.send(ctx, m) }

// outbox records what a fakeMailer sent; fail decides per message whether
// it fails (nil: never).
type outbox struct {
	mu   sync.Mutex
	sent []sesmail.Message
	fail func(m sesmail.Message) error
}

func (o *outbox) mailer() *fakeMailer {
	return &fakeMailer{send: func(ctx context.Context, m sesmail.Message) error {
		if o.fail != nil {
			if err := o.fail(m); err != nil {
				return err
			}
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		o.sent = append(o.sent, m)
		return nil
	}}
}

func (o *outbox) messages() []sesmail.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]sesmail.Message(nil), o.sent...)
}

var (
	contactStaff      = []string{"frontdesk@clinic.example"}
	consultationStaff = []string{"intake@clinic.example", "nurse@clinic.example"}
	testNow           = time.Date(2026, 3, 4, 16, 30, 0, 0, time.UTC)
)

// rig is a handler wired to fakes, with its logs and metrics captured.
type rig struct {
	h       *Handler
	ledger  *memLedger
	fake    *fakeLedger
	out     *outbox
	logs    *bytes.Buffer
	metrics *bytes.Buffer
}

func newRig(t *testing.T, detail sesmail.Detail, confirm bool) *rig {
	t.Helper()
	emails, err := sesmail.NewBuilder(sesmail.Config{
		Sender: "notify@clinic.example",
		Clinic: sesmail.Clinic{Name: "Harbor Ketamine Clinic", Phone: "(410) 555-0100", Address: "1 Harbor St, Baltimore, MD 21201", CallbackPromise: "within one business day"},
		Detail: detail, LeadsTable: "LeadsTable",
	})
	if err != nil {
		t.Fatal(err)
	}
	mem, fake := newMemLedger()
	r := &rig{ledger: mem, fake: fake, out: &outbox{}, logs: &bytes.Buffer{}, metrics: &bytes.Buffer{}}
	r.h = &Handler{
		ledger:  fake,
		mailer:  r.out.mailer(),
		emails:  emails,
		staff:   map[lead.Kind][]string{lead.KindContact: contactStaff, lead.KindConsultation: consultationStaff},
		confirm: confirm,
		now:     func() time.Time { return testNow },
		log:     slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		metrics: r.metrics,
		reserve: defaultReserve,
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s\nmetrics:\n%s", r.logs, r.metrics)
		}
	})
	return r
}

// loadEvent reads a sample event from events/, as `sam local invoke` would
// deliver it.
func loadEvent(t *testing.T, name string) events.DynamoDBEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(ev.Records) == 0 {
		t.Fatalf("%s has no records", name)
	}
	return ev
}

// leadOf parses the lead in a record, failing the test if it is none.
func leadOf(t *testing.T, r events.DynamoDBEventRecord) lead.Lead {
	t.Helper()
	l, err := dynamo.LeadFromImage(r.Change.NewImage)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func failedSeqs(resp events.DynamoDBEventResponse) []string {
	out := []string{}
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}
