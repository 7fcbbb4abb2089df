package notify

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sesmail"
)

// fakeBacklog answers Unnotified from a list and records the window asked.
type fakeBacklog struct {
	leads    []lead.Lead
	err      error
	from, to time.Time
}

func (f *fakeBacklog) Unnotified(_ context.Context, from, to time.Time) ([]lead.Lead, error) {
	f.from, f.to = from, to
	return f.leads, f.err
}

func TestSweepSendsOnlyUnmarkedLeads(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, false)
	ev := loadEvent(t, "stream-batch-mixed.json")
	var leads []lead.Lead
	for _, rec := range ev.Records {
		if rec.EventName == "INSERT" && rec.Change.NewImage["type"].String() == "lead" && rec.Change.NewImage["status"].String() == "new" {
			leads = append(leads, leadOf(t, rec))
		}
	}
	if len(leads) < 2 {
		t.Fatalf("sample batch has %d new leads, want at least 2", len(leads))
	}
	// The first was emailed already (its mark is in the table; the index
	// lagged behind it).
	if err := r.fake.MarkNotified(context.Background(), leads[0].ID, testNow); err != nil {
		t.Fatal(err)
	}
	bl := &fakeBacklog{leads: leads}
	r.h.backlog = bl

	res, err := r.h.Sweep(context.Background())
	if err != nil || res.Found != len(leads) || res.Failed != 0 {
		t.Fatalf("Sweep = %+v, %v; want %d found, none failed", res, err, len(leads))
	}
	if got := len(r.out.messages()); got != len(leads)-1 {
		t.Errorf("emails = %d, want %d (the marked lead is not sent again)", got, len(leads)-1)
	}
	for _, l := range leads {
		if r.ledger.get(l.ID).NotifiedAt.IsZero() {
			t.Errorf("lead %s not marked after the sweep", l.ID)
		}
	}
	if want := testNow.Add(-sweepDelay); !bl.to.Equal(want) || !bl.from.Equal(testNow.Add(-sweepWindow)) {
		t.Errorf("window [%v, %v), want [%v, %v)", bl.from, bl.to, testNow.Add(-sweepWindow), want)
	}
	// A second sweep over the same backlog sends nothing more.
	if _, err := r.h.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(r.out.messages()); got != len(leads)-1 {
		t.Errorf("emails after a second sweep = %d, want %d", got, len(leads)-1)
	}
}

func TestSweepFailuresFailTheInvocation(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, false)
	r.h.backlog = &fakeBacklog{leads: []lead.Lead{leadOf(t, loadEvent(t, "stream-insert-contact.json").Records[0])}}
	r.h.mailer = &fakeMailer{send: func(context.Context, sesmail.Message) error { return errors.New("ses: 503") }}
	res, err := r.h.Sweep(context.Background())
	if !errors.Is(err, errSweepFailures) || res.Failed != 1 {
		t.Fatalf("Sweep = %+v, %v; want one failure reported as an error (for the alarm)", res, err)
	}
	// The failed lead is logged once, by the sweep, naming the lead.
	if lines := failureLines(t, r.logs.String()); len(lines) != 1 || lines[0]["leadId"] == nil {
		t.Errorf("failure log lines %v, want one naming the lead", lines)
	}
	r.logs.Reset()
	r.h.backlog = &fakeBacklog{err: errors.New("dynamodb down")}
	if _, err := r.h.Sweep(context.Background()); err == nil {
		t.Fatal("Sweep with the table down returned no error")
	}
	// Returned to the Lambda runtime, which logs it: not logged here too.
	if lines := failureLines(t, r.logs.String()); len(lines) != 0 {
		t.Errorf("the returned error was logged too: %v", lines)
	}
}

func TestInvokeDispatches(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, false)
	r.h.backlog = &fakeBacklog{}
	stream, err := os.ReadFile(filepath.Join("..", "..", "events", "stream-insert-contact.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.h.Invoke(context.Background(), stream)
	if _, ok := out.(events.DynamoDBEventResponse); err != nil || !ok {
		t.Fatalf("stream batch: %T %v, want a DynamoDBEventResponse", out, err)
	}
	if len(r.out.messages()) != 1 {
		t.Errorf("stream batch sent %d emails, want 1", len(r.out.messages()))
	}
	for _, scheduled := range []string{
		`{"source":"aws.scheduler","detail-type":"leadpipe sweep"}`, // template.yaml's ScheduleV2 input
		`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","time":"2026-11-28T14:00:00Z","detail":{}}`,
	} {
		out, err = r.h.Invoke(context.Background(), json.RawMessage(scheduled))
		if _, ok := out.(SweepResult); err != nil || !ok {
			t.Fatalf("scheduled event %s: %T %v, want a SweepResult", scheduled, out, err)
		}
	}
	if _, err := r.h.Invoke(context.Background(), json.RawMessage(`{"hello":"world"}`)); err == nil {
		t.Error("an unknown event was accepted")
	}
}
