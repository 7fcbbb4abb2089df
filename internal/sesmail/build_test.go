package sesmail

import (
	"errors"
	"fmt"
	"html"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/lead"
)

var testClinic = Clinic{
	Name:            "Harbor Ketamine Clinic",
	Phone:           "(410) 555-0100",
	Address:         "1 Harbor St, Baltimore, MD 21201",
	CallbackPromise: "within one business day",
}

const (
	testSender = "notify@clinic.example"
	testID     = "01890a5d-ac96-774b-bcce-b302099a8057"
	testShort  = "099a8057"
)

var testStaff = []string{"frontdesk@clinic.example", "intake@clinic.example"}

func newTestBuilder(t testing.TB, d Detail) *Builder {
	t.Helper()
	return newInboxBuilder(t, d, "")
}

// newInboxBuilder is newTestBuilder with the staff inbox's URL set.
func newInboxBuilder(t testing.TB, d Detail, inbox string) *Builder {
	t.Helper()
	b, err := NewBuilder(Config{Sender: testSender, Clinic: testClinic, Detail: d, LeadsTable: "LeadsTable", TimeZone: mustLoad(t, "America/New_York"), InboxURL: inbox})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// Field classes for the marker test: the detail level at which a field may
// first appear in the staff email. never: not at any level.
const (
	atContact = "contact"
	atFull    = "full"
	never     = "never"
)

// markedConsultation fills every string field of the consultation form,
// the attribution, the consent and the controls with a unique marker, and
// returns the markers with the lowest level each may appear at.
func markedConsultation() (lead.Lead, map[string]string) {
	c := &lead.Consultation{
		FirstName:          "MKfirstname",
		LastName:           "MKlastname",
		Email:              "mkemail@patient.example",
		Phone:              "+14105550199",
		DateOfBirth:        "MKdob",
		State:              "MKstate",
		Concerns:           []string{"MKconcern1", "MKconcern2"},
		PreviousTreatments: []string{"MKtreatment1", "MKtreatment2"},
		CurrentMedications: "MKmedications",
		MedicalHistory:     "MKhistory",
		PreferredContact:   "MKprefcontact",
		PreferredTimes:     []string{"MKtime1", "MKtime2"},
		HearAbout:          "MKhearabout",
		ReferringProvider:  "MKprovider",
		Message:            "MKconsultmessage",
		InCrisis:           false,
		Attribution:        markedAttribution("C"),
		Controls:           lead.Controls{Website: "MKCwebsite", SubmissionID: "MKCsubmission", TurnstileToken: "MKCturnstile"},
	}
	l := lead.Lead{
		ID: testID, Kind: lead.KindConsultation, Status: lead.StatusNew,
		CreatedAt: time.Date(2026, 3, 4, 15, 4, 5, 0, time.UTC), Consultation: c,
		Attribution: c.Attribution,
		Consent:     lead.Consent{ClientIP: "MKCclientip", UserAgent: "MKCuseragent", LandingPage: "MKClandingconsent"},
	}
	m := map[string]string{
		"MKfirstname": atContact, "MKlastname": atContact, "mkemail@patient.example": atContact,
		"+14105550199": atContact, "MKstate": atContact, "MKprefcontact": atContact,
		"MKtime1": atContact, "MKtime2": atContact,
		"MKdob": atFull, "MKconcern1": atFull, "MKconcern2": atFull, "MKtreatment1": atFull,
		"MKtreatment2": atFull, "MKmedications": atFull, "MKhistory": atFull, "MKhearabout": atFull,
		"MKprovider": atFull, "MKconsultmessage": atFull,
		"MKCwebsite": never, "MKCsubmission": never, "MKCturnstile": never,
		"MKCclientip": never, "MKCuseragent": never, "MKClandingconsent": never,
	}
	for k, v := range attributionMarkers("C") {
		m[k] = v
	}
	return l, m
}

func markedContact() (lead.Lead, map[string]string) {
	c := &lead.Contact{
		Name:             "MKname",
		Email:            "mkcontact@patient.example",
		Phone:            "+14105550188",
		Message:          "MKcontactmessage",
		PreferredContact: "MKcontactpref",
		Attribution:      markedAttribution("K"),
		Controls:         lead.Controls{Website: "MKKwebsite", SubmissionID: "MKKsubmission", TurnstileToken: "MKKturnstile"},
	}
	l := lead.Lead{
		ID: testID, Kind: lead.KindContact, Status: lead.StatusNew,
		CreatedAt: time.Date(2026, 3, 4, 15, 4, 5, 0, time.UTC), Contact: c,
		Attribution: c.Attribution,
		Consent:     lead.Consent{ClientIP: "MKKclientip", UserAgent: "MKKuseragent", LandingPage: "MKKlandingconsent"},
	}
	m := map[string]string{
		"MKname": atContact, "mkcontact@patient.example": atContact, "+14105550188": atContact,
		"MKcontactpref": atContact, "MKcontactmessage": atFull,
		"MKKwebsite": never, "MKKsubmission": never, "MKKturnstile": never,
		"MKKclientip": never, "MKKuseragent": never, "MKKlandingconsent": never,
	}
	for k, v := range attributionMarkers("K") {
		m[k] = v
	}
	return l, m
}

func markedAttribution(p string) lead.Attribution {
	return lead.Attribution{
		UTMSource: "MK" + p + "utmsource", UTMMedium: "MK" + p + "utmmedium", UTMCampaign: "MK" + p + "utmcampaign",
		UTMTerm: "MK" + p + "utmterm", UTMContent: "MK" + p + "utmcontent",
		LandingPage: "MK" + p + "landing", Referrer: "MK" + p + "referrer",
	}
}

func attributionMarkers(p string) map[string]string {
	m := map[string]string{}
	for _, f := range []string{"utmsource", "utmmedium", "utmcampaign", "utmterm", "utmcontent", "landing", "referrer"} {
		m["MK"+p+f] = atFull
	}
	return m
}

// allowed reports whether a marker of class may appear at level d.
func allowed(class string, d Detail) bool {
	switch class {
	case atContact:
		return d == DetailContact || d == DetailFull
	case atFull:
		return d == DetailFull
	}
	return false
}

func TestStaffDetailLevels(t *testing.T) {
	forms := map[string]func() (lead.Lead, map[string]string){"consultation": markedConsultation, "contact": markedContact}
	for name, mk := range forms {
		for _, d := range []Detail{DetailMinimal, DetailContact, DetailFull} {
			// With the inbox link as without it: a link adds the id, nothing else.
			for pointer, inbox := range map[string]string{"table": "", "inbox": testInbox} {
				t.Run(name+"/"+string(d)+"/"+pointer, func(t *testing.T) {
					l, markers := mk()
					m, err := newInboxBuilder(t, d, inbox).BuildStaff(l, testStaff)
					if err != nil {
						t.Fatal(err)
					}
					// Markers are plain text; html/template writes '+' as "&#43;".
					for part, body := range map[string]string{"text": m.Text, "html": html.UnescapeString(m.HTML)} {
						var got, want []string
						for mk, class := range markers {
							if strings.Contains(body, mk) {
								got = append(got, mk)
							}
							if allowed(class, d) {
								want = append(want, mk)
							}
						}
						sort.Strings(got)
						sort.Strings(want)
						if !reflect.DeepEqual(got, want) {
							t.Errorf("%s part: markers\n got %q\nwant %q", part, got, want)
						}
						if !strings.Contains(body, testID) {
							t.Errorf("%s part lacks the lead id", part)
						}
						if !strings.Contains(body, "Wed 4 Mar 2026 15:04 UTC") || !strings.Contains(body, "Wed 4 Mar 2026 10:04 EST") {
							t.Errorf("%s part lacks the received time in UTC and the clinic's zone:\n%s", part, body)
						}
					}
					for mk := range markers {
						for _, h := range append([]string{m.Subject, m.From}, m.To...) {
							if strings.Contains(strings.ToLower(h), strings.ToLower(mk)) {
								t.Errorf("header %q carries marker %q", h, mk)
							}
						}
					}
					wantSubject := map[string]string{"consultation": "New consultation request " + testShort, "contact": "New contact message " + testShort}[name]
					if m.Subject != wantSubject {
						t.Errorf("subject %q, want %q", m.Subject, wantSubject)
					}
					wantReplyTo := []string{l.Email()}
					if d == DetailMinimal {
						wantReplyTo = nil // nothing personal at minimal, not even in a header
					}
					if !reflect.DeepEqual(m.ReplyTo, wantReplyTo) {
						t.Errorf("reply-to %q, want %q", m.ReplyTo, wantReplyTo)
					}
					if !reflect.DeepEqual(m.To, testStaff) || m.From != `"Harbor Ketamine Clinic" <notify@clinic.example>` {
						t.Errorf("to %q from %q", m.To, m.From)
					}
				})
			}
		}
	}
}

func TestCrisisShownAtEveryLevel(t *testing.T) {
	for _, d := range []Detail{DetailMinimal, DetailContact, DetailFull} {
		t.Run(string(d), func(t *testing.T) {
			l, _ := markedConsultation()
			l.Consultation.InCrisis = true
			m, err := newTestBuilder(t, d).BuildStaff(l, testStaff)
			if err != nil {
				t.Fatal(err)
			}
			if want := "URGENT (in crisis): New consultation request " + testShort; m.Subject != want {
				t.Errorf("subject %q, want %q", m.Subject, want)
			}
			for _, body := range []string{m.Text, m.HTML} {
				if !strings.Contains(body, "URGENT: this person said they are in crisis now") {
					t.Errorf("body lacks the crisis banner:\n%s", body)
				}
			}
		})
	}
	l, _ := markedConsultation()
	m, err := newTestBuilder(t, DetailFull).BuildStaff(l, testStaff)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Text, "URGENT") || strings.Contains(m.HTML, "URGENT") || strings.Contains(m.Subject, "URGENT") {
		t.Error("a lead not in crisis is marked urgent")
	}
}

