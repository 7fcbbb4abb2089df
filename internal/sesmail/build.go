package sesmail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/clinicleads/leadpipe/internal/lead"
)

//go:embed templates
var templateFS embed.FS

// The templates are parsed once; a broken template stops the program at
// start-up (and every test), never at the first lead.
var (
	htmlTemplates = htmltemplate.Must(htmltemplate.New("").Option("missingkey=error").
			ParseFS(templateFS, "templates/*.html.tmpl"))
	textTemplates = texttemplate.Must(texttemplate.New("").Option("missingkey=error").
			Funcs(texttemplate.FuncMap{"indent": indent}).
			ParseFS(templateFS, "templates/*.txt.tmpl"))
)

// ErrNoConfirmation is returned by BuildConfirmation for a lead that must
// not get one: spam, or any status other than new.
var ErrNoConfirmation = errors.New("no confirmation for this lead")

// Config is what a Builder needs from configuration.
type Config struct {
	// Sender is the verified SES identity mail comes from, a bare address.
	Sender string
	Clinic Clinic
	Detail Detail
	// TimeZone is the clinic's; nil shows times in UTC only.
	TimeZone *time.Location
	// LeadsTable names where staff find the whole lead by its id, when
	// there is no InboxURL.
	LeadsTable string
	// InboxURL is the staff inbox page (the API's URL + "staff"); when
	// set, every staff email links to InboxURL#/leads/<id>, the lead's id
	// and nothing else. See CheckInboxURL.
	InboxURL string
}

// Builder builds staff notifications and submitter confirmations. It is
// safe for concurrent use.
type Builder struct {
	from   string
	clinic Clinic
	detail Detail
	loc    *time.Location
	table  string
	inbox  string
}

// NewBuilder checks c and returns a Builder. The clinic's name becomes the
// display name of From.
func NewBuilder(c Config) (*Builder, error) {
	if _, err := ParseDetail(string(c.Detail)); err != nil || c.Detail == "" {
		return nil, fmt.Errorf("detail level %q: want minimal, contact or full", c.Detail)
	}
	for name, v := range map[string]string{
		"clinic name": c.Clinic.Name, "clinic phone": c.Clinic.Phone,
		"clinic address": c.Clinic.Address, "callback promise": c.Clinic.CallbackPromise,
		"leads table": c.LeadsTable,
	} {
		if !lead.IsSingleLine(v) {
			return nil, fmt.Errorf("%s must be a single line of plain text", name)
		}
	}
	if c.InboxURL != "" {
		if err := CheckInboxURL(c.InboxURL); err != nil {
			return nil, fmt.Errorf("inbox URL: %w", err)
		}
	}
	from, err := FormatFrom(c.Clinic.Name, c.Sender)
	if err != nil {
		return nil, err
	}
	return &Builder{from: from, clinic: c.Clinic, detail: c.Detail, loc: c.TimeZone, table: c.LeadsTable, inbox: c.InboxURL}, nil
}

// CheckInboxURL reports whether raw can be the base of the staff inbox
// links: an absolute https URL, or http on 127.0.0.1 or localhost (a local
// run), of printable ASCII, with no user info, query or fragment (the link
// adds the fragment). Staff click it, so it must not send them, or the
// lead's id, anywhere but the clinic's own inbox over TLS.
func CheckInboxURL(raw string) error {
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= 0x20 || c >= 0x7f {
			return errors.New("want an absolute https URL without spaces or control characters")
		}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return errors.New("want an absolute https URL such as https://abc123.execute-api.us-east-1.amazonaws.com/prod/staff")
	}
	local := u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost"
	if u.Scheme != "https" && !(u.Scheme == "http" && local) {
		return errors.New("want https (http only on 127.0.0.1 or localhost)")
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || strings.Contains(raw, "#") {
		return errors.New("want no user, query or fragment: the link adds #/leads/<id>")
	}
	return nil
}

// Subject lines. They are fixed text, the form kind and the short lead id:
// never anything the submitter wrote.
const (
	crisisPrefix        = "URGENT (in crisis): "
	subjectConsultation = "New consultation request "
	subjectContact      = "New contact message "
)

// StaffSubject returns the subject of the staff email for l.
func StaffSubject(l lead.Lead) string {
	s := subjectContact
	if l.Kind == lead.KindConsultation {
		s = subjectConsultation
	}
	s += lead.ShortID(l.ID)
	if l.InCrisis() {
		s = crisisPrefix + s
	}
	return s
}

