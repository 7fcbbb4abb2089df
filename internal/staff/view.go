package staff

import (
	"slices"
	"strings"
	"time"

	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sla"
)

// The JSON the inbox page reads (issue 9's contract). Times are RFC 3339
// in UTC; "...Local" times are for reading, in the clinic's time zone.

type rowBody struct {
	ID            string `json:"id"`
	ShortID       string `json:"shortId"`
	Kind          string `json:"kind"`
	KindLabel     string `json:"kindLabel"`
	Status        string `json:"status"`
	StatusLabel   string `json:"statusLabel"`
	ReceivedAt    string `json:"receivedAt"`
	ReceivedLocal string `json:"receivedLocal"`
	DisplayName   string `json:"displayName"`
	InCrisis      bool   `json:"inCrisis"`
	Notified      bool   `json:"notified"`
	// WaitingMinutes (a lead still new only) and Overdue: see waiting.
	WaitingMinutes *int `json:"waitingMinutes,omitempty"`
	Overdue        bool `json:"overdue"`
}

type listBody struct {
	Leads []rowBody `json:"leads"`
	Next  string    `json:"next,omitempty"`
}

type detailBody struct {
	ID              string          `json:"id"`
	ShortID         string          `json:"shortId"`
	Kind            string          `json:"kind"`
	KindLabel       string          `json:"kindLabel"`
	Status          string          `json:"status"`
	StatusLabel     string          `json:"statusLabel"`
	Version         int             `json:"version"`
	ReceivedAt      string          `json:"receivedAt"`
	ReceivedLocal   string          `json:"receivedLocal"`
	DisplayName     string          `json:"displayName"`
	InCrisis        bool            `json:"inCrisis"`
	WaitingMinutes  *int            `json:"waitingMinutes,omitempty"`
	Overdue         bool            `json:"overdue"`
	NotifiedAt      string          `json:"notifiedAt,omitempty"`
	ConfirmedAt     string          `json:"confirmedAt,omitempty"`
	Sections        []sectionBody   `json:"sections"`
	Consent         consentBody     `json:"consent"`
	Attribution     attributionBody `json:"attribution"`
	History         []historyBody   `json:"history"`
	Notes           []noteBody      `json:"notes"`
	Audit           []auditBody     `json:"audit"`
	AllowedStatuses []string        `json:"allowedStatuses"`
}

type sectionBody struct {
	Title string    `json:"title"`
	Rows  []rowView `json:"rows"`
}

type rowView struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Value string `json:"value"`
}

type consentBody struct {
	ConsentToContact    bool   `json:"consentToContact"`
	AcknowledgedPrivacy bool   `json:"acknowledgedPrivacy"`
	SMSConsent          bool   `json:"smsConsent"`
	At                  string `json:"at"`
	ClientIP            string `json:"clientIp"`
	UserAgent           string `json:"userAgent"`
	LandingPage         string `json:"landingPage"`
}

type attributionBody struct {
	UTMSource   string `json:"utmSource"`
	UTMMedium   string `json:"utmMedium"`
	UTMCampaign string `json:"utmCampaign"`
	UTMTerm     string `json:"utmTerm"`
	UTMContent  string `json:"utmContent"`
	LandingPage string `json:"landingPage"`
	Referrer    string `json:"referrer"`
}

type historyBody struct {
	At   string `json:"at"`
	By   string `json:"by"`
	From string `json:"from"`
	To   string `json:"to"`
}

type noteBody struct {
	At   string `json:"at"`
	By   string `json:"by"`
	Text string `json:"text"`
}

type auditBody struct {
	At        string    `json:"at"`
	Actor     actorBody `json:"actor"`
	Action    string    `json:"action"`
	From      string    `json:"from,omitempty"`
	To        string    `json:"to,omitempty"`
	SourceIP  string    `json:"sourceIp"`
	UserAgent string    `json:"userAgent"`
}

