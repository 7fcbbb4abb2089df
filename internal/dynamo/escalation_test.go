package dynamo_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// countQueries is r's store through a call counter.
func countQueries(r *backlogRig) (*dynamo.Store, *dynamotest.Counter) {
	c := &dynamotest.Counter{API: dynamo.StaffClientAPI(r.tbl.Client)}
	return dynamo.New(c, r.tbl.Name), c
}

func stateIDs(l dynamo.Listing) []string {
	out := []string{}
	for _, s := range l.Leads {
		out = append(out, s.ID)
	}
	return out
}

// winners runs try n times at once and counts the calls that succeeded;
// any error but ErrAlreadyMarked fails the test.
func winners(t *testing.T, n int, try func(i int) error) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := try(i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, dynamo.ErrAlreadyMarked):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	return wins
}

// TestWaiting: one Query lists the new leads of the window, newest first,
// with their escalation marks, and reads nothing a person typed.
func TestWaiting(t *testing.T) {
	r := newBacklogRig(t)
	ctx := context.Background()
	oldest := r.put(-5*hour, -5*hour, lead.StatusNew)
	middle := r.put(-3*hour, -3*hour, lead.StatusNew)
	newest := r.put(-10*minute, -10*minute, lead.StatusNew)
	r.put(-4*hour, -4*hour, lead.StatusSpam)
	r.put(-9*24*hour, -9*24*hour, lead.StatusNew) // before the window
	if err := r.st.MarkEscalated(ctx, middle, 1, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}

	st, calls := countQueries(r)
	got, err := st.Waiting(ctx, t0.Add(-7*24*hour), t0.Add(-30*minute))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{middle, oldest}; !reflect.DeepEqual(stateIDs(got), want) || got.More || len(got.Unreadable) != 0 {
		t.Fatalf("Waiting = %v (more %v), want %v, newest first, without the spam, the one before the window and the one after it (%s)",
			stateIDs(got), got.More, want, newest)
	}
	if n := calls.Total(); n != 1 || calls.Queries.Load() != 1 {
		t.Errorf("%d calls, want 1 Query", n)
	}
	m := got.Leads[0]
	if m.EscalationLevel != 1 || !m.EscalatedAt.Equal(t0.Add(-time.Hour)) || !m.InCrisis || m.Kind != lead.KindConsultation ||
		m.Status != lead.StatusNew || !m.CreatedAt.Equal(t0.Add(-3*hour)) || m.Version != 1 {
		t.Errorf("row %+v", m)
	}
	if m.FirstName != "" || m.LastName != "" || m.Name != "" {
		t.Errorf("the listing read a name: %+v", m.LeadRow)
	}
}