// TestConfirmationFollowsPreferredContact: the confirmation promises the
// way the person asked to be reached, not a call to someone who chose
// email or texts (issue 11, newcomer 4), on both forms and in both parts;
// without a choice it promises no particular way, phone number or not.
func TestConfirmationFollowsPreferredContact(t *testing.T) {
	promises := []string{"call you back", "email you", "text you", "get back to you"}
	for _, tt := range []struct {
		method, phone, want string
	}{
		{"phone", "+14105550188", "call you back"},
		{"email", "+14105550188", "email you"},
		{"email", "", "email you"},
		{"text", "+14105550188", "text you"},
		{"", "+14105550188", "get back to you"},
		{"", "", "get back to you"},
	} {
		for _, form := range []string{"contact", "consultation"} {
			if form == "consultation" && tt.phone == "" {
				continue // its phone is required
			}
			t.Run(form+" "+tt.method+" "+tt.phone, func(t *testing.T) {
				var l lead.Lead
				if form == "contact" {
					l, _ = markedContact()
					l.Contact.PreferredContact, l.Contact.Phone = tt.method, tt.phone
					l.Contact.SMSConsent = tt.method == "text"
				} else {
					l, _ = markedConsultation()
					l.Consultation.PreferredContact, l.Consultation.Phone = tt.method, tt.phone
					l.Consultation.SMSConsent = tt.method == "text"
				}
				m, err := newTestBuilder(t, DetailMinimal).BuildConfirmation(l)
				if err != nil {
					t.Fatal(err)
				}
				for part, body := range map[string]string{"text": m.Text, "html": html.UnescapeString(m.HTML)} {
					want := "We received your request, and within one business day we will " + tt.want + "."
					if !strings.Contains(body, want) {
						t.Errorf("%s part lacks %q:\n%s", part, want, body)
					}
					for _, other := range promises {
						if other != tt.want && strings.Contains(body, other) {
							t.Errorf("%s part also promises %q", part, other)
						}
					}
				}
			})
		}
	}
}

