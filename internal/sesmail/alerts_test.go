package sesmail

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/lead"
)

var (
	alertReceived = time.Date(2026, 3, 6, 21, 50, 0, 0, time.UTC) // Fri 16:50 EST
	alertNow      = alertReceived.Add(2*time.Hour + 10*time.Minute)
)

func overdue(kind lead.Kind, crisis bool, level int) Overdue {
	return Overdue{
		ID: testID, Kind: kind, InCrisis: crisis, ReceivedAt: alertReceived, Level: level,
		Wait: alertNow.Sub(alertReceived), Due: alertReceived.Add(30 * time.Minute), ServiceLevel: "30 min around the clock (in crisis)",
	}
}

// subjectRE is every subject an escalation may have: fixed text, the
// form kind, the short id and the wait.
var subjectRE = regexp.MustCompile(`^(URGENT \(in crisis\): )?OVERDUE(, 2nd alert)?: New (consultation request|contact message) [0-9a-f]{8} \(waiting [0-9]+ (min|h|d)( [0-9]+ (min|h))?\)$`)

func TestEscalationSubject(t *testing.T) {
	for _, c := range []struct {
		o    Overdue
		want string
	}{
		{overdue(lead.KindConsultation, false, 1), "OVERDUE: New consultation request " + testShort + " (waiting 2 h 10 min)"},
		{overdue(lead.KindConsultation, true, 1), "URGENT (in crisis): OVERDUE: New consultation request " + testShort + " (waiting 2 h 10 min)"},
		{overdue(lead.KindContact, false, 2), "OVERDUE, 2nd alert: New contact message " + testShort + " (waiting 2 h 10 min)"},
		{overdue(lead.KindConsultation, true, 2), "URGENT (in crisis): OVERDUE, 2nd alert: New consultation request " + testShort + " (waiting 2 h 10 min)"},
	} {
		if got := EscalationSubject(c.o); got != c.want {
			t.Errorf("subject %q, want %q", got, c.want)
		}
		if !subjectRE.MatchString(EscalationSubject(c.o)) {
			t.Errorf("subject %q breaks the fixed-subject rule", EscalationSubject(c.o))
		}
	}
	long := overdue(lead.KindContact, false, 2)
	long.Wait = 3*24*time.Hour + 4*time.Hour + 5*time.Minute
	if got := EscalationSubject(long); !strings.HasSuffix(got, "(waiting 3 d 4 h)") || !subjectRE.MatchString(got) {
		t.Errorf("subject %q", got)
	}
}

func TestBuildEscalation(t *testing.T) {
	b := newInboxBuilder(t, DetailFull, testInbox)
	to := []string{"manager@clinic.example", "oncall@sms.example"}
	m, err := b.BuildEscalation(overdue(lead.KindConsultation, true, 2), to)
	if err != nil {
		t.Fatal(err)
	}
	if m.ToSubmitter || !reflect.DeepEqual(m.To, to) || len(m.ReplyTo) != 0 || !strings.Contains(m.From, testSender) {
		t.Errorf("headers: %+v", m)
	}
	link := testInbox + "#/leads/" + testID
	// The text part's first lines are what an SMS gateway shows.
	lines := strings.Split(m.Text, "\n")
	if !strings.HasPrefix(lines[0], "URGENT") || !strings.Contains(lines[1], "Still nobody has picked up Consultation request "+testShort) ||
		!strings.Contains(lines[1], "2 h 10 min") || lines[2] != "Open in the staff inbox: "+link {
		t.Errorf("text part begins:\n%s", strings.Join(lines[:3], "\n"))
	}
	for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
		for _, want := range []string{testID, "Consultation request", "30 min around the clock (in crisis)", "Fri 6 Mar 2026 16:50 EST", "Fri 6 Mar 2026 17:20 EST", "Twice over"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s part lacks %q:\n%s", part, want, body)
			}
		}
		for _, u := range urlRE.FindAllString(body, -1) {
			if u != link {
				t.Errorf("%s part holds the URL %q", part, u)
			}
		}
	}
	if !strings.Contains(m.HTML, `href="`+link+`"`) {
		t.Errorf("HTML lacks the link:\n%s", m.HTML)
	}

	first, err := b.BuildEscalation(overdue(lead.KindContact, false, 1), to[:1])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(first.Text, "URGENT") || !strings.Contains(first.Text, "Nobody has picked up Contact message "+testShort+" within its service level: waiting 2 h 10 min.") ||
		!strings.Contains(first.Text, "Overdue since: Fri 6 Mar 2026 17:20 EST") {
		t.Errorf("level 1 text:\n%s", first.Text)
	}

	// Without an inbox URL, staff are sent to the table.
	plain, err := newTestBuilder(t, DetailMinimal).BuildEscalation(overdue(lead.KindContact, false, 1), to[:1])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.Text, "#/leads/") || !strings.Contains(plain.Text, "in the table LeadsTable; look it up there.") {
		t.Errorf("without an inbox:\n%s", plain.Text)
	}
}

