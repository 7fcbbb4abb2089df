package sesmail

import (
	"fmt"
	"strconv"
	"time"

	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sla"
)

// Escalations and the daily digest are staff mail about leads nobody has
// picked up. They are built from Overdue and Digest, which hold a lead's
// id, form kind, status, times and marks and nothing the person wrote, so
// no detail level can put an answer, a name or an address in them. Their
// subjects are fixed text, the form kind, short ids, waits and counts.

// Overdue is a lead as its escalation email tells of it.
type Overdue struct {
	ID         string
	Kind       lead.Kind
	InCrisis   bool
	ReceivedAt time.Time
	// Level is 1 (past the service level) or 2 (past twice the level:
	// the louder one, which also goes to the on-call address).
	Level int
	// Wait is how long the person has waited (wall clock).
	Wait time.Duration
	// Due is when the lead reached Level; ServiceLevel says which level
	// applies, for people (sla.Policy.Describe).
	Due          time.Time
	ServiceLevel string
}

// Subject parts of escalations. An escalation keeps the staff email's
// subject after its own prefix, so a mail client threads them apart.
const (
	overduePrefix      = "OVERDUE: "
	overdueAgainPrefix = "OVERDUE, 2nd alert: "
)

// EscalationSubject is the subject of o's escalation: "OVERDUE: New
// consultation request 1a2b3c4d (waiting 2 h 10 min)", the second level
// "OVERDUE, 2nd alert: ...", each after "URGENT (in crisis): " when the
// person said so.
func EscalationSubject(o Overdue) string {
	s := overduePrefix
	if o.Level >= 2 {
		s = overdueAgainPrefix
	}
	s += kindSubject(o.Kind) + lead.ShortID(o.ID) + " (waiting " + sla.FormatWait(o.Wait) + ")"
	if o.InCrisis {
		s = crisisPrefix + s
	}
	return s
}

func kindSubject(k lead.Kind) string {
	if k == lead.KindConsultation {
		return subjectConsultation
	}
	return subjectContact
}

// kindName is a form kind for people.
func kindName(k lead.Kind) string {
	if k == lead.KindConsultation {
		return "Consultation request"
	}
	return "Contact message"
}

type escalationView struct {
	ShortID, ID  string
	Kind         string
	InCrisis     bool
	Second       bool
	Wait         string
	Received     string
	Due          string
	ServiceLevel string
	InboxLink    string
	LeadsTable   string
	ClinicName   string
}

// BuildEscalation builds the escalation of o to to.
func (b *Builder) BuildEscalation(o Overdue, to []string) (Message, error) {
	if !isLeadID(o.ID) || (o.Kind != lead.KindContact && o.Kind != lead.KindConsultation) || o.Level < 1 || o.Level > 2 {
		return Message{}, fmt.Errorf("%w: escalation of a lead without a pipeline id, a known kind or a level of 1 or 2", ErrInvalidMessage)
	}
	if !lead.IsSingleLine(o.ServiceLevel) {
		return Message{}, fmt.Errorf("%w: service level must be one line", ErrInvalidMessage)
	}
	v := escalationView{
		ShortID: lead.ShortID(o.ID), ID: o.ID, Kind: kindName(o.Kind), InCrisis: o.InCrisis, Second: o.Level >= 2,
		Wait: sla.FormatWait(o.Wait), Received: b.when(o.ReceivedAt), Due: b.when(o.Due), ServiceLevel: o.ServiceLevel,
		InboxLink: b.link(o.ID), LeadsTable: b.table, ClinicName: b.clinic.Name,
	}
	m := Message{From: b.from, To: to, Subject: EscalationSubject(o)}
	var err error
	if m.Text, m.HTML, err = render("escalation", v); err != nil {
		return Message{}, err
	}
	if err := m.Validate(); err != nil {
		return Message{}, fmt.Errorf("escalation of lead %s: %w", o.ID, err)
	}
	return m, nil
}

// link is the lead's place in the staff inbox, by its id only; "" without
// an inbox URL.
func (b *Builder) link(id string) string {
	if b.inbox == "" {
		return ""
	}
	return b.inbox + "#/leads/" + id
}

// when is a time in the clinic's zone when there is one, else UTC.
func (b *Builder) when(t time.Time) string {
	if b.loc != nil {
		return formatTime(t, b.loc)
	}
	return formatTime(t, time.UTC)
}

// Digest is the daily summary for staff (the notifier's digest).
type Digest struct {
	// Day is the clinic's day it reports on (yesterday), at its start.
	Day time.Time
	// Received counts the day's leads by form kind and status now.
	Received map[lead.Kind]map[lead.Status]int
	// StillNew are the leads still new (oldest first), with their waits;
	// StillNewTotal counts them all when the list is cut short.
	StillNew      []DigestLead
	StillNewTotal int
	// Spam are the day's leads caught as spam.
	Spam []DigestLead
	// Unsent are the day's leads (not spam) whose staff email has not
	// gone out.
	Unsent []DigestLead
	// Oldest is the oldest lead still open (new, contacted or scheduled);
	// nil when there is none.
	Oldest *DigestLead
}

