package notify

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sesmail"
	"github.com/clinicleads/leadpipe/internal/sla"
)

// memWatch is the leads table for escalation: the lead items (table) and
// what the status index lists (index), which may lag behind the table,
// with the store's conditional semantics.
type memWatch struct {
	mu     sync.Mutex
	table  map[string]*dynamo.LeadState
	index  []dynamo.LeadState // as listed; newest first
	err    error
	marked func(id string, level int) // called after a mark succeeded
}

func newMemWatch(leads ...dynamo.LeadState) *memWatch {
	w := &memWatch{table: map[string]*dynamo.LeadState{}}
	for _, l := range leads {
		w.add(l)
	}
	return w
}

func (w *memWatch) add(l dynamo.LeadState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := l
	w.table[l.ID] = &c
	w.index = append([]dynamo.LeadState{l}, w.index...)
	slices.SortFunc(w.index, func(a, b dynamo.LeadState) int { return b.CreatedAt.Compare(a.CreatedAt) })
}

// setStatus changes a lead in the table; the index still lists it (lag).
func (w *memWatch) setStatus(id string, s lead.Status) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.table[id].Status = s
}

func (w *memWatch) get(id string) dynamo.LeadState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return *w.table[id]
}

func (w *memWatch) Waiting(_ context.Context, from, to time.Time) (dynamo.Listing, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return dynamo.Listing{}, w.err
	}
	var out dynamo.Listing
	for _, l := range w.index {
		if l.Status == lead.StatusNew && !l.CreatedAt.Before(from) && !l.CreatedAt.After(to) {
			// The index carries the marks as the table had them when it
			// caught up; here, at once.
			t := *w.table[l.ID]
			l.EscalationLevel, l.EscalatedAt = t.EscalationLevel, t.EscalatedAt
			out.Leads = append(out.Leads, l)
		}
	}
	return out, nil
}

func (w *memWatch) MarkEscalated(_ context.Context, id string, level int, at time.Time) error {
	w.mu.Lock()
	l, ok := w.table[id]
	switch {
	case !ok:
		w.mu.Unlock()
		return dynamo.ErrNotFound
	case l.Status != lead.StatusNew:
		w.mu.Unlock()
		return dynamo.ErrPickedUp
	case l.EscalationLevel >= level:
		w.mu.Unlock()
		return dynamo.ErrAlreadyMarked
	}
	l.EscalationLevel, l.EscalatedAt = level, at
	w.mu.Unlock()
	if w.marked != nil {
		w.marked(id, level)
	}
	return nil
}

func (w *memWatch) UnmarkEscalated(_ context.Context, id string, level int, at time.Time, prev int, prevAt time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.table[id]
	if l.EscalationLevel != level || !l.EscalatedAt.Equal(at) {
		return dynamo.ErrAlreadyMarked
	}
	l.EscalationLevel, l.EscalatedAt = prev, prevAt
	return nil
}

func (w *memWatch) marks(_ context.Context, id string) (dynamo.Marks, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	l, ok := w.table[id]
	if !ok {
		return dynamo.Marks{}, dynamo.ErrNotFound
	}
	return dynamo.Marks{Status: l.Status, EscalationLevel: l.EscalationLevel, EscalatedAt: l.EscalatedAt}, nil
}

var (
	clinicZone = mustZone("America/New_York")
	managers   = []string{"manager@clinic.example"}
	onCall     = []string{"4105550100@sms.example"}
)

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// local is a wall time in the clinic's zone: "2026-03-03 14:00".
func local(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, clinicZone)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// escalationRig is a rig whose scheduled run escalates over w with the
// default service levels in the clinic's zone, on a clock tests move.
type escalationRig struct {
	*rig
	w   *memWatch
	mu  sync.Mutex
	now time.Time
}