func TestConfirmation(t *testing.T) {
	for name, mk := range map[string]func() (lead.Lead, map[string]string){"consultation": markedConsultation, "contact": markedContact} {
		t.Run(name, func(t *testing.T) {
			l, markers := mk()
			m, err := newTestBuilder(t, DetailFull).BuildConfirmation(l)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m.To, []string{l.Email()}) || len(m.ReplyTo) != 0 {
				t.Errorf("to %q reply-to %q", m.To, m.ReplyTo)
			}
			if m.Subject != "We received your request - Harbor Ketamine Clinic" {
				t.Errorf("subject %q", m.Subject)
			}
			for part, body := range map[string]string{"text": m.Text, "html": html.UnescapeString(m.HTML)} {
				for mk := range markers {
					// The address is the recipient; nothing the person wrote is echoed.
					if strings.Contains(body, mk) {
						t.Errorf("%s part echoes %q", part, mk)
					}
				}
				// The marked leads' contact method is a marker, not a choice:
				// no particular way is promised (TestConfirmationFollowsPreferredContact).
				for _, want := range []string{"988", "911", "Suicide &", "If you are in crisis, call or text 988", "In an emergency, call 911.",
					"We received your request, and within one business day we will get back to you.",
					testClinic.Name, testClinic.Phone, testClinic.Address} {
					if !strings.Contains(body, want) {
						t.Errorf("%s part lacks %q:\n%s", part, want, body)
					}
				}
			}
		})
	}
	t.Run("crisis", func(t *testing.T) {
		l, _ := markedConsultation()
		l.Consultation.InCrisis = true
		m, err := newTestBuilder(t, DetailMinimal).BuildConfirmation(l)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(m.Subject, "URGENT") || strings.Contains(m.Text, "URGENT") || !strings.Contains(m.Text, "call or text 988") {
			t.Errorf("subject %q text:\n%s", m.Subject, m.Text)
		}
	})
	t.Run("spam", func(t *testing.T) {
		l, _ := markedContact()
		l.Status = lead.StatusSpam
		if _, err := newTestBuilder(t, DetailFull).BuildConfirmation(l); !errors.Is(err, ErrNoConfirmation) {
			t.Errorf("err = %v, want ErrNoConfirmation", err)
		}
	})
	t.Run("invalid address", func(t *testing.T) {
		l, _ := markedContact()
		l.Contact.Email = "someone@example.com\r\nBcc: victim@example.com"
		_, err := newTestBuilder(t, DetailFull).BuildConfirmation(l)
		if !errors.Is(err, ErrInvalidMessage) || !IsPermanent(err) {
			t.Errorf("err = %v, want a permanent ErrInvalidMessage", err)
		}
		if err != nil && strings.Contains(err.Error(), "victim") {
			t.Errorf("error quotes the address: %v", err)
		}
	})
}

