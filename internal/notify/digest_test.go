package notify

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sesmail"
)

// memDigests is the table for the digest: every lead (any status) and the
// markers, with the store's conditional semantics.
type memDigests struct {
	mu      sync.Mutex
	leads   []dynamo.LeadState
	claims  map[string]time.Time // day → claimedAt
	sent    map[string]bool
	readErr error
}

func newMemDigests(leads ...dynamo.LeadState) *memDigests {
	return &memDigests{leads: leads, claims: map[string]time.Time{}, sent: map[string]bool{}}
}

func (m *memDigests) Received(_ context.Context, kind lead.Kind, from, to time.Time) (dynamo.Listing, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.readErr != nil {
		return dynamo.Listing{}, m.readErr
	}
	var out dynamo.Listing
	for _, l := range m.leads {
		if l.Kind == kind && !l.CreatedAt.Before(from) && l.CreatedAt.Before(to) {
			out.Leads = append(out.Leads, l)
		}
	}
	return out, nil
}

func (m *memDigests) Oldest(_ context.Context, s lead.Status) (dynamo.LeadState, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var best *dynamo.LeadState
	for i, l := range m.leads {
		if l.Status == s && (best == nil || l.CreatedAt.Before(best.CreatedAt)) {
			best = &m.leads[i]
		}
	}
	if best == nil {
		return dynamo.LeadState{}, false, nil
	}
	return *best, true, nil
}

func (m *memDigests) ClaimDigest(_ context.Context, day string, at, staleBefore time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.claims[day]; m.sent[day] || (ok && !c.IsZero() && !c.Before(staleBefore)) {
		return dynamo.ErrAlreadyMarked
	}
	m.claims[day] = at
	return nil
}

func (m *memDigests) MarkDigestSent(_ context.Context, day string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent[day] = true
	return nil
}

func (m *memDigests) ReleaseDigest(_ context.Context, day string, claimedAt time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.claims[day].Equal(claimedAt) || m.sent[day] {
		return dynamo.ErrAlreadyMarked
	}
	m.claims[day] = time.Time{}
	return nil
}

// digestRig is an escalation rig with the digest on, at 08:00.
func newDigestRig(t *testing.T, leads ...dynamo.LeadState) (*escalationRig, *memDigests) {
	t.Helper()
	var waiting []dynamo.LeadState
	for _, l := range leads {
		if l.Status == lead.StatusNew {
			waiting = append(waiting, l)
		}
	}
	r := newEscalationRig(t, nil, waiting...)
	d := newMemDigests(leads...)
	r.h.digests, r.h.digestOff, r.h.digestAt, r.h.digestTo = d, false, 8*time.Hour, []string{"owner@clinic.example"}
	return r, d
}

func withStatus(l dynamo.LeadState, s lead.Status, notified bool) dynamo.LeadState {
	l.Status = s
	if notified {
		l.NotifiedAt = l.CreatedAt.Add(time.Minute)
	}
	return l
}

func digests(r *escalationRig) []sesmail.Message {
	var out []sesmail.Message
	for _, m := range r.out.messages() {
		if strings.HasPrefix(m.Subject, "Lead digest for ") {
			out = append(out, m)
		}
	}
	return out
}

