package lead

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateValidForms(t *testing.T) {
	if got := validate(t, validContact()); got != nil {
		t.Errorf("contact: failing fields = %v, want none", got)
	}
	if got := validate(t, validConsultation()); got != nil {
		t.Errorf("consultation: failing fields = %v, want none", got)
	}
	// Only the required fields.
	c := &Contact{Name: "A", Email: "a@b.co", Message: "m"}
	if got := validate(t, c); got != nil {
		t.Errorf("minimal contact: failing fields = %v, want none", got)
	}
	cs := &Consultation{FirstName: "A", LastName: "B", Email: "a@b.co", Phone: "4105550134", DateOfBirth: "1990-01-01", State: "md", Concerns: []string{"other"}, ConsentToContact: true, AcknowledgedPrivacy: true}
	if got := validate(t, cs); got != nil {
		t.Errorf("minimal consultation: failing fields = %v, want none", got)
	}
}

func TestValidateEverythingAtOnce(t *testing.T) {
	bad := "a\n" + leakMarker // inner LF: trimming cannot rescue it
	tests := []struct {
		name string
		form interface{ Normalize() }
		want []string
	}{
		{"empty contact", &Contact{}, []string{"name", "email", "message"}},
		{"white space only contact", &Contact{Name: " \t\u00a0\u3000", Email: "\n", Message: "\r\n \r\n", Phone: "  "}, []string{"name", "email", "message"}},
		{"empty consultation", &Consultation{}, []string{"firstName", "lastName", "email", "phone", "dateOfBirth", "state", "concerns", "consentToContact", "acknowledgedPrivacy"}},
		{"white space only consultation", &Consultation{FirstName: " ", LastName: "\t", Email: " ", Phone: " ", DateOfBirth: " ", State: " ", Concerns: []string{}}, []string{"firstName", "lastName", "email", "phone", "dateOfBirth", "state", "concerns", "consentToContact", "acknowledgedPrivacy"}},
		{"every contact field wrong", &Contact{
			Name: bad, Email: leakMarker + "@", Phone: leakMarker, Message: "a\x00" + leakMarker, PreferredContact: "text", SMSConsent: false,
			Attribution: Attribution{UTMSource: bad, UTMMedium: bad, UTMCampaign: bad, UTMTerm: bad, UTMContent: bad, LandingPage: bad, Referrer: bad},
			Controls:    Controls{SubmissionID: leakMarker + " !", TurnstileToken: strings.Repeat("x", 4097)},
		}, []string{"name", "email", "phone", "message", "smsConsent", "utmSource", "utmMedium", "utmCampaign", "utmTerm", "utmContent", "landingPage", "referrer", "submissionId", "cf-turnstile-response"}},
		{"every consultation field wrong", &Consultation{
			FirstName: bad, LastName: bad, Email: "<" + leakMarker + ">", Phone: "555-" + leakMarker, DateOfBirth: leakMarker, State: leakMarker,
			Concerns:           []string{leakMarker, leakMarker, "depression", leakMarker},
			PreviousTreatments: []string{"ssri", leakMarker},
			CurrentMedications: "x\u2028" + leakMarker, MedicalHistory: "x\u202e" + leakMarker, PreferredContact: leakMarker,
			PreferredTimes: []string{"night" + leakMarker}, HearAbout: leakMarker, ReferringProvider: bad, Message: "x\u0085" + leakMarker,
			Attribution: Attribution{UTMSource: bad, Referrer: bad},
		}, []string{"firstName", "lastName", "email", "phone", "dateOfBirth", "state", "concerns", "previousTreatments", "currentMedications", "medicalHistory", "preferredContact", "preferredTimes", "hearAbout", "referringProvider", "message", "consentToContact", "acknowledgedPrivacy", "utmSource", "referrer"}},
		{"consultation smsConsent in form order", &Consultation{
			FirstName: "A", LastName: "B", Email: "a@b.co", Phone: "4105550134", DateOfBirth: "1990-01-01", State: "MD", Concerns: []string{"other"},
			PreferredContact: "text", Attribution: Attribution{UTMSource: bad},
		}, []string{"consentToContact", "acknowledgedPrivacy", "smsConsent", "utmSource"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := validate(t, tt.form)
			if !equalStrings(got, tt.want) {
				t.Errorf("failing fields:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestValidateMessages(t *testing.T) {
	c := &Consultation{Concerns: []string{"x", "x"}, PreviousTreatments: []string{"ssri", "ssri"}, PreferredContact: "text", Email: "bad", Phone: "1"}
	c.Normalize()
	err := testValidator().Validate(c)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *Error", err)
	}
	if e.Code != CodeInvalid || ErrorCode(err) != CodeInvalid {
		t.Errorf("code = %s, want %s", e.Code, CodeInvalid)
	}
	want := map[string]string{
		"firstName":           "this field is required",
		"email":               "must be a valid email address",
		"phone":               "must be a US phone number, such as (410) 555-0134",
		"dateOfBirth":         "this field is required",
		"state":               "this field is required",
		"previousTreatments":  "please choose each option only once",
		"consentToContact":    "please tick this box to continue",
		"acknowledgedPrivacy": "please tick this box to continue",
		"smsConsent":          "please agree to text messages, or choose another way for us to reach you",
	}
	for _, f := range e.Fields {
		if w, ok := want[f.Field]; ok && f.Message != w {
			t.Errorf("%s: message %q, want %q", f.Field, f.Message, w)
		}
		if f.Message == "" || f.Message == "is not valid" {
			t.Errorf("%s: message %q, want a specific message", f.Field, f.Message)
		}
	}
}

// TestValidateLengths: lengths count characters (runes after NFC), not
// bytes, at 0, 1, max and max+1, for one-byte, decomposed, CJK and emoji
// text.
func TestValidateLengths(t *testing.T) {
	type field struct {
		json     string
		max      int
		required bool
		contact  func(*Contact) *string      // nil for consultation fields
		consult  func(*Consultation) *string // nil for contact fields
	}
	fields := []field{
		{"name", 100, true, func(c *Contact) *string { return &c.Name }, nil},
		{"message", 5000, true, func(c *Contact) *string { return &c.Message }, nil},
		{"utmSource", 200, false, func(c *Contact) *string { return &c.UTMSource }, nil},
		{"utmMedium", 200, false, func(c *Contact) *string { return &c.UTMMedium }, nil},
		{"utmCampaign", 200, false, func(c *Contact) *string { return &c.UTMCampaign }, nil},
		{"utmTerm", 200, false, func(c *Contact) *string { return &c.UTMTerm }, nil},
		{"utmContent", 200, false, func(c *Contact) *string { return &c.UTMContent }, nil},
		{"landingPage", 2000, false, func(c *Contact) *string { return &c.LandingPage }, nil},
		{"referrer", 2000, false, func(c *Contact) *string { return &c.Referrer }, nil},
		{"firstName", 60, true, nil, func(c *Consultation) *string { return &c.FirstName }},
		{"lastName", 60, true, nil, func(c *Consultation) *string { return &c.LastName }},
		{"currentMedications", 1000, false, nil, func(c *Consultation) *string { return &c.CurrentMedications }},
		{"medicalHistory", 2000, false, nil, func(c *Consultation) *string { return &c.MedicalHistory }},
		{"referringProvider", 120, false, nil, func(c *Consultation) *string { return &c.ReferringProvider }},
		{"message", 2000, false, nil, func(c *Consultation) *string { return &c.Message }},
		{"utmSource", 200, false, nil, func(c *Consultation) *string { return &c.UTMSource }},
	}
	units := []struct{ name, unit, stored string }{
		{"ascii", "a", "a"},
		{"decomposed é", "e\u0301", "\u00e9"}, // two runes in, one character after NFC
		{"CJK", "中", "中"},
		{"emoji", "😀", "😀"},
		{"Hangul jamo", "\u1100\u1161", "\uac00"}, // composes to one syllable
	}
	for _, f := range fields {
		for _, u := range units {
			for _, n := range []int{0, 1, f.max, f.max + 1} {
				var want []string
				switch {
				case n == 0 && f.required:
					want = []string{f.json}
				case n > f.max:
					want = []string{f.json}
				}
				form := "contact"
				if f.consult != nil {
					form = "consultation"
				}
				t.Run(form+"/"+f.json+"/"+u.name+"/"+itoa(n), func(t *testing.T) {
					in, wantStored := strings.Repeat(u.unit, n), strings.Repeat(u.stored, n)
					if u.unit == "a" && n > len(leakMarker) {
						in = leakMarker + in[len(leakMarker):] // same length; errors must not echo it
						wantStored = in
					}
					var got []string
					var stored string
					if f.contact != nil {
						c := validContact()
						*f.contact(c) = in
						got = validate(t, c)
						stored = *f.contact(c)
					} else {
						c := validConsultation()
						*f.consult(c) = in
						got = validate(t, c)
						stored = *f.consult(c)
					}
					if !equalStrings(got, want) {
						t.Errorf("%d × %q: failing fields = %v, want %v", n, u.unit, got, want)
					}
					if stored != wantStored {
						t.Errorf("normalised value is not the NFC text")
					}
				})
			}
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestValidateEnumsAndLists(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Consultation)
		want   []string
	}{
		{"all concerns", func(c *Consultation) {
			c.Concerns = []string{"depression", "treatment_resistant_depression", "anxiety", "ptsd", "ocd", "bipolar_depression", "chronic_pain", "other"}
		}, nil},
		{"all previous treatments", func(c *Consultation) {
			c.PreviousTreatments = []string{"ssri", "snri", "bupropion", "tricyclic", "maoi", "antipsychotic_augmentation", "psychotherapy", "tms", "ect", "esketamine", "ketamine", "other", "none"}
		}, nil},
		{"all times", func(c *Consultation) { c.PreferredTimes = []string{"morning", "afternoon", "evening"} }, nil},
		{"concerns nil", func(c *Consultation) { c.Concerns = nil }, []string{"concerns"}},
		{"concerns empty", func(c *Consultation) { c.Concerns = []string{} }, []string{"concerns"}},
		{"concerns empty string", func(c *Consultation) { c.Concerns = []string{""} }, []string{"concerns"}},
		{"concerns white space", func(c *Consultation) { c.Concerns = []string{"  "} }, []string{"concerns"}},
		{"concerns unknown", func(c *Consultation) { c.Concerns = []string{"depression", leakMarker} }, []string{"concerns"}},
		{"concerns wrong case", func(c *Consultation) { c.Concerns = []string{"Depression"} }, []string{"concerns"}},
		{"concerns padded", func(c *Consultation) { c.Concerns = []string{" ptsd "} }, nil},
		{"concerns duplicate", func(c *Consultation) { c.Concerns = []string{"ptsd", "ptsd"} }, []string{"concerns"}},
		{"concerns duplicate after trimming", func(c *Consultation) { c.Concerns = []string{"ptsd", " ptsd"} }, []string{"concerns"}},
		{"concerns too many", func(c *Consultation) {
			c.Concerns = []string{"depression", "treatment_resistant_depression", "anxiety", "ptsd", "ocd", "bipolar_depression", "chronic_pain", "other", "other"}
		}, []string{"concerns"}},
		{"concerns flood", func(c *Consultation) {
			c.Concerns = make([]string, 10000)
			for i := range c.Concerns {
				c.Concerns[i] = leakMarker
			}
		}, []string{"concerns"}},
		{"previous treatments unknown", func(c *Consultation) { c.PreviousTreatments = []string{"lsd"} }, []string{"previousTreatments"}},
		{"previous treatments duplicate", func(c *Consultation) { c.PreviousTreatments = []string{"ect", "tms", "ect"} }, []string{"previousTreatments"}},
		{"previous treatments empty list", func(c *Consultation) { c.PreviousTreatments = []string{} }, nil},
		{"previous treatments too many", func(c *Consultation) {
			c.PreviousTreatments = []string{"ssri", "snri", "bupropion", "tricyclic", "maoi", "antipsychotic_augmentation", "psychotherapy", "tms", "ect", "esketamine", "ketamine", "other", "none", "none"}
		}, []string{"previousTreatments"}},
		{"times unknown", func(c *Consultation) { c.PreferredTimes = []string{"night"} }, []string{"preferredTimes"}},
		{"times duplicate", func(c *Consultation) { c.PreferredTimes = []string{"evening", "evening"} }, []string{"preferredTimes"}},
		{"times too many", func(c *Consultation) { c.PreferredTimes = []string{"morning", "afternoon", "evening", "morning"} }, []string{"preferredTimes"}},
		{"preferred contact each", func(c *Consultation) { c.PreferredContact = "email" }, nil},
		{"preferred contact empty", func(c *Consultation) { c.PreferredContact = "" }, nil},
		{"preferred contact unknown", func(c *Consultation) { c.PreferredContact = "fax" }, []string{"preferredContact"}},
		{"preferred contact wrong case", func(c *Consultation) { c.PreferredContact = "EMAIL" }, []string{"preferredContact"}},
		{"hear about each", func(c *Consultation) { c.HearAbout = "referral_provider" }, nil},
		{"hear about unknown", func(c *Consultation) { c.HearAbout = "tv" }, []string{"hearAbout"}},
		{"hear about with a space", func(c *Consultation) { c.HearAbout = "search social" }, []string{"hearAbout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConsultation()
			tt.modify(c)
			if got := validate(t, c); !equalStrings(got, tt.want) {
				t.Errorf("failing fields = %v, want %v", got, tt.want)
			}
		})
	}
	for _, v := range []string{"email", "phone", "text", "", "sms", "Phone"} {
		t.Run("contact preferredContact "+v, func(t *testing.T) {
			c := validContact()
			c.PreferredContact = v
			c.SMSConsent = true
			var want []string
			if v == "sms" || v == "Phone" {
				want = []string{"preferredContact"}
			}
			if got := validate(t, c); !equalStrings(got, want) {
				t.Errorf("failing fields = %v, want %v", got, want)
			}
		})
	}
}

func TestValidateDateOfBirth(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }
	tests := []struct {
		name string
		dob  string
		now  time.Time
		ok   bool
	}{
		{"adult", "1985-12-10", testNow, true},
		{"not a date", "tomorrow", testNow, false},
		{"marker", leakMarker, testNow, false},
		{"February 30", "2000-02-30", testNow, false},
		{"February 30 of 2023", "2023-02-30", testNow, false},
		{"month 13", "2000-13-01", testNow, false},
		{"US order", "06/15/2000", testNow, false},
		{"slashes", "2000/06/15", testNow, false},
		{"one-digit month", "2000-6-15", testNow, false},
		{"with time", "2000-06-15T00:00:00Z", testNow, false},
		{"signed year", "+2000-06-15", testNow, false},
		{"inner space", "2000- 06-15", testNow, false},
		{"padded", " 2000-06-15 ", testNow, true},
		{"exactly 18 today", "2007-06-15", testNow, true},
		{"18 tomorrow", "2007-06-16", testNow, false},
		{"18 yesterday", "2007-06-14", testNow, true},
		{"18 next month", "2007-07-01", testNow, false},
		{"future", "2030-01-01", testNow, false},
		{"born today", "2025-06-15", testNow, false},
		{"exactly 120 today", "1905-06-15", testNow, true},
		{"121 today", "1904-06-15", testNow, false},
		{"121 tomorrow, 120 today", "1904-06-16", testNow, true},
		{"year zero", "0000-01-01", testNow, false},
		// A Feb-29 birthday comes on Mar 1 in common years.
		{"Feb 29, 18th birthday not yet on Feb 28", "2008-02-29", day(2026, time.February, 28), false},
		{"Feb 29, 18 on Mar 1", "2008-02-29", day(2026, time.March, 1), true},
		{"Feb 29 of a common year", "2007-02-29", testNow, false},
		{"Feb 29 of 1900 (not a leap year)", "1900-02-29", testNow, false},
		{"Feb 29 of 2000 (a leap year)", "2000-02-29", testNow, true},
		{"Mar 1 birthday checked on Feb 29", "2010-03-01", day(2028, time.February, 29), false},
		{"Mar 1 birthday on Mar 1", "2010-03-01", day(2028, time.March, 1), true},
		{"Feb 28 birthday on leap Feb 28", "2010-02-28", day(2028, time.February, 28), true},
		{"Feb 28 birthday on Feb 27", "2010-02-28", day(2028, time.February, 27), false},
		{"just after midnight UTC", "2007-06-15", time.Date(2025, time.June, 15, 0, 0, 0, 1, time.UTC), true},
		{"just before midnight UTC", "2007-06-15", time.Date(2025, time.June, 14, 23, 59, 59, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConsultation()
			c.DateOfBirth = tt.dob
			c.Normalize()
			err := NewValidator(func() time.Time { return tt.now }).Validate(c)
			assertNoLeak(t, err)
			got := fieldsOf(t, err)
			var want []string
			if !tt.ok {
				want = []string{"dateOfBirth"}
			}
			if !equalStrings(got, want) {
				t.Errorf("dob %q on %s: failing fields = %v, want %v", tt.dob, tt.now.Format(time.DateOnly), got, want)
			}
		})
	}
}

// dobMessage validates a consultation with date of birth dob at now in
// loc and returns the dateOfBirth field's message, "" when it passes.
func dobMessage(t *testing.T, loc *time.Location, now time.Time, dob string) string {
	t.Helper()
	c := validConsultation()
	c.DateOfBirth = dob
	c.Normalize()
	err := NewValidatorIn(loc, func() time.Time { return now }).Validate(c)
	assertNoLeak(t, err)
	if err == nil {
		return ""
	}
	var e *Error
	if !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "dateOfBirth" {
		t.Fatalf("dob %q: error = %v, want one failing field, dateOfBirth", dob, err)
	}
	return e.Fields[0].Message
}

// TestDateOfBirthSaysWhichRuleFailed: the format, the 18-or-older rule and
// the 120-year limit each have their own message (issue 11, newcomer 7).
func TestDateOfBirthSaysWhichRuleFailed(t *testing.T) {
	const (
		format = "must be a real date written YYYY-MM-DD, such as 1988-04-12"
		adult  = "you must be 18 or older to request a consultation"
		old    = "must be within the last 120 years; please check the year"
	)
	for _, tt := range []struct{ dob, want string }{
		{"1985-12-10", ""},
		{"tomorrow", format},
		{"06/15/2000", format},
		{"2000-02-30", format},
		{"2000-6-15", format},
		{leakMarker, format},
		{"2015-03-01", adult},
		{"2007-06-16", adult}, // 18 tomorrow
		{"2030-01-01", adult}, // not born yet: under 18 as well
		{"1904-06-15", old},
		{"0001-01-01", old},
	} {
		if got := dobMessage(t, time.UTC, testNow, tt.dob); got != tt.want {
			t.Errorf("dob %q: message %q, want %q", tt.dob, got, tt.want)
		}
	}
}

// TestAgeCountsOnTheClinicsDate: "today" is the date where the clinic is.
// At 9 p.m. in New York on 14 June (1 a.m. on 15 June in UTC), someone
// born on 15 June 2008 is 17; in Auckland it is already 15 June when UTC
// is still on the 14th.
func TestAgeCountsOnTheClinicsDate(t *testing.T) {
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	auckland, err := time.LoadLocation("Pacific/Auckland")
	if err != nil {
		t.Fatal(err)
	}
	const adult = "you must be 18 or older to request a consultation"
	nineInNewYork := time.Date(2026, time.June, 14, 21, 0, 0, 0, newYork)
	if u := nineInNewYork.UTC(); u.Day() != 15 {
		t.Fatalf("%v is not 15 June in UTC; the case proves nothing", u)
	}
	earlyInAuckland := time.Date(2026, time.June, 15, 1, 0, 0, 0, auckland) // 14 June 13:00 UTC
	for _, tt := range []struct {
		name string
		loc  *time.Location
		now  time.Time
		dob  string
		want string
	}{
		{"New York, 9 p.m. on the eve of the 18th birthday", newYork, nineInNewYork, "2008-06-15", adult},
		{"UTC at the same instant", time.UTC, nineInNewYork, "2008-06-15", ""},
		{"New York, the birthday itself", newYork, nineInNewYork.Add(3 * time.Hour), "2008-06-15", ""},
		{"New York, born the day before", newYork, nineInNewYork, "2008-06-14", ""},
		{"Auckland, 1 a.m. on the 18th birthday", auckland, earlyInAuckland, "2008-06-15", ""},
		{"UTC at the same instant, still the eve", time.UTC, earlyInAuckland, "2008-06-15", adult},
		// The 120-year limit counts on the same calendar.
		{"New York, 121 tomorrow", newYork, nineInNewYork, "1905-06-15", ""},
		{"UTC, 121 already", time.UTC, nineInNewYork, "1905-06-15", "must be within the last 120 years; please check the year"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := dobMessage(t, tt.loc, tt.now, tt.dob); got != tt.want {
				t.Errorf("dob %s at %v in %v: message %q, want %q", tt.dob, tt.now.UTC(), tt.loc, got, tt.want)
			}
		})
	}
}

func TestValidateState(t *testing.T) {
	all := strings.Fields(`AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO
		MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR GU VI AS MP`)
	if len(all) != 56 {
		t.Fatalf("%d codes in the test list, want 50 states, DC and 5 territories", len(all))
	}
	tests := []struct {
		in   string
		want string // normalised value; "" when invalid
	}{
		{"md", "MD"}, {"Md", "MD"}, {" dc ", "DC"}, {"pr", "PR"},
		{"XX", ""}, {"M D", ""}, {"MD.", ""}, {"Maryland", ""}, {"M", ""}, {"MDX", ""}, {"ＭＤ", ""}, {"M\u200bD", ""}, {leakMarker, ""},
	}
	for _, code := range all {
		tests = append(tests, struct{ in, want string }{code, code})
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c := validConsultation()
			c.State = tt.in
			got := validate(t, c)
			if tt.want == "" {
				if !equalStrings(got, []string{"state"}) {
					t.Errorf("failing fields = %v, want [state]", got)
				}
				return
			}
			if got != nil {
				t.Errorf("failing fields = %v, want none", got)
			}
			if c.State != tt.want {
				t.Errorf("state = %q, want %q", c.State, tt.want)
			}
		})
	}
}

func TestValidateConsent(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Consultation)
		want   []string
	}{
		{"text with consent", func(c *Consultation) { c.PreferredContact, c.SMSConsent = "text", true }, nil},
		{"text without consent", func(c *Consultation) { c.PreferredContact, c.SMSConsent = "text", false }, []string{"smsConsent"}},
		{"phone without sms consent", func(c *Consultation) { c.PreferredContact, c.SMSConsent = "phone", false }, nil},
		{"padded text without consent", func(c *Consultation) { c.PreferredContact, c.SMSConsent = " text ", false }, []string{"smsConsent"}},
		{"no contact consent", func(c *Consultation) { c.ConsentToContact = false }, []string{"consentToContact"}},
		{"no privacy acknowledgement", func(c *Consultation) { c.AcknowledgedPrivacy = false }, []string{"acknowledgedPrivacy"}},
		{"no boxes ticked, wants texts", func(c *Consultation) {
			c.ConsentToContact, c.AcknowledgedPrivacy, c.PreferredContact = false, false, "text"
		}, []string{"consentToContact", "acknowledgedPrivacy", "smsConsent"}},
	}
	for _, tt := range tests {
		t.Run("consultation/"+tt.name, func(t *testing.T) {
			c := validConsultation()
			tt.modify(c)
			if got := validate(t, c); !equalStrings(got, tt.want) {
				t.Errorf("failing fields = %v, want %v", got, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		preferred string
		consent   bool
		want      []string
	}{
		{"text", true, nil},
		{"text", false, []string{"smsConsent"}},
		{"email", false, nil},
		{"", false, nil},
	} {
		t.Run("contact/"+tt.preferred, func(t *testing.T) {
			c := validContact()
			c.PreferredContact, c.SMSConsent = tt.preferred, tt.consent
			if got := validate(t, c); !equalStrings(got, tt.want) {
				t.Errorf("preferredContact %q, smsConsent %v: failing fields = %v, want %v", tt.preferred, tt.consent, got, tt.want)
			}
		})
	}
}

// hostile holds characters that must never reach a single-line field.
var hostile = []struct{ name, s string }{
	{"CR", "\r"},
	{"LF", "\n"},
	{"CRLF header", "\r\nBcc: x@y.com"},
	{"NUL", "\x00"},
	{"tab", "\t"},
	{"vertical tab", "\v"},
	{"form feed", "\f"},
	{"ESC", "\x1b[31m"},
	{"DEL", "\x7f"},
	{"NEL U+0085", "\u0085"},
	{"C1 U+009B", "\u009b"},
	{"line separator U+2028", "\u2028"},
	{"paragraph separator U+2029", "\u2029"},
	{"RLO U+202E", "\u202e"},
	{"LRO U+202D", "\u202d"},
	{"LRI U+2066", "\u2066"},
	{"RLI U+2067", "\u2067"},
	{"PDI U+2069", "\u2069"},
	{"RLM U+200F", "\u200f"},
	{"ALM U+061C", "\u061c"},
	{"ZWSP U+200B", "\u200b"},
	{"ZWJ U+200D", "\u200d"},
	{"ZWNJ U+200C", "\u200c"},
	{"BOM U+FEFF", "\ufeff"},
	{"word joiner U+2060", "\u2060"},
	{"soft hyphen U+00AD", "\u00ad"},
	{"tag character", "\U000E0041"},
	{"replacement character U+FFFD", "\ufffd"},
	{"invalid UTF-8", "\xff\xfe"},
	{"lone surrogate bytes", "\xed\xa0\x80"},
	{"private use", "\ue000"},
	{"noncharacter U+FFFF", "\uffff"},
	{"interlinear annotation U+FFF9", "\ufff9"},
	{"combining flood", strings.Repeat("\u0301", 50)},
	{"mixed combining flood", strings.Repeat("\u0301\u0308\u0323\u0330\u0360", 10)},
	{"enclosing marks flood", strings.Repeat("\u20dd", 20)},
	{"spacing marks between floods", strings.Repeat("\u0301\u0301\u0301\u0301\u0903", 10)},
}

// TestHostileSingleLine puts each hostile character inside every
// single-line field of both forms (inside, so trimming cannot remove it)
// and expects exactly that field to fail, without echoing the value.
func TestHostileSingleLine(t *testing.T) {
	contactFields := []struct {
		json string
		get  func(*Contact) *string
	}{
		{"name", func(c *Contact) *string { return &c.Name }},
		{"email", func(c *Contact) *string { return &c.Email }},
		{"phone", func(c *Contact) *string { return &c.Phone }},
		{"utmSource", func(c *Contact) *string { return &c.UTMSource }},
		{"utmMedium", func(c *Contact) *string { return &c.UTMMedium }},
		{"utmCampaign", func(c *Contact) *string { return &c.UTMCampaign }},
		{"utmTerm", func(c *Contact) *string { return &c.UTMTerm }},
		{"utmContent", func(c *Contact) *string { return &c.UTMContent }},
		{"landingPage", func(c *Contact) *string { return &c.LandingPage }},
		{"referrer", func(c *Contact) *string { return &c.Referrer }},
	}
	consultFields := []struct {
		json string
		get  func(*Consultation) *string
	}{
		{"firstName", func(c *Consultation) *string { return &c.FirstName }},
		{"lastName", func(c *Consultation) *string { return &c.LastName }},
		{"email", func(c *Consultation) *string { return &c.Email }},
		{"phone", func(c *Consultation) *string { return &c.Phone }},
		{"dateOfBirth", func(c *Consultation) *string { return &c.DateOfBirth }},
		{"state", func(c *Consultation) *string { return &c.State }},
		{"referringProvider", func(c *Consultation) *string { return &c.ReferringProvider }},
		{"utmSource", func(c *Consultation) *string { return &c.UTMSource }},
		{"landingPage", func(c *Consultation) *string { return &c.LandingPage }},
		{"referrer", func(c *Consultation) *string { return &c.Referrer }},
	}
	for _, h := range hostile {
		for _, f := range contactFields {
			t.Run("contact/"+f.json+"/"+h.name, func(t *testing.T) {
				c := validContact()
				p := f.get(c)
				*p = injectInto(*p, h.s)
				if got := validate(t, c); !equalStrings(got, []string{f.json}) {
					t.Errorf("failing fields = %v, want [%s]", got, f.json)
				}
			})
		}
		for _, f := range consultFields {
			t.Run("consultation/"+f.json+"/"+h.name, func(t *testing.T) {
				c := validConsultation()
				p := f.get(c)
				*p = injectInto(*p, h.s)
				if got := validate(t, c); !equalStrings(got, []string{f.json}) {
					t.Errorf("failing fields = %v, want [%s]", got, f.json)
				}
			})
		}
	}
}

// injectInto puts bad in the middle of a valid value, with the marker.
func injectInto(valid, bad string) string {
	if valid == "" {
		valid = "ab"
	}
	half := len(valid) / 2
	if at := strings.IndexByte(valid, '@'); at > 0 {
		half = at // keep emails recognisable as emails: a@b.com -> a<bad>@b.com
	}
	return leakMarker + valid[:half] + bad + valid[half:]
}

// TestHostileMultiline: free text may span lines and hold tabs; every
// other hostile character is refused.
func TestHostileMultiline(t *testing.T) {
	// Joiners between letters spell emoji sequences and Persian or Indic
	// words; TestJoinersInFreeText covers where they are refused.
	allowed := map[string]bool{"CR": true, "LF": true, "CRLF header": true, "tab": true, "ZWJ U+200D": true, "ZWNJ U+200C": true}
	contactFields := []struct {
		json string
		get  func(*Contact) *string
	}{
		{"message", func(c *Contact) *string { return &c.Message }},
	}
	consultFields := []struct {
		json string
		get  func(*Consultation) *string
	}{
		{"currentMedications", func(c *Consultation) *string { return &c.CurrentMedications }},
		{"medicalHistory", func(c *Consultation) *string { return &c.MedicalHistory }},
		{"message", func(c *Consultation) *string { return &c.Message }},
	}
	for _, h := range hostile {
		var want []string
		for _, f := range contactFields {
			if !allowed[h.name] {
				want = []string{f.json}
			}
			t.Run("contact/"+f.json+"/"+h.name, func(t *testing.T) {
				c := validContact()
				*f.get(c) = injectInto(baseFor(h.name, *f.get(c)), h.s)
				if got := validate(t, c); !equalStrings(got, want) {
					t.Errorf("failing fields = %v, want %v", got, want)
				}
			})
		}
		for _, f := range consultFields {
			if !allowed[h.name] {
				want = []string{f.json}
			}
			t.Run("consultation/"+f.json+"/"+h.name, func(t *testing.T) {
				c := validConsultation()
				*f.get(c) = injectInto(baseFor(h.name, *f.get(c)), h.s)
				if got := validate(t, c); !equalStrings(got, want) {
					t.Errorf("failing fields = %v, want %v", got, want)
				}
			})
		}
	}
}

// baseFor puts joiners between two letters, where free text allows them
// (beside a space they are refused: TestJoinersInFreeText).
func baseFor(hostileName, valid string) string {
	if hostileName == "ZWJ U+200D" || hostileName == "ZWNJ U+200C" {
		return "ab"
	}
	return valid
}

// TestPercentEncodingIsText: "%0d%0a" is printable text. It is accepted
// where text is, and kept as typed: nothing in this package decodes it.
func TestPercentEncodingIsText(t *testing.T) {
	const enc = "x%0d%0aBcc:%20y@z.com%E2%80%AE"
	c := validContact()
	c.Name, c.Message, c.UTMSource, c.LandingPage = enc, enc, enc, "https://clinic.example/?q="+enc
	if got := validate(t, c); got != nil {
		t.Fatalf("failing fields = %v, want none", got)
	}
	if c.Name != enc || c.Message != enc || c.UTMSource != enc || c.LandingPage != "https://clinic.example/?q="+enc {
		t.Errorf("percent-encoded text changed by Normalize: %+v", c)
	}
	cs := validConsultation()
	cs.FirstName, cs.ReferringProvider, cs.MedicalHistory = enc, enc, enc
	if got := validate(t, cs); got != nil {
		t.Fatalf("failing fields = %v, want none", got)
	}
	if cs.FirstName != enc || cs.ReferringProvider != enc || cs.MedicalHistory != enc {
		t.Errorf("percent-encoded text changed by Normalize: %+v", cs)
	}
	// In an email it is three atext characters and digits, not a line break;
	// the address is valid and stays as typed.
	e := validContact()
	e.Email = "a%0d%0abcc@example.com"
	if got := validate(t, e); got != nil || e.Email != "a%0d%0abcc@example.com" {
		t.Errorf("email %q: failing fields %v", e.Email, got)
	}
}

func TestSingleLineAccepts(t *testing.T) {
	for _, s := range []string{
		"", "Ada Lovelace", "O'Brien-Smith", "José Núñez", "Zoë", "Nguyễn Thị Minh Khai", "Łukasz Żółć",
		"王小明", "山田 太郎", "김민준", "Александр", "Ελένη", "محمد", "דוד", "अनुष्का", "ஸ்ரீ",
		"Ada\u00a0Lovelace", "Dr. Ada (she/her)", "😀", "👍🏽", "🇺🇸", "❤️",
		"e\u0301\u0301\u0301\u0301", // four combining marks: the cap, not over it
		`<script>alert(1)</script>`, `{{.}}`, "%0d%0a",
	} {
		if !IsSingleLine(s) {
			t.Errorf("IsSingleLine(%q) = false, want true", s)
		}
	}
	for _, h := range hostile {
		if IsSingleLine("a" + h.s + "b") {
			t.Errorf("IsSingleLine(a + %s + b) = true, want false", h.name)
		}
	}
	if IsSingleLine("e" + strings.Repeat("\u0301", 5)) {
		t.Error("five combining marks on one letter accepted")
	}
	// Marks reset at every base character: many accented letters are fine.
	if !IsSingleLine(strings.Repeat("e\u0301\u0302", 100)) {
		t.Error("100 letters with two marks each rejected")
	}
}

func TestEmail(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"simple", "ada@example.com", true},
		{"subdomain", "ada@mail.example.co.uk", true},
		{"plus tag", "ada+clinic@example.com", true},
		{"dots", "ada.b.lovelace@example.com", true},
		{"digits in domain", "a@123.example.com", true},
		{"hyphen in domain", "a@my-clinic.example", true},
		{"upper-case local part", "Ada@example.com", true},
		{"upper-case domain, lower-cased first", "ada@EXAMPLE.COM", true},
		{"apostrophe", "o'brien@example.com", true},
		{"punycode domain", "a@xn--bcher-kva.example", true},
		{"punycode top-level domain", "a@example.xn--p1ai", true},
		{"64-char local part", strings.Repeat("a", 64) + "@example.com", true},
		{"254 chars", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + ".com", true},
		{"65-char local part", strings.Repeat("a", 65) + "@example.com", false},
		{"255 chars", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 58) + ".com", false},
		{"64-char label", "a@" + strings.Repeat("b", 64) + ".com", false},
		{"quoted local part", `"<script>"@x.com`, false},
		{"quoted plain", `"ada"@example.com`, false},
		{"CRLF Bcc", "a@b.com\r\nBcc: x@y.com", false},
		{"LF Bcc", "a@b.com\nBcc: x@y.com", false},
		{"display name", "Name <a@b.com>", false},
		{"angle brackets", "<a@b.com>", false},
		{"two with comma", "a@b.com, c@d.com", false},
		{"two with comma, no space", "a@b.com,c@d.com", false},
		{"two with semicolon", "a@b.com;c@d.com", false},
		{"comment", "a(comment)@b.com", false},
		{"space", "a b@c.com", false},
		{"no top-level domain", "a@b", false},
		{"no at", "ab.com", false},
		{"empty local part", "@b.com", false},
		{"empty domain", "a@", false},
		{"two ats", "a@b@c.com", false},
		{"hyphen-led label", "a@-b.com", false},
		{"hyphen-ended label", "a@b-.com", false},
		{"double dot local", "a..b@c.com", false},
		{"leading dot local", ".a@c.com", false},
		{"trailing dot local", "a.@c.com", false},
		{"double dot domain", "a@b..com", false},
		{"trailing dot domain", "a@b.com.", false},
		{"numeric top-level domain", "a@1.2.3.4", false},
		{"IP literal", "a@[127.0.0.1]", false},
		{"one-letter top-level domain", "a@b.c", false},
		{"underscore in domain", "a@b_c.com", false},
		{"backslash", `a\b@c.com`, false},
		{"NUL", "a\x00@b.com", false},
		{"unicode local part", "jos\u00e9@example.com", false},
		{"CJK local part", "用户@example.com", false},
		{"unicode domain", "a@b\u00fccher.example", false},
		{"dotless-i domain", "a@\u0130bm.com", false},
		{"full-width at", "a\uff20b.com", false},
		{"RLO", "a\u202e@b.com", false},
		{"ZWSP", "a\u200b@b.com", false},
		{"encoded word", "=?utf-8?q?a=40evil.com=3e?=@b.com", false},
		{"encoded word, upper case", "=?UTF-8?B?YQ==?=@b.com", false},
		{"marker", leakMarker, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validContact()
			c.Email = tt.in
			got := validate(t, c)
			var want []string
			if !tt.ok {
				want = []string{"email"}
			}
			if !equalStrings(got, want) {
				t.Errorf("email %q: failing fields = %v, want %v", tt.in, got, want)
			}
			if tt.ok && !IsEmail(c.Email) {
				t.Errorf("IsEmail(%q) = false after Normalize", c.Email)
			}
			// The consultation form applies the same rule.
			cs := validConsultation()
			cs.Email = tt.in
			if got := validate(t, cs); !equalStrings(got, want) {
				t.Errorf("consultation email %q: failing fields = %v, want %v", tt.in, got, want)
			}
		})
	}
}