// hostile values: each must reach the reader as text, never as markup or a
// template action.
var hostile = []string{`<script>alert(1)</script>`, `"><img src=x onerror=x>`, `{{.}}`, `{{template "x"}}`, "' onmouseover='x", `</td></tr></table><a href="javascript:x">`}

func fillAll(l *lead.Lead, s string) {
	fill := func(v reflect.Value) {
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			switch f.Kind() {
			case reflect.String:
				f.SetString(s)
			case reflect.Slice:
				f.Set(reflect.ValueOf([]string{s, s}))
			case reflect.Struct:
				for j := 0; j < f.NumField(); j++ {
					if f.Field(j).Kind() == reflect.String {
						f.Field(j).SetString(s)
					}
				}
			}
		}
	}
	if l.Consultation != nil {
		fill(reflect.ValueOf(l.Consultation).Elem())
		l.Attribution = l.Consultation.Attribution
	}
	if l.Contact != nil {
		fill(reflect.ValueOf(l.Contact).Elem())
		l.Attribution = l.Contact.Attribution
	}
}

func TestHTMLEscaping(t *testing.T) {
	for _, mk := range []func() (lead.Lead, map[string]string){markedConsultation, markedContact} {
		base, _ := mk()
		baseMsg, err := newTestBuilder(t, DetailFull).BuildStaff(base, testStaff)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hostile {
			t.Run(string(base.Kind)+"/"+h, func(t *testing.T) {
				l, _ := mk()
				fillAll(&l, h)
				b := newTestBuilder(t, DetailFull)
				m, err := b.BuildStaff(l, testStaff)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := tagCounts(m.HTML), tagCounts(baseMsg.HTML); !reflect.DeepEqual(got, want) {
					t.Errorf("tags %v, want %v", got, want)
				}
				if strings.Count(m.HTML, "<") != strings.Count(baseMsg.HTML, "<") {
					t.Errorf("the HTML holds a '<' the template did not write")
				}
				for _, bad := range []string{"<script", "<img", "onerror=x>", "<a href"} {
					if strings.Contains(m.HTML, bad) {
						t.Errorf("HTML holds %q", bad)
					}
				}
				if !strings.Contains(html.UnescapeString(m.HTML), h) {
					t.Errorf("HTML part lost the value %q", h)
				}
				// Text bodies are plain text: the value arrives as typed.
				if !strings.Contains(m.Text, h) {
					t.Errorf("text part lost the value %q", h)
				}
				if m.Subject != "New "+map[lead.Kind]string{lead.KindConsultation: "consultation request ", lead.KindContact: "contact message "}[l.Kind]+testShort {
					t.Errorf("subject %q", m.Subject)
				}
				if len(m.ReplyTo) != 0 {
					t.Errorf("reply-to %q for an invalid address", m.ReplyTo)
				}
				c, err := b.BuildConfirmation(withEmail(l, "ok@patient.example"))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(c.HTML, h) || strings.Contains(c.Text, h) {
					t.Errorf("confirmation echoes %q", h)
				}
			})
		}
	}
}