// BuildStaff builds the email telling staff about l, addressed to to, with
// Reply-To set to the submitter's address when it is a valid one and the
// detail level is above minimal. What the
// body holds depends on the Builder's Detail.
func (b *Builder) BuildStaff(l lead.Lead, to []string) (Message, error) {
	if err := checkLead(l); err != nil {
		return Message{}, err
	}
	v := b.staffView(l)
	m := Message{From: b.from, To: to, Subject: StaffSubject(l)}
	// At minimal the email carries nothing personal, so not even the
	// submitter's address as Reply-To.
	if e := l.Email(); lead.IsEmail(e) && b.detail != DetailMinimal {
		m.ReplyTo = []string{e}
	}
	var err error
	if m.Text, m.HTML, err = render("staff", v); err != nil {
		return Message{}, err
	}
	if err := m.Validate(); err != nil {
		return Message{}, fmt.Errorf("staff email for lead %s: %w", l.ID, err)
	}
	return m, nil
}

// BuildConfirmation builds the note to the submitter that their request
// arrived. It is generic on purpose: no health details and nothing they
// wrote, only when and how (their preferred contact method) the clinic
// will be in touch, the clinic's details and the crisis line. Spam and
// leads without a valid address get none (ErrNoConfirmation,
// ErrInvalidMessage).
func (b *Builder) BuildConfirmation(l lead.Lead) (Message, error) {
	if err := checkLead(l); err != nil {
		return Message{}, err
	}
	if l.Status != lead.StatusNew {
		return Message{}, fmt.Errorf("lead %s has status %q: %w", l.ID, l.Status, ErrNoConfirmation)
	}
	to := l.Email()
	if !lead.IsEmail(to) {
		return Message{}, fmt.Errorf("confirmation for lead %s: %w: the submitter's address is not valid", l.ID, ErrInvalidMessage)
	}
	v := confirmationView{Clinic: b.clinic, FollowUp: followUp(l), CrisisReminder: lead.Crisis.Reminder}
	m := Message{From: b.from, To: []string{to}, Subject: confirmationSubject(b.clinic.Name), ToSubmitter: true}
	var err error
	if m.Text, m.HTML, err = render("confirmation", v); err != nil {
		return Message{}, err
	}
	if err := m.Validate(); err != nil {
		return Message{}, fmt.Errorf("confirmation for lead %s: %w", l.ID, err)
	}
	return m, nil
}

func confirmationSubject(clinic string) string {
	if clinic == "" {
		return "We received your request"
	}
	return "We received your request - " + clinic
}

// checkLead refuses leads the templates cannot describe truthfully. The id
// goes into the subject, so it must be the pipeline's own kind of id.
func checkLead(l lead.Lead) error {
	if !isLeadID(l.ID) {
		return fmt.Errorf("%w: lead id is not a pipeline id", ErrInvalidMessage)
	}
	switch {
	case l.Kind == lead.KindContact && l.Contact != nil && l.Consultation == nil:
	case l.Kind == lead.KindConsultation && l.Consultation != nil && l.Contact == nil:
	default:
		return fmt.Errorf("%w: lead %s: kind %q does not match its form", ErrInvalidMessage, l.ID, l.Kind)
	}
	return nil
}

// isLeadID: letters, digits and '-', as lead.NewID makes them.
func isLeadID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// followUp is what the confirmation promises the clinic will do: reach
// the person the way they chose (lead.ContactMethods), and without a
// choice promise no particular way, since staff may call or write.
func followUp(l lead.Lead) string {
	var method string
	switch {
	case l.Consultation != nil:
		method = l.Consultation.PreferredContact
	case l.Contact != nil:
		method = l.Contact.PreferredContact
	}
	switch method {
	case "phone":
		return "call you back"
	case "text":
		return "text you"
	case "email":
		return "email you"
	}
	return "get back to you"
}

func render(name string, v any) (text, html string, err error) {
	var tb, hb bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&tb, name+".txt.tmpl", v); err != nil {
		return "", "", fmt.Errorf("render %s text: %w", name, err)
	}
	if err := htmlTemplates.ExecuteTemplate(&hb, name+".html.tmpl", v); err != nil {
		return "", "", fmt.Errorf("render %s html: %w", name, err)
	}
	// The text templates' line structure leaves blank lines at the end.
	return strings.TrimSpace(tb.String()) + "\n", hb.String(), nil
}

// indent puts continuation lines of a multi-line answer under its first
// line in the text part.
func indent(s string) string {
	return strings.ReplaceAll(s, "\n", "\n    ")
}