type actorBody struct {
	Sub   string `json:"sub"`
	Email string `json:"email"`
}

// rfc3339 is a stored time for the API: UTC, milliseconds; "" for none.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// local is t for people to read, in the clinic's zone (UTC without one).
func (h *Handler) local(t time.Time) string {
	return t.In(h.zone).Format("Mon 2 Jan 2006 15:04 MST")
}

func kindLabel(k lead.Kind) string {
	switch k {
	case lead.KindContact:
		return "Contact"
	case lead.KindConsultation:
		return "Consultation"
	}
	return string(k)
}

func displayName(name, first, last string) string {
	if name != "" {
		return name
	}
	return strings.TrimSpace(first + " " + last)
}

// waiting is how long a lead still new has waited at now, in whole
// minutes, and whether it is past its service level, by the rules the
// notifier escalates by (package sla); nil and false for any other status.
func (h *Handler) waiting(status lead.Status, received time.Time, inCrisis bool, now time.Time) (*int, bool) {
	if status != lead.StatusNew {
		return nil, false
	}
	mins := int(sla.Wait(received, now) / time.Minute)
	return &mins, h.sla.Overdue(received, now, inCrisis)
}

func (h *Handler) row(r dynamo.LeadRow, now time.Time) rowBody {
	b := rowBody{
		ID:            r.ID,
		ShortID:       lead.ShortID(r.ID),
		Kind:          string(r.Kind),
		KindLabel:     kindLabel(r.Kind),
		Status:        string(r.Status),
		StatusLabel:   r.Status.Label(),
		ReceivedAt:    rfc3339(r.CreatedAt),
		ReceivedLocal: h.local(r.CreatedAt),
		DisplayName:   displayName(r.Name, r.FirstName, r.LastName),
		InCrisis:      r.InCrisis,
		Notified:      !r.NotifiedAt.IsZero(),
	}
	b.WaitingMinutes, b.Overdue = h.waiting(r.Status, r.CreatedAt, r.InCrisis, now)
	return b
}

