package notify

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// scheduledRig is two notify functions built by the production wiring
// (ConfigFromEnv, New) on one table in dynalite and one aws-ses-v2-local,
// as two Lambda instances whose scheduled runs overlap, on a clock the
// test sets.
type scheduledRig struct {
	t     *testing.T
	tbl   *dynamotest.Table
	ses   *localaws.Emulator
	h     [2]*Handler
	store *dynamo.Store
	mu    sync.Mutex
	now   time.Time
}

func newScheduledRig(t *testing.T, digest bool) *scheduledRig {
	t.Helper()
	r := &scheduledRig{t: t, tbl: dynamotest.New(t), ses: awstest.SES(t)}
	r.store = dynamo.New(r.tbl.Client, r.tbl.Name)
	for i := range r.h {
		h, _, _ := emulatorHandler(t, r.tbl, r.ses)
		h.suppressions = nil // aws-ses-v2-local has no suppression list
		h.digestOff = !digest
		h.now = func() time.Time {
			r.mu.Lock()
			defer r.mu.Unlock()
			return r.now
		}
		r.h[i] = h
	}
	return r
}

// put stores a new lead received at the wall time at, as intake would,
// with its staff email and confirmation already sent (so the runs send
// nothing but escalations and digests).
func (r *scheduledRig) put(kind lead.Kind, crisis bool, at string, status lead.Status) lead.Lead {
	r.t.Helper()
	ev := "stream-insert-contact.json"
	if kind == lead.KindConsultation {
		ev = "stream-insert-consultation.json"
	}
	l := leadOf(r.t, loadEvent(r.t, ev).Records[0])
	l.CreatedAt = local(r.t, at).UTC()
	l.ID, l.ExpiresAt, l.Status = lead.NewID(l.CreatedAt), l.CreatedAt.Add(365*24*time.Hour), status
	if l.Consultation != nil {
		l.Consultation.InCrisis = crisis
	}
	ctx := context.Background()
	r.store.Now = func() time.Time { return l.CreatedAt }
	if err := r.store.Put(ctx, l); err != nil {
		r.t.Fatal(err)
	}
	for _, mark := range []func(context.Context, string, time.Time) error{r.store.MarkNotified, r.store.MarkConfirmed} {
		if err := mark(ctx, l.ID, l.CreatedAt.Add(time.Minute)); err != nil {
			r.t.Fatal(err)
		}
	}
	return l
}

// overlap runs both functions' scheduled runs at once at the wall time at.
func (r *scheduledRig) overlap(at string) {
	r.t.Helper()
	r.mu.Lock()
	r.now = local(r.t, at)
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, h := range r.h {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Sweep(context.Background()); err != nil {
				r.t.Errorf("run at %s: %v", at, err)
			}
		}()
	}
	wg.Wait()
}

// mails are the captured emails, as "to subject".
func (r *scheduledRig) mails() []string {
	var out []string
	for _, m := range awstest.SESStore(r.t, r.ses.Endpoint) {
		out = append(out, strings.Join(m.Destination.To, ",")+" "+m.Subject)
	}
	return out
}

func countWith(mails []string, part string) int {
	n := 0
	for _, m := range mails {
		if strings.Contains(m, part) {
			n++
		}
	}
	return n
}

// afterListing runs then after each listing of the leads still new: a
// change made between a run's Query and its marks.
type afterListing struct {
	watchlist
	then func(now time.Time)
}

func (a *afterListing) Waiting(ctx context.Context, from, to time.Time) (dynamo.Listing, error) {
	w, err := a.watchlist.Waiting(ctx, from, to)
	a.then(to)
	return w, err
}