func TestIsIdempotencyKey(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"0b7f3c9e-4c1d-4d8e-9a6b-2f1e3d4c5b6a", true},
		{"a", true},
		{"form:2025.06.15_abc-1", true},
		{strings.Repeat("k", 128), true},
		{strings.Repeat("k", 129), false},
		{"", false},
		{"a b", false},
		{"a/b", false},
		{"a\nb", false},
		{"a#b", false},
		{"ключ", false},
		{"a%0d%0a", false},
	}
	for _, tt := range tests {
		if got := IsIdempotencyKey(tt.in); got != tt.ok {
			t.Errorf("IsIdempotencyKey(%q) = %v, want %v", tt.in, got, tt.ok)
		}
	}
	c := validContact()
	c.SubmissionID = "bad key " + leakMarker
	if got := validate(t, c); !equalStrings(got, []string{"submissionId"}) {
		t.Errorf("failing fields = %v, want [submissionId]", got)
	}
}

// TestHoneypotLooksValid: whatever a bot puts in the honeypot, validation
// does not name the field, so the answer cannot reveal the trap.
func TestHoneypotLooksValid(t *testing.T) {
	for _, v := range []string{"x", "https://spam.example", strings.Repeat("spam ", 2000), "a\nb\x00"} {
		c := validContact()
		c.Website = v
		if got := validate(t, c); got != nil {
			t.Errorf("honeypot of %d bytes: failing fields = %v, want none", len(v), got)
		}
	}
}