func withEmail(l lead.Lead, e string) lead.Lead {
	if l.Consultation != nil {
		c := *l.Consultation
		c.Email = e
		l.Consultation = &c
	}
	if l.Contact != nil {
		c := *l.Contact
		c.Email = e
		l.Contact = &c
	}
	return l
}

var tagRE = regexp.MustCompile(`<\s*/?\s*([A-Za-z][A-Za-z0-9-]*)`)

// tagCounts counts start and end tags by name.
func tagCounts(html string) map[string]int {
	n := map[string]int{}
	for _, m := range tagRE.FindAllStringSubmatch(html, -1) {
		n[strings.ToLower(m[0][:strings.Index(m[0], m[1])])+strings.ToLower(m[1])]++
	}
	return n
}

func TestHeadersRefuseLineBreaks(t *testing.T) {
	l, _ := markedConsultation()
	b := newTestBuilder(t, DetailContact)
	for _, to := range [][]string{
		{"staff@clinic.example\r\nBcc: x@evil.example"},
		{"staff@clinic.example\n"},
		{"Staff <staff@clinic.example>"},
		{},
		nil,
	} {
		if _, err := b.BuildStaff(l, to); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("to %q: err = %v, want ErrInvalidMessage", to, err)
		}
	}
	for _, e := range []string{"a@b.example\r\nBcc: x@evil.example", "a@b.example\nX: y", "\"a\r\n\"@b.example", "a@b.example\x00"} {
		m, err := b.BuildStaff(withEmail(l, e), testStaff)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.ReplyTo) != 0 {
			t.Errorf("reply-to %q from an invalid address", m.ReplyTo)
		}
	}
	for _, c := range []Config{
		{Sender: "notify@clinic.example\r\nBcc: x@evil.example", Clinic: testClinic, Detail: DetailContact},
		{Sender: "notify@clinic.example", Clinic: Clinic{Name: "Clinic\r\nBcc: x@evil.example"}, Detail: DetailContact},
		{Sender: "notify@clinic.example", Clinic: Clinic{Name: "Clinic\nX"}, Detail: DetailContact},
		{Sender: "Clinic <notify@clinic.example>", Clinic: testClinic, Detail: DetailContact},
		{Sender: "notify@clinic.example", Clinic: testClinic, Detail: "everything"},
	} {
		if _, err := NewBuilder(c); err == nil {
			t.Errorf("NewBuilder(%+v) accepted", c)
		}
	}
	for _, id := range []string{"", "abc\r\ndef", "a b", strings.Repeat("a", 65)} {
		l := l
		l.ID = id
		if _, err := b.BuildStaff(l, testStaff); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("id %q: err = %v", id, err)
		}
	}
	for _, m := range []Message{
		{From: testSender, To: testStaff, Subject: "a\r\nBcc: x@evil.example"},
		{From: testSender, To: testStaff, Subject: "a\nb"},
		{From: testSender, To: testStaff, Subject: ""},
		{From: testSender + "\r\n", To: testStaff, Subject: "s"},
		{From: testSender, To: testStaff, ReplyTo: []string{"r@x.example\n"}, Subject: "s"},
		{From: testSender, To: make([]string, 51), Subject: "s"},
	} {
		if err := m.Validate(); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("Validate(%q) = %v", m.Subject+m.From, err)
		}
	}
}

