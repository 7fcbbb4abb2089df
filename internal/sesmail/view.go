package sesmail

import (
	"strings"
	"time"

	"github.com/clinicleads/leadpipe/internal/lead"
)

// The view is where the detail level is enforced: a field the level does
// not allow is never copied into it, so no template can show it by
// mistake. Every row of a section is always present (an empty answer reads
// "not given"), so the HTML's structure never depends on the lead.

type row struct {
	Label string
	Value string
}

type section struct {
	Title string
	Rows  []row
}

type staffView struct {
	Heading     string
	ID          string
	Received    string
	ReceivedUTC string
	InCrisis    bool
	InboxLink   string // the lead in the staff inbox; empty without an InboxURL
	LeadsTable  string
	Minimal     bool
	Sections    []section
	ClinicName  string
}

type confirmationView struct {
	Clinic Clinic
	// FollowUp ends "we will ___.": how the person asked to be reached
	// (followUp).
	FollowUp       string
	CrisisReminder string // lead.Crisis.Reminder
}

const notGiven = "not given"

func (b *Builder) staffView(l lead.Lead) staffView {
	v := staffView{
		ID:          l.ID,
		ReceivedUTC: formatTime(l.CreatedAt, time.UTC),
		InCrisis:    l.InCrisis(),
		LeadsTable:  b.table,
		Minimal:     b.detail == DetailMinimal,
		ClinicName:  b.clinic.Name,
	}
	if b.inbox != "" {
		// Only the id: a URL ends up in browser history and server logs.
		v.InboxLink = b.inbox + "#/leads/" + l.ID
	}
	if b.loc != nil && b.loc != time.UTC {
		v.Received = formatTime(l.CreatedAt, b.loc)
	}
	v.Heading = "New contact message"
	if l.Kind == lead.KindConsultation {
		v.Heading = "New consultation request"
	}
	if b.detail == DetailMinimal {
		return v
	}
	switch {
	case l.Consultation != nil:
		c := l.Consultation
		v.Sections = append(v.Sections, section{Title: "How to reach them", Rows: []row{
			{"Name", strings.TrimSpace(c.FirstName + " " + c.LastName)},
			{"Phone", c.Phone},
			{"Email", c.Email},
			{"Preferred contact", lead.ContactMethods.Label(c.PreferredContact)},
			{"Preferred times", labels(lead.PreferredTimes, c.PreferredTimes)},
			{"Texts OK", yesNo(c.SMSConsent)},
			{"State", c.State},
		}})
		if b.detail == DetailFull {
			v.Sections = append(v.Sections, section{Title: "Their answers", Rows: []row{
				{"In crisis now", yesNo(c.InCrisis)},
				{"Date of birth", c.DateOfBirth},
				{"Concerns", labels(lead.Concerns, c.Concerns)},
				{"Previous treatments", labels(lead.Treatments, c.PreviousTreatments)},
				{"Current medications", c.CurrentMedications},
				{"Medical history", c.MedicalHistory},
				{"Referring provider", c.ReferringProvider},
				{"Heard about us", lead.HearAbout.Label(c.HearAbout)},
				{"Message", c.Message},
			}})
		}
	case l.Contact != nil:
		c := l.Contact
		v.Sections = append(v.Sections, section{Title: "How to reach them", Rows: []row{
			{"Name", c.Name},
			{"Phone", c.Phone},
			{"Email", c.Email},
			{"Preferred contact", lead.ContactMethods.Label(c.PreferredContact)},
			{"Texts OK", yesNo(c.SMSConsent)},
		}})
		if b.detail == DetailFull {
			v.Sections = append(v.Sections, section{Title: "Their message", Rows: []row{
				{"Message", c.Message},
			}})
		}
	}
	if b.detail == DetailFull {
		a := l.Attribution
		v.Sections = append(v.Sections, section{Title: "Where they came from", Rows: []row{
			{"Landing page", a.LandingPage},
			{"Referrer", a.Referrer},
			{"UTM source", a.UTMSource},
			{"UTM medium", a.UTMMedium},
			{"UTM campaign", a.UTMCampaign},
			{"UTM term", a.UTMTerm},
			{"UTM content", a.UTMContent},
		}})
	}
	for _, s := range v.Sections {
		for i := range s.Rows {
			if strings.TrimSpace(s.Rows[i].Value) == "" {
				s.Rows[i].Value = notGiven
			}
		}
	}
	return v
}

func formatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "not recorded"
	}
	return t.In(loc).Format("Mon 2 Jan 2006 15:04 MST")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// labels shows a list answer by its choices' labels, in the order given.
// A value without a label (which validation never lets through) is shown
// as stored.
func labels(cl lead.ChoiceList, vs []string) string {
	return strings.Join(cl.Labels(vs), ", ")
}