// detail is the whole of a lead for staff at now, with its audit trail.
func (h *Handler) detail(l lead.Lead, m dynamo.Marks, trail []lead.AuditEntry, now time.Time) detailBody {
	d := detailBody{
		ID:            l.ID,
		ShortID:       lead.ShortID(l.ID),
		Kind:          string(l.Kind),
		KindLabel:     kindLabel(l.Kind),
		Status:        string(l.Status),
		StatusLabel:   l.Status.Label(),
		Version:       l.Version,
		ReceivedAt:    rfc3339(l.CreatedAt),
		ReceivedLocal: h.local(l.CreatedAt),
		InCrisis:      l.InCrisis(),
		NotifiedAt:    rfc3339(m.NotifiedAt),
		ConfirmedAt:   rfc3339(m.ConfirmedAt),
		Sections:      sections(l),
		Consent: consentBody{
			ConsentToContact:    l.Consent.ConsentToContact,
			AcknowledgedPrivacy: l.Consent.AcknowledgedPrivacy,
			SMSConsent:          l.Consent.SMSConsent,
			At:                  rfc3339(l.Consent.At),
			ClientIP:            l.Consent.ClientIP,
			UserAgent:           l.Consent.UserAgent,
			LandingPage:         l.Consent.LandingPage,
		},
		Attribution:     attributionBody(l.Attribution),
		History:         []historyBody{},
		Notes:           []noteBody{},
		Audit:           []auditBody{},
		AllowedStatuses: []string{},
	}
	d.WaitingMinutes, d.Overdue = h.waiting(l.Status, l.CreatedAt, l.InCrisis(), now)
	switch {
	case l.Contact != nil:
		d.DisplayName = displayName(l.Contact.Name, "", "")
	case l.Consultation != nil:
		d.DisplayName = displayName("", l.Consultation.FirstName, l.Consultation.LastName)
	}
	for _, c := range l.History {
		d.History = append(d.History, historyBody{At: rfc3339(c.At), By: c.By.Email, From: string(c.From), To: string(c.To)})
	}
	for _, n := range l.Notes {
		d.Notes = append(d.Notes, noteBody{At: rfc3339(n.At), By: n.By.Email, Text: n.Text})
	}
	for _, e := range trail {
		d.Audit = append(d.Audit, auditBody{
			At: rfc3339(e.At), Actor: actorBody{Sub: e.Actor.Subject, Email: e.Actor.Email}, Action: string(e.Action),
			From: string(e.From), To: string(e.To), SourceIP: e.SourceIP, UserAgent: e.UserAgent,
		})
	}
	for _, s := range lead.Statuses {
		if lead.CanMove(l.Status, s) {
			d.AllowedStatuses = append(d.AllowedStatuses, string(s))
		}
	}
	return d
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// sections are every field the person sent, in the order of the forms,
// keyed by the form's field names; choices read as their labels.
func sections(l lead.Lead) []sectionBody {
	switch {
	case l.Consultation != nil:
		c := l.Consultation
		return []sectionBody{
			{Title: "How to reach them", Rows: []rowView{
				{"firstName", "First name", c.FirstName},
				{"lastName", "Last name", c.LastName},
				{"email", "Email", c.Email},
				{"phone", "Phone", c.Phone},
				{"preferredContact", "Preferred contact", lead.ContactMethods.Label(c.PreferredContact)},
				{"preferredTimes", "Preferred times", strings.Join(lead.PreferredTimes.Labels(c.PreferredTimes), ", ")},
				{"smsConsent", "Texts OK", yesNo(c.SMSConsent)},
				{"state", "State", c.State},
			}},
			{Title: "Their answers", Rows: []rowView{
				{"inCrisis", "In crisis now", yesNo(c.InCrisis)},
				{"dateOfBirth", "Date of birth", c.DateOfBirth},
				{"concerns", "Concerns", strings.Join(lead.Concerns.Labels(c.Concerns), ", ")},
				{"previousTreatments", "Previous treatments", strings.Join(lead.Treatments.Labels(c.PreviousTreatments), ", ")},
				{"currentMedications", "Current medications", c.CurrentMedications},
				{"medicalHistory", "Medical history", c.MedicalHistory},
				{"referringProvider", "Referring provider", c.ReferringProvider},
				{"hearAbout", "Heard about us", lead.HearAbout.Label(c.HearAbout)},
				{"message", "Message", c.Message},
				{"consentToContact", "Consent to contact", yesNo(c.ConsentToContact)},
				{"acknowledgedPrivacy", "Privacy notice acknowledged", yesNo(c.AcknowledgedPrivacy)},
			}},
		}
	case l.Contact != nil:
		c := l.Contact
		return []sectionBody{
			{Title: "How to reach them", Rows: []rowView{
				{"name", "Name", c.Name},
				{"email", "Email", c.Email},
				{"phone", "Phone", c.Phone},
				{"preferredContact", "Preferred contact", lead.ContactMethods.Label(c.PreferredContact)},
				{"smsConsent", "Texts OK", yesNo(c.SMSConsent)},
			}},
			{Title: "Message", Rows: []rowView{
				{"message", "Message", c.Message},
			}},
		}
	}
	return []sectionBody{}
}

// withWritten returns trail with the entries this request wrote, where
// the index (eventually consistent) does not have them yet, newest first.
func withWritten(trail []lead.AuditEntry, written ...lead.AuditEntry) []lead.AuditEntry {
	out := slices.Clone(trail)
	for _, w := range written {
		if !slices.ContainsFunc(trail, func(e lead.AuditEntry) bool {
			return e.At.Equal(w.At) && e.Action == w.Action && e.Actor == w.Actor
		}) {
			out = append(out, w)
		}
	}
	slices.SortStableFunc(out, func(a, b lead.AuditEntry) int { return b.At.Compare(a.At) })
	return out
}