func TestFormatFrom(t *testing.T) {
	for _, c := range []struct{ name, addr, want string }{
		{"", "n@clinic.example", "n@clinic.example"},
		{"Harbor Clinic", "n@clinic.example", `"Harbor Clinic" <n@clinic.example>`},
		{"Clínica Sol", "n@clinic.example", "=?utf-8?q?Cl=C3=ADnica_Sol?= <n@clinic.example>"},
		{`Dr. "Q", MD`, "n@clinic.example", `"Dr. \"Q\", MD" <n@clinic.example>`},
	} {
		got, err := FormatFrom(c.name, c.addr)
		if err != nil || got != c.want {
			t.Errorf("FormatFrom(%q, %q) = %q, %v; want %q", c.name, c.addr, got, err, c.want)
		}
	}
}

func TestParseDetail(t *testing.T) {
	for in, want := range map[string]Detail{"": DetailContact, "minimal": DetailMinimal, " Full ": DetailFull, "contact": DetailContact} {
		if got, err := ParseDetail(in); err != nil || got != want {
			t.Errorf("ParseDetail(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseDetail("all"); err == nil {
		t.Error("ParseDetail(all) accepted")
	}
}

func TestMismatchedLeadRefused(t *testing.T) {
	l, _ := markedConsultation()
	l.Kind = lead.KindContact
	_, err := newTestBuilder(t, DetailMinimal).BuildStaff(l, testStaff)
	if !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("err = %v", err)
	}
}

func ExampleBuilder_BuildStaff() {
	b, _ := NewBuilder(Config{Sender: "notify@clinic.example", Clinic: Clinic{Name: "Harbor Clinic"}, Detail: DetailMinimal})
	m, _ := b.BuildStaff(lead.Lead{
		ID: "01890a5d-ac96-774b-bcce-b302099a8057", Kind: lead.KindContact, Status: lead.StatusNew,
		CreatedAt: time.Date(2026, 3, 4, 15, 4, 5, 0, time.UTC),
		Contact:   &lead.Contact{Name: "Ann", Email: "ann@example.com"},
	}, []string{"staff@clinic.example"})
	fmt.Println(m.Subject)
	fmt.Println(m.ReplyTo)
	fmt.Print(m.Text)
	// Output:
	// New contact message 099a8057
	// []
	// New contact message
	//
	// Lead id:  01890a5d-ac96-774b-bcce-b302099a8057
	// Received: Wed 4 Mar 2026 15:04 UTC
	//
	// This email leaves out personal details on purpose. The whole lead is stored under its id; look it up there.
	//
	// Sent by the Harbor Clinic lead pipeline.
}

// TestOnlyConfirmationsGoToSubmitters: the flag that routes a message
// through the suppressing configuration set is set on confirmations and
// on nothing else.
func TestOnlyConfirmationsGoToSubmitters(t *testing.T) {
	b := newTestBuilder(t, DetailContact)
	for _, l := range []lead.Lead{first(markedConsultation()), first(markedContact())} {
		staff, err := b.BuildStaff(l, []string{"staff@clinic.example"})
		if err != nil {
			t.Fatal(err)
		}
		conf, err := b.BuildConfirmation(l)
		if err != nil {
			t.Fatal(err)
		}
		if staff.ToSubmitter || !conf.ToSubmitter {
			t.Errorf("%s: staff ToSubmitter=%v, confirmation ToSubmitter=%v; want false, true", l.Kind, staff.ToSubmitter, conf.ToSubmitter)
		}
	}
}

func first[A, B any](a A, _ B) A { return a }