// DigestLead is one lead in the digest.
type DigestLead struct {
	ID         string
	Kind       lead.Kind
	Status     lead.Status
	ReceivedAt time.Time
	Wait       time.Duration
	Overdue    bool
}

// Overdue counts the leads of d.StillNew that are overdue.
func (d Digest) Overdue() int {
	n := 0
	for _, l := range d.StillNew {
		if l.Overdue {
			n++
		}
	}
	return n
}

// maxDigestRows bounds each list in the digest; the inbox has the rest.
const maxDigestRows = 50

type digestView struct {
	Day           string
	Kinds         []digestKind
	StillNew      digestList
	Spam          digestList
	Unsent        digestList
	Oldest        *digestRow
	InboxLink     string
	LeadsTable    string
	ClinicName    string
	OverdueCount  int
	ReceivedTotal int
}

type digestKind struct {
	Name    string
	Total   int
	Details string // "new 2, contacted 1"
}

type digestList struct {
	Rows  []digestRow
	Total int
	More  int // left out of Rows
}

type digestRow struct {
	ShortID, ID string
	Kind        string
	Status      string
	Received    string
	Age         string // since it was received
	Wait        string // the same, for a lead still new only
	Overdue     bool
	Link        string
}

// DigestSubject is the digest's subject: "Lead digest for Mon 30 Nov
// 2026: 5 received, 3 still new, 1 overdue".
func DigestSubject(d Digest) string {
	return "Lead digest for " + d.Day.Format("Mon 2 Jan 2006") + ": " + strconv.Itoa(receivedTotal(d)) + " received, " +
		strconv.Itoa(max(d.StillNewTotal, len(d.StillNew))) + " still new, " + strconv.Itoa(d.Overdue()) + " overdue"
}

func receivedTotal(d Digest) int {
	n := 0
	for _, byStatus := range d.Received {
		for _, c := range byStatus {
			n += c
		}
	}
	return n
}

// BuildDigest builds the digest d to to.
func (b *Builder) BuildDigest(d Digest, to []string) (Message, error) {
	v := digestView{
		Day: d.Day.Format("Mon 2 Jan 2006"), InboxLink: b.inbox, LeadsTable: b.table, ClinicName: b.clinic.Name,
		OverdueCount: d.Overdue(), ReceivedTotal: receivedTotal(d),
	}
	for _, k := range []lead.Kind{lead.KindConsultation, lead.KindContact} {
		dk := digestKind{Name: kindName(k) + "s"}
		for _, s := range lead.Statuses {
			if n := d.Received[k][s]; n > 0 {
				dk.Total += n
				if dk.Details != "" {
					dk.Details += ", "
				}
				dk.Details += s.Label() + " " + strconv.Itoa(n)
			}
		}
		v.Kinds = append(v.Kinds, dk)
	}
	var err error
	if v.StillNew, err = b.digestList(d.StillNew, max(d.StillNewTotal, len(d.StillNew))); err != nil {
		return Message{}, err
	}
	if v.Spam, err = b.digestList(d.Spam, len(d.Spam)); err != nil {
		return Message{}, err
	}
	if v.Unsent, err = b.digestList(d.Unsent, len(d.Unsent)); err != nil {
		return Message{}, err
	}
	if d.Oldest != nil {
		r, err := b.digestRow(*d.Oldest)
		if err != nil {
			return Message{}, err
		}
		v.Oldest = &r
	}
	m := Message{From: b.from, To: to, Subject: DigestSubject(d)}
	if m.Text, m.HTML, err = render("digest", v); err != nil {
		return Message{}, err
	}
	if err := m.Validate(); err != nil {
		return Message{}, fmt.Errorf("digest: %w", err)
	}
	return m, nil
}

func (b *Builder) digestList(leads []DigestLead, total int) (digestList, error) {
	l := digestList{Total: total}
	for i, d := range leads {
		if i == maxDigestRows {
			break
		}
		r, err := b.digestRow(d)
		if err != nil {
			return digestList{}, err
		}
		l.Rows = append(l.Rows, r)
	}
	l.More = total - len(l.Rows)
	return l, nil
}

func (b *Builder) digestRow(d DigestLead) (digestRow, error) {
	if !isLeadID(d.ID) {
		return digestRow{}, fmt.Errorf("%w: digest lead without a pipeline id", ErrInvalidMessage)
	}
	r := digestRow{
		ShortID: lead.ShortID(d.ID), ID: d.ID, Kind: kindName(d.Kind), Status: d.Status.Label(),
		Received: b.when(d.ReceivedAt), Age: sla.FormatWait(d.Wait), Overdue: d.Overdue, Link: b.link(d.ID),
	}
	if d.Status == lead.StatusNew {
		r.Wait = r.Age
	}
	return r, nil
}
