package notify

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sesmail"
)

// TestMarksOutliveASlowSend: SES accepts an email just as the invocation's
// time runs out. The mark must still be written (in a short context of its
// own), or the next delivery sends the email again.
func TestMarksOutliveASlowSend(t *testing.T) {
	for _, c := range []struct {
		name string
		slow func(sesmail.Message) bool // the send that uses up the time
		// mark is the mark that send must leave.
		mark func(dynamo.Marks) time.Time
	}{
		{"staff email", func(m sesmail.Message) bool { return !m.ToSubmitter }, func(mk dynamo.Marks) time.Time { return mk.NotifiedAt }},
		{"confirmation", func(m sesmail.Message) bool { return m.ToSubmitter }, func(mk dynamo.Marks) time.Time { return mk.ConfirmedAt }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, sesmail.DetailContact, true)
			r.h.reserve = 0
			ev := loadEvent(t, "stream-insert-consultation.json")
			l := leadOf(t, ev.Records[0])
			r.h.mailer = &fakeMailer{send: func(ctx context.Context, m sesmail.Message) error {
				if c.slow(m) {
					<-ctx.Done() // SES answers "accepted" as the deadline passes
					return nil
				}
				return ctx.Err()
			}}
			var markDeadlines []time.Duration
			for _, f := range []*func(context.Context, string, time.Time) error{&r.fake.markNotified, &r.fake.markConfirmed} {
				inner := *f
				*f = func(ctx context.Context, id string, at time.Time) error {
					if dl, ok := ctx.Deadline(); ok {
						markDeadlines = append(markDeadlines, time.Until(dl))
					}
					return inner(ctx, id, at)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if _, err := r.h.Handle(ctx, ev); err != nil {
				t.Fatal(err)
			}
			if mk := r.ledger.get(l.ID); c.mark(mk).IsZero() {
				t.Errorf("marks %+v: the email went out but its mark was not written", mk)
			}
			for _, d := range markDeadlines {
				if d <= 0 || d > markTimeout {
					t.Errorf("a mark was written with %v left, want a fresh deadline of at most %v", d, markTimeout)
				}
			}
		})
	}
}

func sendingPausedErr() error {
	return &types.SendingPausedException{Message: aws.String("Sending is paused for this account.")}
}

// TestRefusedConfirmationIsMarked: a confirmation SES refuses for what it
// is is marked, so the sweep does not try it every 15 minutes for a week;
// one held up by the account (sending paused) is not, so the sweep sends
// it once ops have fixed the account.
func TestRefusedConfirmationIsMarked(t *testing.T) {
	for _, c := range []struct {
		name    string
		err     error
		refused bool
	}{
		{"message rejected", permanentErr(), true},
		{"sending paused", sendingPausedErr(), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, sesmail.DetailContact, true)
			ev := loadEvent(t, "stream-insert-contact.json")
			l := leadOf(t, ev.Records[0])
			fail := true
			r.out.fail = func(m sesmail.Message) error {
				if m.ToSubmitter && fail {
					return c.err
				}
				return nil
			}
			if resp, err := r.h.Handle(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("handle = %+v, %v; a permanent confirmation failure must not fail the record", resp, err)
			}
			if got := !r.ledger.get(l.ID).ConfirmRefusedAt.IsZero(); got != c.refused {
				t.Errorf("marked refused = %v, want %v", got, c.refused)
			}
			// A later sweep, SES working again.
			fail = false
			r.h.backlog = &fakeBacklog{leads: []lead.Lead{l}}
			if _, err := r.h.Sweep(context.Background()); err != nil {
				t.Fatal(err)
			}
			sent := r.out.messages()
			if got := len(sent) == 2 && sent[1].ToSubmitter; got == c.refused {
				t.Errorf("after the sweep: %d emails; want the confirmation sent only when it was not refused", len(sent))
			}
		})
	}
}

// TestSweepResendsConfirmations: the stream gave up on a confirmation
// (the staff email went out); the sweep sends it once, and not the staff
// email again.
func TestSweepResendsConfirmations(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, true)
	l := leadOf(t, loadEvent(t, "stream-insert-consultation.json").Records[0])
	if err := r.fake.MarkNotified(context.Background(), l.ID, testNow.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	bl := &fakeBacklog{leads: []lead.Lead{l}}
	r.h.backlog = bl
	for range 2 {
		if res, err := r.h.Sweep(context.Background()); err != nil || res.Failed != 0 {
			t.Fatalf("Sweep = %+v, %v", res, err)
		}
	}
	if !bl.confirmations {
		t.Error("the sweep did not ask for leads missing a confirmation")
	}
	sent := r.out.messages()
	if len(sent) != 1 || !sent[0].ToSubmitter || !reflect.DeepEqual(sent[0].To, []string{l.Email()}) {
		t.Fatalf("sent %+v; want the confirmation, once", sent)
	}
	if r.ledger.get(l.ID).ConfirmedAt.IsZero() {
		t.Error("confirmation not marked")
	}

	// With confirmations off the sweep asks for staff emails only.
	off := newRig(t, sesmail.DetailContact, false)
	bl = &fakeBacklog{}
	off.h.backlog = bl
	if _, err := off.h.Sweep(context.Background()); err != nil || bl.confirmations {
		t.Errorf("Sweep without confirmations: %v, asked for confirmations = %v", err, bl.confirmations)
	}
}

// TestMarkContextKeepsValuesDropsCancel: the mark's context is not done
// when the invocation's is, and ends on its own.
func TestMarkContextKeepsValuesDropsCancel(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "req-1"))
	cancel()
	ctx, done := markContext(parent)
	defer done()
	dl, ok := ctx.Deadline()
	if ctx.Err() != nil || ctx.Value(key{}) != "req-1" || !ok || time.Until(dl) > markTimeout {
		t.Errorf("mark context err %v, value %v, deadline %v", ctx.Err(), ctx.Value(key{}), dl)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		t.Error("cancelled with its parent")
	}
}