func TestBuildEscalationRefuses(t *testing.T) {
	b := newInboxBuilder(t, DetailMinimal, testInbox)
	for name, change := range map[string]func(*Overdue){
		"id with a line break": func(o *Overdue) { o.ID = "abc\r\nBcc: x@evil.example" },
		"unknown kind":         func(o *Overdue) { o.Kind = "newsletter" },
		"level 0":              func(o *Overdue) { o.Level = 0 },
		"level 3":              func(o *Overdue) { o.Level = 3 },
		"two-line level":       func(o *Overdue) { o.ServiceLevel = "4 h\nBcc: x" },
	} {
		o := overdue(lead.KindContact, false, 1)
		change(&o)
		if _, err := b.BuildEscalation(o, testStaff); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: %v, want ErrInvalidMessage", name, err)
		}
	}
	if _, err := b.BuildEscalation(overdue(lead.KindContact, false, 1), nil); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("no recipients: %v", err)
	}
}

// TestAlertsCarryOnlyMarks: what an escalation or digest is built from
// has a field for the lead's id, kind, status, times and marks, and none
// for anything the person wrote. A field added here must be one of those,
// or the fixed-subject and no-health-data rules need a new look.
func TestAlertsCarryOnlyMarks(t *testing.T) {
	for typ, want := range map[reflect.Type]string{
		reflect.TypeFor[Overdue]():    "ID Kind InCrisis ReceivedAt Level Wait Due ServiceLevel",
		reflect.TypeFor[DigestLead](): "ID Kind Status ReceivedAt Wait Overdue",
		reflect.TypeFor[Digest]():     "Day Received StillNew StillNewTotal Spam Unsent Oldest",
	} {
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Name)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s has fields %v, want %s", typ, got, want)
		}
	}
}

func digestLead(n int, status lead.Status, age time.Duration, over bool) DigestLead {
	return DigestLead{ID: fmt.Sprintf("01890a5d-ac96-774b-bcce-%012x", n), Kind: lead.KindConsultation, Status: status,
		ReceivedAt: alertNow.Add(-age), Wait: age, Overdue: over}
}

func TestBuildDigest(t *testing.T) {
	b := newInboxBuilder(t, DetailFull, testInbox)
	day := time.Date(2026, 3, 5, 0, 0, 0, 0, mustLoad(t, "America/New_York"))
	var stillNew []DigestLead
	for i := range 60 {
		stillNew = append(stillNew, digestLead(i, lead.StatusNew, time.Duration(60-i)*time.Hour, i < 3))
	}
	oldest := digestLead(100, lead.StatusContacted, 9*24*time.Hour, false)
	d := Digest{
		Day: day,
		Received: map[lead.Kind]map[lead.Status]int{
			lead.KindConsultation: {lead.StatusNew: 2, lead.StatusContacted: 1, lead.StatusSpam: 1},
			lead.KindContact:      {lead.StatusNew: 1},
		},
		StillNew: stillNew, StillNewTotal: 61,
		Spam:   []DigestLead{digestLead(200, lead.StatusSpam, 20*time.Hour, false)},
		Unsent: []DigestLead{digestLead(300, lead.StatusNew, 21*time.Hour, true)},
		Oldest: &oldest,
	}
	m, err := b.BuildDigest(d, []string{"manager@clinic.example"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Lead digest for Thu 5 Mar 2026: 5 received, 61 still new, 3 overdue"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	for _, want := range []string{
		"Received that day: 5",
		"Consultation requests: 4 (New 2, Contacted 1, Spam 1)",
		"Contact messages: 1 (New 1)",
		"Still new now: 61, 3 of them OVERDUE",
		"  " + lead.ShortID(stillNew[0].ID) + "  Consultation request, waiting 2 d 12 h, OVERDUE  " + testInbox + "#/leads/" + stillNew[0].ID,
		"... and 11 more in the inbox.",
		"Caught as spam that day: 1 (if a real person is among them, open the lead and move it back to New)",
		"  " + lead.ShortID(d.Spam[0].ID) + "  Consultation request, received ",
		"Staff email not sent (that day's leads): 1",
		"Oldest open lead: " + lead.ShortID(oldest.ID) + "  Consultation request, Contacted, received ",
		"(9 d ago)",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if n := strings.Count(m.Text, "#/leads/"); n != 50+1+1+1 {
		t.Errorf("%d lead links in the text, want 53 (50 still new, a spam, an unsent, the oldest)", n)
	}
	if !strings.Contains(m.HTML, `<a href="`+testInbox+`#/leads/`+oldest.ID+`">`) || !strings.Contains(m.HTML, "3 of them overdue") {
		t.Errorf("HTML:\n%s", m.HTML)
	}

	empty, err := b.BuildDigest(Digest{Day: day}, []string{"manager@clinic.example"})
	if err != nil {
		t.Fatal(err)
	}
	if empty.Subject != "Lead digest for Thu 5 Mar 2026: 0 received, 0 still new, 0 overdue" ||
		!strings.Contains(empty.Text, "Oldest open lead: none") || !strings.Contains(empty.Text, "Caught as spam that day: 0\n") {
		t.Errorf("empty digest %q:\n%s", empty.Subject, empty.Text)
	}
	bad := d
	bad.Spam = []DigestLead{{ID: "x\ny"}}
	if _, err := b.BuildDigest(bad, []string{"manager@clinic.example"}); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("bad id: %v", err)
	}
}