// TestDigestOncePerDay: the first run at or after DIGEST_TIME sends the
// digest of the day before; later runs that day, and runs racing it, send
// nothing; the next day brings the next digest.
func TestDigestOncePerDay(t *testing.T) {
	stillNew := waitingLead(t, lead.KindConsultation, false, "2026-03-03 10:00") // overdue since 14:00
	spam := withStatus(waitingLead(t, lead.KindContact, false, "2026-03-03 11:00"), lead.StatusSpam, false)
	unsent := withStatus(waitingLead(t, lead.KindContact, false, "2026-03-03 12:00"), lead.StatusContacted, false)
	done := withStatus(waitingLead(t, lead.KindConsultation, false, "2026-03-03 09:00"), lead.StatusClosed, true)
	old := withStatus(waitingLead(t, lead.KindConsultation, false, "2026-02-20 09:00"), lead.StatusScheduled, true)
	earlier := withStatus(waitingLead(t, lead.KindContact, false, "2026-03-02 23:59"), lead.StatusContacted, true) // Monday: not in Tuesday's digest
	stillNew.NotifiedAt = stillNew.CreatedAt
	r, _ := newDigestRig(t, stillNew, spam, unsent, done, old, earlier)

	r.run(t, "2026-03-04 07:59")
	if n := len(digests(r)); n != 0 {
		t.Fatalf("%d digests before 08:00", n)
	}
	var wg sync.WaitGroup
	for range 3 { // overlapping runs at 08:00
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.mu.Lock()
			r.now = local(t, "2026-03-04 08:00")
			r.mu.Unlock()
			if _, err := r.h.Sweep(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	r.run(t, "2026-03-04 08:15")
	r.run(t, "2026-03-04 23:59")
	got := digests(r)
	if len(got) != 1 {
		t.Fatalf("%d digests on Wednesday, want 1", len(got))
	}
	m := got[0]
	if m.Subject != "Lead digest for Tue 3 Mar 2026: 4 received, 1 still new, 1 overdue" || strings.Join(m.To, ",") != "owner@clinic.example" {
		t.Errorf("digest %q to %q", m.Subject, m.To)
	}
	for _, want := range []string{
		"Consultation requests: 2 (New 1, Closed 1)",
		"Contact messages: 2 (Contacted 1, Spam 1)",
		"Still new now: 1, 1 of them OVERDUE",
		"  " + lead.ShortID(stillNew.ID) + "  Consultation request, waiting 22 h, OVERDUE  " + localInbox + "#/leads/" + stillNew.ID,
		"Caught as spam that day: 1",
		"  " + lead.ShortID(spam.ID) + "  Contact message, received Tue 3 Mar 2026 11:00 EST",
		"Staff email not sent (that day's leads): 1",
		"  " + lead.ShortID(unsent.ID) + "  Contact message, Contacted, received Tue 3 Mar 2026 12:00 EST",
		"Oldest open lead: " + lead.ShortID(old.ID) + "  Consultation request, Scheduled, received Fri 20 Feb 2026 09:00 EST (11 d 23 h ago)",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("digest lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, lead.ShortID(done.ID)) || strings.Contains(m.Text, lead.ShortID(earlier.ID)) {
		t.Errorf("digest lists a lead it should only count:\n%s", m.Text)
	}

	r.run(t, "2026-03-05 08:01")
	r.run(t, "2026-03-05 09:00")
	if got := digests(r); len(got) != 2 || !strings.HasPrefix(got[1].Subject, "Lead digest for Wed 4 Mar 2026: 0 received") {
		t.Errorf("digests %d; want Thursday's too", len(got))
	}
}

// TestDigestRetriedAfterFailure: a digest that cannot be sent fails the
// run and is sent by the next one.
func TestDigestRetriedAfterFailure(t *testing.T) {
	r, d := newDigestRig(t)
	r.out.fail = func(m sesmail.Message) error { return errors.New("ses: 503") }
	r.mu.Lock()
	r.now = local(t, "2026-03-04 08:00")
	r.mu.Unlock()
	res, err := r.h.Sweep(context.Background())
	if err == nil || res.DigestSent {
		t.Fatalf("Sweep = %+v, %v; want the failed digest reported", res, err)
	}
	r.out.fail = nil
	if res := r.run(t, "2026-03-04 08:15"); !res.DigestSent || len(digests(r)) != 1 {
		t.Errorf("digest not sent by the next run: %+v", res)
	}
	// A read that fails gives the claim back too.
	d.readErr = errors.New("dynamodb down")
	r.mu.Lock()
	r.now = local(t, "2026-03-05 08:00")
	r.mu.Unlock()
	if _, err := r.h.Sweep(context.Background()); err == nil {
		t.Fatal("a failed read did not fail the run")
	}
	d.readErr = nil
	r.run(t, "2026-03-05 08:15")
	if n := len(digests(r)); n != 2 {
		t.Errorf("%d digests, want 2", n)
	}
}

// TestDigestByTheClinicsClock: DIGEST_TIME is wall-clock time in the
// clinic's zone, on the days the clocks change too; "off" sends none.
func TestDigestByTheClinicsClock(t *testing.T) {
	r, _ := newDigestRig(t)
	r.run(t, "2026-03-08 07:59") // Sunday, the clocks went forward at 02:00
	if n := len(digests(r)); n != 0 {
		t.Fatalf("%d digests at 07:59 EDT", n)
	}
	r.run(t, "2026-03-08 08:00")
	if n := len(digests(r)); n != 1 {
		t.Fatalf("%d digests at 08:00 EDT, want 1", n)
	}
	r.h.digestOff = true
	r.run(t, "2026-03-09 09:00")
	if n := len(digests(r)); n != 1 {
		t.Errorf("DIGEST_TIME=off still sent a digest")
	}
}