func TestValidateNotAForm(t *testing.T) {
	v := testValidator()
	for _, form := range []any{nil, 42, (*Contact)(nil)} {
		err := v.Validate(form)
		if err == nil {
			t.Errorf("Validate(%#v) = nil, want an error", form)
			continue
		}
		if code := ErrorCode(err); code != CodeInternal {
			t.Errorf("Validate(%#v): code %s, want %s (a programming error, not the visitor's)", form, code, CodeInternal)
		}
	}
}

func TestValidatorConcurrent(t *testing.T) {
	v := testValidator()
	done := make(chan []string)
	for i := 0; i < 20; i++ {
		go func(i int) {
			c := validConsultation()
			if i%2 == 0 {
				c.State = "XX"
			}
			c.Normalize()
			err := v.Validate(c)
			var e *Error
			if errors.As(err, &e) {
				done <- []string{e.Fields[0].Field}
				return
			}
			done <- nil
		}(i)
	}
	bad := 0
	for i := 0; i < 20; i++ {
		if got := <-done; got != nil {
			if got[0] != "state" {
				t.Errorf("field = %s, want state", got[0])
			}
			bad++
		}
	}
	if bad != 10 {
		t.Errorf("%d failures, want 10", bad)
	}
}

func TestErrorText(t *testing.T) {
	cause := errors.New("dial tcp 127.0.0.1:1: connection refused")
	tests := []struct {
		err      *Error
		want     string
		wantCode Code
	}{
		{Errorf(CodeMalformed, "the body is not valid %s", "JSON"), "malformed_body: the body is not valid JSON", CodeMalformed},
		{Unavailable(cause), "unavailable: we could not save your request just now; please try again in a moment: dial tcp 127.0.0.1:1: connection refused", CodeUnavailable},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if got := ErrorCode(tt.err); got != tt.wantCode {
			t.Errorf("ErrorCode = %s, want %s", got, tt.wantCode)
		}
	}
	if !errors.Is(Unavailable(cause), cause) {
		t.Error("Unavailable does not unwrap to its cause")
	}
	if got := ErrorCode(cause); got != CodeInternal {
		t.Errorf("ErrorCode(plain error) = %s, want %s", got, CodeInternal)
	}
	wrapped := errors.Join(errors.New("context"), Unavailable(cause))
	if got := ErrorCode(wrapped); got != CodeUnavailable {
		t.Errorf("ErrorCode(wrapped) = %s, want %s", got, CodeUnavailable)
	}
}

