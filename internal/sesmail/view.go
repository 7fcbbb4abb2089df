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
	LeadsTable  string
	Minimal     bool
	Sections    []section
	ClinicName  string
}

type confirmationView struct {
	Clinic   Clinic
	CallBack bool
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
			{"Preferred contact", label(contactMethods, c.PreferredContact)},
			{"Preferred times", labels(times, c.PreferredTimes)},
			{"Texts OK", yesNo(c.SMSConsent)},
			{"State", c.State},
		}})
		if b.detail == DetailFull {
			v.Sections = append(v.Sections, section{Title: "Their answers", Rows: []row{
				{"In crisis now", yesNo(c.InCrisis)},
				{"Date of birth", c.DateOfBirth},
				{"Concerns", labels(concerns, c.Concerns)},
				{"Previous treatments", labels(treatments, c.PreviousTreatments)},
				{"Current medications", c.CurrentMedications},
				{"Medical history", c.MedicalHistory},
				{"Referring provider", c.ReferringProvider},
				{"Heard about us", label(hearAbout, c.HearAbout)},
				{"Message", c.Message},
			}})
		}
	case l.Contact != nil:
		c := l.Contact
		v.Sections = append(v.Sections, section{Title: "How to reach them", Rows: []row{
			{"Name", c.Name},
			{"Phone", c.Phone},
			{"Email", c.Email},
			{"Preferred contact", label(contactMethods, c.PreferredContact)},
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

// Labels for the forms' fixed choices. A value without a label (which
// validation never lets through) is shown as stored.
var (
	contactMethods = map[string]string{"email": "Email", "phone": "Phone call", "text": "Text message"}
	times          = map[string]string{"morning": "Morning", "afternoon": "Afternoon", "evening": "Evening"}
	concerns       = map[string]string{
		"depression": "Depression", "treatment_resistant_depression": "Treatment-resistant depression",
		"anxiety": "Anxiety", "ptsd": "PTSD", "ocd": "OCD", "bipolar_depression": "Bipolar depression",
		"chronic_pain": "Chronic pain", "other": "Other",
	}
	treatments = map[string]string{
		"ssri": "SSRI", "snri": "SNRI", "bupropion": "Bupropion", "tricyclic": "Tricyclic",
		"maoi": "MAOI", "antipsychotic_augmentation": "Antipsychotic augmentation",
		"psychotherapy": "Psychotherapy", "tms": "TMS", "ect": "ECT", "esketamine": "Esketamine",
		"ketamine": "Ketamine", "other": "Other", "none": "None",
	}
	hearAbout = map[string]string{
		"search": "Search engine", "social": "Social media", "referral_provider": "Referred by a provider",
		"friend_family": "Friend or family", "advertisement": "Advertisement", "other": "Other",
	}
)

func label(m map[string]string, v string) string {
	if l, ok := m[v]; ok {
		return l
	}
	return v
}

func labels(m map[string]string, vs []string) string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, label(m, v))
	}
	return strings.Join(out, ", ")
}