// TestEscalationAgainstEmulators: against dynalite and aws-ses-v2-local, a
// lead left new gets exactly one escalation per level across overlapping
// runs, and a lead moved to contacted gets none.
func TestEscalationAgainstEmulators(t *testing.T) {
	r := newScheduledRig(t, false)
	left := r.put(lead.KindConsultation, false, "2026-03-03 10:00", lead.StatusNew)
	worked := r.put(lead.KindContact, false, "2026-03-03 10:00", lead.StatusNew)
	// A staff member moves it on in the inbox (the staff store's
	// transaction, through the stream proxy).
	staffStore := dynamo.NewStaff(dynamo.StaffClientAPI(r.tbl.Transactional(t)), r.tbl.Name)
	if _, err := staffStore.Change(context.Background(), dynamo.Change{
		LeadID: worked.ID, Seen: 1, From: lead.StatusNew, To: lead.StatusContacted, At: local(t, "2026-03-03 11:00"),
		Actor: lead.Actor{Subject: "sub-1", Email: "staff@clinic.test"},
	}); err != nil {
		t.Fatal(err)
	}

	// Another is moved on just after the first overdue run listed it, so
	// that run still sees it as new: the status condition of the mark
	// and the re-check stop it.
	raced := r.put(lead.KindConsultation, false, "2026-03-03 10:00", lead.StatusNew)
	var once sync.Once
	for _, h := range r.h {
		h.watch = &afterListing{watchlist: h.watch, then: func(now time.Time) {
			if now.Before(local(t, "2026-03-03 14:00")) {
				return
			}
			once.Do(func() {
				if _, err := staffStore.Change(context.Background(), dynamo.Change{
					LeadID: raced.ID, Seen: 1, From: lead.StatusNew, To: lead.StatusContacted, At: now,
					Actor: lead.Actor{Subject: "sub-1", Email: "staff@clinic.test"},
				}); err != nil {
					t.Error(err)
				}
			})
		}}
	}

	r.overlap("2026-03-03 13:55")
	if got := r.mails(); len(got) != 0 {
		t.Fatalf("mails before the level: %q", got)
	}
	r.overlap("2026-03-03 14:00") // LEAD_SLA: 4 business hours
	r.overlap("2026-03-03 14:15")
	r.overlap("2026-03-04 10:00") // twice the level
	r.overlap("2026-03-04 10:15")

	got := r.mails()
	short := lead.ShortID(left.ID)
	want := []string{
		"intake@clinic.example,nurse@clinic.example OVERDUE: New consultation request " + short + " (waiting 4 h)",
		"intake@clinic.example,nurse@clinic.example OVERDUE, 2nd alert: New consultation request " + short + " (waiting 1 d)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("mails:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range []lead.Lead{worked, raced} {
		if n := countWith(got, lead.ShortID(l.ID)); n != 0 {
			t.Errorf("%d escalations of a lead moved to contacted", n)
		}
	}
	m, err := r.store.Marks(context.Background(), left.ID)
	if err != nil || m.EscalationLevel != 2 || !m.EscalatedAt.Equal(local(t, "2026-03-04 10:00")) {
		t.Errorf("marks %+v, %v", m, err)
	}
	if m, _ := r.store.Marks(context.Background(), worked.ID); m.EscalationLevel != 0 {
		t.Errorf("the lead picked up carries escalation marks: %+v", m)
	}
	mails := awstest.SESStore(t, r.ses.Endpoint)
	if len(mails) > 0 && (!strings.Contains(mails[0].Body.Text, localInbox+"#/leads/"+left.ID) || strings.Contains(mails[0].Body.Text, "Sertraline") ||
		strings.Contains(mails[0].Body.Text, left.Email())) {
		t.Errorf("escalation body:\n%s", mails[0].Body.Text)
	}
}

// TestNightAgainstEmulators: a crisis lead escalates at night; a normal
// lead of the same minute waits for opening hours.
func TestNightAgainstEmulators(t *testing.T) {
	r := newScheduledRig(t, false)
	crisis := r.put(lead.KindConsultation, true, "2026-03-06 22:10", lead.StatusNew) // Friday night
	normal := r.put(lead.KindConsultation, false, "2026-03-06 22:10", lead.StatusNew)
	r.overlap("2026-03-06 22:40")
	r.overlap("2026-03-07 03:00")
	r.overlap("2026-03-09 12:55") // Monday, 3 h 55 min after opening
	got := r.mails()
	want := []string{
		"intake@clinic.example,nurse@clinic.example URGENT (in crisis): OVERDUE: New consultation request " + lead.ShortID(crisis.ID) + " (waiting 30 min)",
		"intake@clinic.example,nurse@clinic.example URGENT (in crisis): OVERDUE, 2nd alert: New consultation request " + lead.ShortID(crisis.ID) + " (waiting 4 h 50 min)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("mails:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	r.overlap("2026-03-09 13:00")
	if got := r.mails(); len(got) != 3 || !strings.HasSuffix(got[2], "OVERDUE: New consultation request "+lead.ShortID(normal.ID)+" (waiting 2 d 13 h)") {
		t.Errorf("mails %q, want the normal lead escalated at Monday 13:00", got)
	}
}

// TestDigestAgainstEmulators: the digest goes out once a day, even when
// runs overlap, with counts and ids and no lead content.
func TestDigestAgainstEmulators(t *testing.T) {
	r := newScheduledRig(t, true)
	for _, h := range r.h {
		h.escalateTo = []string{"manager@clinic.example"}
	}
	newLead := r.put(lead.KindConsultation, false, "2026-03-03 16:00", lead.StatusNew)
	spam := r.put(lead.KindContact, false, "2026-03-03 12:00", lead.StatusSpam)
	r.put(lead.KindContact, false, "2026-03-03 09:30", lead.StatusContacted)

	r.overlap("2026-03-04 07:55")
	r.overlap("2026-03-04 08:00")
	r.overlap("2026-03-04 08:15")
	r.overlap("2026-03-05 08:00")
	r.overlap("2026-03-05 08:15")

	mails := awstest.SESStore(t, r.ses.Endpoint)
	var digests []awstest.SentEmail
	for _, m := range mails {
		if strings.HasPrefix(m.Subject, "Lead digest for ") {
			digests = append(digests, m)
		}
	}
	if len(digests) != 2 {
		t.Fatalf("%d digests over two days, want 2: %q", len(digests), r.mails())
	}
	d := digests[0]
	if d.Subject != "Lead digest for Tue 3 Mar 2026: 3 received, 1 still new, 0 overdue" ||
		strings.Join(d.Destination.To, ",") != "frontdesk@clinic.example,intake@clinic.example,nurse@clinic.example" {
		t.Errorf("digest %q to %q", d.Subject, d.Destination.To)
	}
	for _, want := range []string{
		"Consultation requests: 1 (New 1)", "Contact messages: 2 (Contacted 1, Spam 1)",
		localInbox + "#/leads/" + newLead.ID, localInbox + "#/leads/" + spam.ID, "waiting 16 h",
	} {
		if !strings.Contains(d.Body.Text, want) {
			t.Errorf("digest lacks %q:\n%s", want, d.Body.Text)
		}
	}
	for _, never := range []string{newLead.Email(), spam.Email(), "Sertraline", newLead.Consultation.FirstName} {
		if strings.Contains(d.Body.Text+d.Body.HTML, never) {
			t.Errorf("digest carries lead content %q", never)
		}
	}
	if !strings.HasPrefix(digests[1].Subject, "Lead digest for Wed 4 Mar 2026: 0 received, 1 still new, 1 overdue") {
		t.Errorf("second digest %q", digests[1].Subject)
	}
	if n := r.tbl.Count(t, r.tbl.Name, "digest"); n != 2 {
		t.Errorf("%d digest markers, want 2", n)
	}
}