func TestJoinersInFreeText(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		ok         bool
	}{
		{"family emoji", "I feel 😔 👨\u200d👩\u200d👧", true},
		{"health worker emoji", "My nurse 👩\u200d⚕\ufe0f said so", true},
		{"rainbow flag", "🏳\ufe0f\u200d🌈 friendly?", true},
		{"Persian word with ZWNJ", "می\u200cخواهم", true},
		{"joiner at the start", "\u200dhello", false},
		{"joiner at the end", "hello\u200d", false},
		{"joiner beside a space", "hello \u200d world", false},
		{"two joiners", "a\u200d\u200db", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := validContact()
			c.Message = tt.text
			got := validate(t, c)
			if ok := len(got) == 0; ok != tt.ok {
				t.Errorf("message %q: failing fields %v, want accepted=%v", tt.text, got, tt.ok)
			}
			c = validContact()
			c.Name = "Sam" + tt.text
			if got := validate(t, c); !equalStrings(got, []string{"name"}) && strings.ContainsAny(tt.text, "\u200c\u200d") {
				t.Errorf("name with a joiner: failing fields %v, want [name] (one-line fields refuse zero-width characters)", got)
			}
		})
	}
}

func TestPreferredContactNeedsPhone(t *testing.T) {
	for _, tt := range []struct {
		preferred, phone string
		sms              bool
		want             []string
	}{
		{"phone", "", false, []string{"phone"}},
		{"text", "", true, []string{"phone"}},
		{"text", "", false, []string{"phone", "smsConsent"}},
		{"phone", "(410) 555-0134", false, nil},
		{"email", "", false, nil},
		{"", "", false, nil},
	} {
		c := validContact()
		c.PreferredContact, c.Phone, c.SMSConsent = tt.preferred, tt.phone, tt.sms
		if got := validate(t, c); !equalStrings(got, tt.want) {
			t.Errorf("preferred %q phone %q: failing fields %v, want %v", tt.preferred, tt.phone, got, tt.want)
		}
	}
}