func newEscalationRig(t *testing.T, env map[string]string, leads ...dynamo.LeadState) *escalationRig {
	t.Helper()
	policy, err := sla.FromEnv(func(k string) string { return env[k] }, clinicZone)
	if err != nil {
		t.Fatal(err)
	}
	r := &escalationRig{rig: newRig(t, sesmail.DetailMinimal, false), w: newMemWatch(leads...)}
	r.h.now = func() time.Time {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.now
	}
	r.h.backlog = &fakeBacklog{}
	alerts, err := sesmail.NewBuilder(sesmail.Config{
		Sender: "notify@clinic.example", Clinic: sesmail.Clinic{Name: "Harbor Ketamine Clinic"}, Detail: sesmail.DetailMinimal,
		LeadsTable: "LeadsTable", TimeZone: clinicZone, InboxURL: localInbox,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.h.watch, r.h.sla, r.h.alerts = r.w, policy, alerts
	r.h.escalateTo, r.h.onCall, r.h.digestOff = managers, onCall, true
	r.fake.marks = r.w.marks
	return r
}

// run is one scheduled run at the wall time at.
func (r *escalationRig) run(t *testing.T, at string) SweepResult {
	t.Helper()
	r.mu.Lock()
	r.now = local(t, at)
	r.mu.Unlock()
	res, err := r.h.Sweep(context.Background())
	if err != nil {
		t.Fatalf("run at %s: %v", at, err)
	}
	return res
}

// sent lists the emails so far as "to subject".
func (r *escalationRig) sent() []string {
	var out []string
	for _, m := range r.out.messages() {
		out = append(out, strings.Join(m.To, ",")+" "+m.Subject)
	}
	return out
}

// waitingLead is a new lead received at the wall time at.
func waitingLead(t *testing.T, kind lead.Kind, crisis bool, at string) dynamo.LeadState {
	t.Helper()
	created := local(t, at).UTC()
	id := lead.NewID(created)
	return dynamo.LeadState{LeadRow: dynamo.LeadRow{ID: id, Kind: kind, Status: lead.StatusNew, CreatedAt: created, InCrisis: crisis, Version: 1}}
}

// lastGauge is the LeadsOverdue of the latest run.
func lastGauge(t *testing.T, metrics string) string {
	t.Helper()
	var last string
	for _, line := range strings.Split(metrics, "\n") {
		if strings.Contains(line, `"LeadsOverdue":`) {
			i := strings.Index(line, `"LeadsOverdue":`) + len(`"LeadsOverdue":`)
			last = line[i : i+strings.IndexAny(line[i:], ",}")]
		}
	}
	return last
}

// TestEscalationLevels: a lead left new gets one email at its service
// level, to the escalation list, and one at twice the level, to the list
// and the on-call address; never a second of either.
func TestEscalationLevels(t *testing.T) {
	l := waitingLead(t, lead.KindConsultation, false, "2026-03-03 10:00") // a Tuesday
	r := newEscalationRig(t, nil, l)
	r.h.stack = "leadpipe-prod"
	short := lead.ShortID(l.ID)

	if res := r.run(t, "2026-03-03 13:59"); res.Overdue != 0 || res.Escalated != 0 || len(r.sent()) != 0 {
		t.Fatalf("before the level: %+v, sent %q", res, r.sent())
	}
	if g := lastGauge(t, r.metrics.String()); g != "0" {
		t.Errorf("LeadsOverdue = %q, want 0 (published every run)", g)
	}
	if res := r.run(t, "2026-03-03 14:00"); res.Overdue != 1 || res.Escalated != 1 {
		t.Fatalf("at the level: %+v", res)
	}
	want := []string{"manager@clinic.example OVERDUE: New consultation request " + short + " (waiting 4 h)"}
	r.run(t, "2026-03-03 14:15")
	r.run(t, "2026-03-03 16:59")
	if got := r.sent(); !reflect.DeepEqual(got, want) {
		t.Fatalf("sent %q, want %q", got, want)
	}
	if g := lastGauge(t, r.metrics.String()); g != "1" {
		t.Errorf("LeadsOverdue = %q, want 1", g)
	}
	// With the Stack dimension the template's alarm reads.
	wantLine := `{"LeadsOverdue":1,"Stack":"leadpipe-prod","_aws":{"CloudWatchMetrics":[{"Dimensions":[[],["Stack"]],"Metrics":[{"Name":"LeadsOverdue","Unit":"Count"}],"Namespace":"LeadPipeline"}],"Timestamp":` +
		fmt.Sprint(local(t, "2026-03-03 16:59").UnixMilli()) + `}}`
	if !strings.Contains(r.metrics.String(), wantLine+"\n") {
		t.Errorf("metrics want %s:\n%s", wantLine, r.metrics)
	}
	if m := r.w.get(l.ID); m.EscalationLevel != 1 || !m.EscalatedAt.Equal(local(t, "2026-03-03 14:00")) {
		t.Errorf("marks %+v", m)
	}
	// Twice the level: 8 business hours, Wednesday 10:00.
	if res := r.run(t, "2026-03-04 10:00"); res.Escalated != 1 {
		t.Fatalf("at twice the level: %+v", res)
	}
	r.run(t, "2026-03-04 11:00")
	r.run(t, "2026-03-09 11:00")
	want = append(want, "manager@clinic.example,4105550100@sms.example OVERDUE, 2nd alert: New consultation request "+short+" (waiting 1 d)")
	if got := r.sent(); !reflect.DeepEqual(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
	m := r.out.messages()[1]
	if !strings.Contains(m.Text, "Still nobody has picked up Consultation request "+short) || strings.Contains(m.Text, "URGENT") ||
		!strings.Contains(m.Text, "4 h of business hours (Mon-Fri 09:00-17:00, America/New_York)") || !strings.Contains(m.Text, "Wed 4 Mar 2026 10:00 EST") {
		t.Errorf("second level text:\n%s", m.Text)
	}
}

// TestEscalationStraightToLevelTwo: a lead first seen past twice its level
// (the runs were down) gets the second level only.
func TestEscalationStraightToLevelTwo(t *testing.T) {
	l := waitingLead(t, lead.KindContact, false, "2026-03-03 10:00")
	r := newEscalationRig(t, nil, l)
	r.run(t, "2026-03-05 09:00")
	r.run(t, "2026-03-05 09:15")
	if got := r.sent(); len(got) != 1 || !strings.Contains(got[0], "OVERDUE, 2nd alert: New contact message "+lead.ShortID(l.ID)) {
		t.Errorf("sent %q, want the second level once", got)
	}
}

// TestEscalationFallsBackToStaff: without ESCALATION_EMAILS the lead's
// own staff list is told, and the on-call address at level 2.
func TestEscalationFallsBackToStaff(t *testing.T) {
	c := waitingLead(t, lead.KindContact, false, "2026-03-03 10:00")
	r := newEscalationRig(t, nil, c)
	r.h.escalateTo = nil
	r.run(t, "2026-03-03 14:00")
	r.run(t, "2026-03-04 10:00")
	got := r.sent()
	if len(got) != 2 || !strings.HasPrefix(got[0], "frontdesk@clinic.example OVERDUE") ||
		!strings.HasPrefix(got[1], "frontdesk@clinic.example,4105550100@sms.example OVERDUE, 2nd alert") {
		t.Errorf("sent %q", got)
	}
}

// TestEscalationNeverAfterPickUp: a lead moved on from new is not
// escalated: not when the index still lists it as new, and not when it is
// picked up between the mark and the send.
func TestEscalationNeverAfterPickUp(t *testing.T) {
	lagging := waitingLead(t, lead.KindConsultation, false, "2026-03-03 09:00")
	racing := waitingLead(t, lead.KindConsultation, false, "2026-03-03 09:30")
	r := newEscalationRig(t, nil, lagging, racing)
	r.w.setStatus(lagging.ID, lead.StatusContacted) // the index has not caught up
	r.w.marked = func(id string, _ int) {
		if id == racing.ID {
			r.w.setStatus(id, lead.StatusContacted) // a staff member, this moment
		}
	}
	res := r.run(t, "2026-03-03 16:00")
	if len(r.sent()) != 0 || res.Escalated != 0 || res.EscalationFailed != 0 {
		t.Errorf("sent %q (%+v), want nothing for leads picked up", r.sent(), res)
	}
	if m := r.w.get(lagging.ID); m.EscalationLevel != 0 {
		t.Errorf("a lead picked up was marked: %+v", m)
	}
	r.run(t, "2026-03-05 16:00")
	if len(r.sent()) != 0 {
		t.Errorf("sent %q later", r.sent())
	}
}

// TestEscalationRetriedAfterFailure: an escalation SES refuses gives its
// mark back and fails the run (alarmed); the next run sends it.
func TestEscalationRetriedAfterFailure(t *testing.T) {
	l := waitingLead(t, lead.KindConsultation, true, "2026-03-03 10:00")
	r := newEscalationRig(t, nil, l)
	r.out.fail = func(sesmail.Message) error { return errors.New("ses: 503") }
	r.mu.Lock()
	r.now = local(t, "2026-03-03 10:31")
	r.mu.Unlock()
	res, err := r.h.Sweep(context.Background())
	if !errors.Is(err, errEscalationFailures) || res.EscalationFailed != 1 || res.Escalated != 0 {
		t.Fatalf("Sweep = %+v, %v; want one failed escalation reported as an error", res, err)
	}
	if m := r.w.get(l.ID); m.EscalationLevel != 0 {
		t.Fatalf("mark kept after a failed send: %+v", m)
	}
	if lines := failureLines(t, r.logs.String()); len(lines) != 1 || lines[0]["leadId"] != l.ID {
		t.Errorf("failure log lines %v, want one naming the lead", lines)
	}
	r.out.fail = nil
	r.run(t, "2026-03-03 10:45")
	if got := r.sent(); len(got) != 1 || !strings.HasPrefix(got[0], "manager@clinic.example URGENT (in crisis): OVERDUE: New consultation request") {
		t.Errorf("sent %q", got)
	}
}

// TestCrisisIgnoresBusinessHours: at night a crisis lead escalates after
// CRISIS_SLA while a lead not in crisis waits for opening hours.
func TestCrisisIgnoresBusinessHours(t *testing.T) {
	crisis := waitingLead(t, lead.KindConsultation, true, "2026-03-07 02:00") // Saturday night
	normal := waitingLead(t, lead.KindConsultation, false, "2026-03-07 02:00")
	r := newEscalationRig(t, nil, crisis, normal)
	r.run(t, "2026-03-07 02:29")
	if len(r.sent()) != 0 {
		t.Fatalf("sent %q before 30 minutes", r.sent())
	}
	r.run(t, "2026-03-07 02:30")
	r.run(t, "2026-03-07 03:00")
	r.run(t, "2026-03-08 23:00") // Sunday night: the normal lead has had no business hours yet
	want := []string{
		"manager@clinic.example URGENT (in crisis): OVERDUE: New consultation request " + lead.ShortID(crisis.ID) + " (waiting 30 min)",
		"manager@clinic.example,4105550100@sms.example URGENT (in crisis): OVERDUE, 2nd alert: New consultation request " + lead.ShortID(crisis.ID) + " (waiting 1 h)",
	}
	if got := r.sent(); !reflect.DeepEqual(got, want) {
		t.Fatalf("sent %q, want %q", got, want)
	}
	r.run(t, "2026-03-09 12:59") // Monday; the clocks changed on Sunday
	r.run(t, "2026-03-09 13:00")
	if got := r.sent(); len(got) != 3 || !strings.HasSuffix(got[2], "OVERDUE: New consultation request "+lead.ShortID(normal.ID)+" (waiting 2 d 10 h)") {
		t.Errorf("sent %q, want the normal lead at Monday 13:00", got)
	}
}

// TestOverlappingRunsEscalateOnce: runs at the same moment send each
// level once.
func TestOverlappingRunsEscalateOnce(t *testing.T) {
	l := waitingLead(t, lead.KindConsultation, false, "2026-03-03 10:00")
	r := newEscalationRig(t, nil, l)
	r.mu.Lock()
	r.now = local(t, "2026-03-03 14:05")
	r.mu.Unlock()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.h.Sweep(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := r.sent(); len(got) != 1 {
		t.Errorf("sent %q, want one escalation", got)
	}
}

// TestEscalationListingFails: a failed listing fails the run and
// publishes no gauge (an alarm must not clear on no evidence).
func TestEscalationListingFails(t *testing.T) {
	r := newEscalationRig(t, nil)
	r.w.err = errors.New("dynamodb down")
	if _, err := r.h.Sweep(context.Background()); err == nil || !strings.Contains(err.Error(), "list leads still new") {
		t.Fatalf("Sweep error %v", err)
	}
	if strings.Contains(r.metrics.String(), "LeadsOverdue") {
		t.Errorf("gauge published without a listing:\n%s", r.metrics)
	}
}

// TestEscalationLogsNoLeadContent: the run's logs name leads by id.
func TestEscalationLogsNoLeadContent(t *testing.T) {
	l := waitingLead(t, lead.KindConsultation, true, "2026-03-03 10:00")
	l.FirstName, l.LastName = "MKfirst", "MKlast" // never listed in production; never logged either
	r := newEscalationRig(t, nil, l)
	r.run(t, "2026-03-03 11:00")
	if !strings.Contains(r.logs.String(), `"leadId":"`+l.ID+`"`) || strings.Contains(r.logs.String(), "MK") {
		t.Errorf("logs:\n%s", r.logs)
	}
	if m := r.out.messages(); len(m) != 1 || strings.Contains(m[0].Text+m[0].HTML+m[0].Subject, "MK") {
		t.Errorf("email carries the name: %+v", m)
	}
}