// TestMarkEscalated: one mark per level, by condition, never on a lead
// picked up; undone only by the run that made it.
func TestMarkEscalated(t *testing.T) {
	r := newBacklogRig(t)
	ctx := context.Background()
	id := r.put(-5*hour, -5*hour, lead.StatusNew)
	at1, at2 := t0, t0.Add(time.Hour)

	if err := r.st.MarkEscalated(ctx, id, 1, at1); err != nil {
		t.Fatal(err)
	}
	if err := r.st.MarkEscalated(ctx, id, 1, at1.Add(time.Minute)); !errors.Is(err, dynamo.ErrAlreadyMarked) {
		t.Errorf("level 1 again: %v, want ErrAlreadyMarked", err)
	}
	if err := r.st.MarkEscalated(ctx, id, 2, at2); err != nil {
		t.Fatal(err)
	}
	if err := r.st.MarkEscalated(ctx, id, 1, at2); !errors.Is(err, dynamo.ErrAlreadyMarked) {
		t.Errorf("level 1 after 2: %v, want ErrAlreadyMarked", err)
	}
	m, err := r.st.Marks(ctx, id)
	if err != nil || m.EscalationLevel != 2 || !m.EscalatedAt.Equal(at2) || m.Status != lead.StatusNew {
		t.Fatalf("marks %+v, %v", m, err)
	}
	// Undone by another run's time: nothing changes.
	if err := r.st.UnmarkEscalated(ctx, id, 2, at1, 1, at1); !errors.Is(err, dynamo.ErrAlreadyMarked) {
		t.Errorf("unmark with the wrong time: %v", err)
	}
	if err := r.st.UnmarkEscalated(ctx, id, 2, at2, 1, at1); err != nil {
		t.Fatal(err)
	}
	if m, _ := r.st.Marks(ctx, id); m.EscalationLevel != 1 || !m.EscalatedAt.Equal(at1) {
		t.Errorf("after undoing level 2: %+v", m)
	}
	if err := r.st.UnmarkEscalated(ctx, id, 1, at1, 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if m, _ := r.st.Marks(ctx, id); m.EscalationLevel != 0 || !m.EscalatedAt.IsZero() {
		t.Errorf("after undoing level 1: %+v", m)
	}
	// The marks do not change the version staff changes are checked against.
	if l, err := r.st.Get(ctx, id); err != nil || l.Version != 1 {
		t.Errorf("version %d, %v; want 1", l.Version, err)
	}

	contacted := r.put(-5*hour, -5*hour, "contacted")
	if err := r.st.MarkEscalated(ctx, contacted, 1, at1); !errors.Is(err, dynamo.ErrPickedUp) {
		t.Errorf("lead picked up: %v, want ErrPickedUp", err)
	}
	if m, _ := r.st.Marks(ctx, contacted); m.EscalationLevel != 0 {
		t.Errorf("a lead picked up was marked: %+v", m)
	}
	if err := r.st.MarkEscalated(ctx, lead.NewID(t0), 1, at1); !errors.Is(err, dynamo.ErrNotFound) {
		t.Errorf("no lead: %v, want ErrNotFound", err)
	}
}

// TestMarkEscalatedRace: of runs racing for one lead and level, one wins.
func TestMarkEscalatedRace(t *testing.T) {
	r := newBacklogRig(t)
	id := r.put(-5*hour, -5*hour, lead.StatusNew)
	wins := winners(t, 8, func(i int) error {
		return r.st.MarkEscalated(context.Background(), id, 1, t0.Add(time.Duration(i)*time.Millisecond))
	})
	if wins != 1 {
		t.Errorf("%d runs marked level 1, want exactly 1", wins)
	}
}

// TestDigestReads: the day's leads by kind, and the oldest of a status.
func TestDigestReads(t *testing.T) {
	r := newBacklogRig(t)
	ctx := context.Background()
	dayStart, dayEnd := t0.Add(-24*hour), t0
	in1 := r.put(-20*hour, -20*hour, lead.StatusNew)
	in2 := r.put(-2*hour, -2*hour, lead.StatusSpam)
	r.put(-25*hour, -25*hour, lead.StatusNew) // the day before
	r.put(0, 0, lead.StatusNew)               // at the day's end: the next day
	contact := sampleContact(lead.NewID(t0), t0.Add(-3*hour))
	if err := r.st.Put(ctx, contact); err != nil {
		t.Fatal(err)
	}
	got, err := r.st.Received(ctx, lead.KindConsultation, dayStart, dayEnd)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{in1, in2}; !reflect.DeepEqual(stateIDs(got), want) {
		t.Errorf("Received = %v, want %v (oldest first, the day only)", stateIDs(got), want)
	}
	if got.Leads[1].Status != lead.StatusSpam {
		t.Errorf("status %q", got.Leads[1].Status)
	}
	if got, err := r.st.Received(ctx, lead.KindContact, dayStart, dayEnd); err != nil || !reflect.DeepEqual(stateIDs(got), []string{contact.ID}) {
		t.Errorf("contact leads %v, %v", stateIDs(got), err)
	}

	oldest, ok, err := r.st.Oldest(ctx, lead.StatusNew)
	if err != nil || !ok || !oldest.CreatedAt.Equal(t0.Add(-25*hour)) {
		t.Errorf("Oldest(new) = %+v, %v, %v", oldest, ok, err)
	}
	if _, ok, err := r.st.Oldest(ctx, lead.StatusScheduled); err != nil || ok {
		t.Errorf("Oldest(scheduled) = %v, %v; want none", ok, err)
	}
}

// TestClaimDigest: one claim per day, even when runs race; a claim given
// up or left by a run that died can be taken again, a sent one never.
func TestClaimDigest(t *testing.T) {
	r := newBacklogRig(t)
	ctx := context.Background()
	day := "2026-11-28"
	wins := winners(t, 6, func(int) error { return r.st.ClaimDigest(ctx, day, t0, t0.Add(-10*minute)) })
	if wins != 1 {
		t.Fatalf("%d runs claimed the digest, want exactly 1", wins)
	}
	// Released after a failed send: the next run takes it.
	if err := r.st.ReleaseDigest(ctx, day, t0.Add(time.Second)); !errors.Is(err, dynamo.ErrAlreadyMarked) {
		t.Errorf("release of another claim: %v", err)
	}
	if err := r.st.ReleaseDigest(ctx, day, t0); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(5 * minute)
	if err := r.st.ClaimDigest(ctx, day, later, later.Add(-10*minute)); err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	// Held by a live run: refused; held by one that died: taken over.
	if err := r.st.ClaimDigest(ctx, day, later.Add(minute), later.Add(-9*minute)); !errors.Is(err, dynamo.ErrAlreadyMarked) {
		t.Errorf("claim held by a live run: %v", err)
	}
	stale := later.Add(20 * minute)
	if err := r.st.ClaimDigest(ctx, day, stale, stale.Add(-10*minute)); err != nil {
		t.Fatalf("claim held by a run that died: %v", err)
	}
	if err := r.st.MarkDigestSent(ctx, day, stale); err != nil {
		t.Fatal(err)
	}
	if err := r.st.ReleaseDigest(ctx, day, stale); !errors.Is(err, dynamo.ErrAlreadyMarked) {
		t.Errorf("release after sending: %v", err)
	}
	much := stale.Add(24 * hour)
	if err := r.st.ClaimDigest(ctx, day, much, much.Add(-10*minute)); !errors.Is(err, dynamo.ErrAlreadyMarked) {
		t.Errorf("claim of a sent digest: %v", err)
	}
	// Another day is another digest; the markers are in no index.
	if err := r.st.ClaimDigest(ctx, "2026-11-29", much, much.Add(-10*minute)); err != nil {
		t.Fatal(err)
	}
	if n := r.tbl.Count(t, r.tbl.Name, "digest"); n != 2 {
		t.Errorf("%d digest markers, want 2", n)
	}
	if got, err := r.st.Waiting(ctx, time.Time{}, much); err != nil || len(got.Unreadable) != 0 {
		t.Errorf("a marker reached the status index: %+v, %v", got, err)
	}
}
