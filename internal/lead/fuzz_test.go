package lead

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzIsSingleLine: whatever passes is valid UTF-8 holding no control,
// format, line or paragraph separator character.
func FuzzIsSingleLine(f *testing.F) {
	for _, h := range hostile {
		f.Add("a" + h.s + "b")
	}
	for _, s := range []string{"", "Ada Lovelace", "José", "王小明", "👍🏽", "e\u0301\u0301\u0301\u0301", "%0d%0a", `<script>`, "\xc0\x80", "\xf4\x90\x80\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !IsSingleLine(s) {
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("IsSingleLine accepted invalid UTF-8 %q", s)
		}
		for _, r := range s {
			if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) || r == utf8.RuneError {
				t.Fatalf("IsSingleLine accepted %q holding %U", s, r)
			}
		}
		if !isCleanText(s) {
			t.Fatalf("a single line %q is not clean text", s)
		}
	})
}

// FuzzNormalizeValidate: Normalize and Validate never panic; a valid form
// has single-line fields that pass IsSingleLine, lengths within the limits
// in characters, and normalising it again changes nothing.
func FuzzNormalizeValidate(f *testing.F) {
	f.Add("Ada Lovelace", "ada@example.com", "(410) 555-0134", "Hello\r\nthere", "text", true, "google", "https://clinic.example/")
	f.Add(" Rene\u0301e ", "Ada@EXAMPLE.com", "+1 410 555 0134", "<script>{{.}}</script>", "email", false, "%0d%0a", "")
	f.Add("a\u202eb", "a@b.com\r\nBcc: x@y.com", "+49 89 123456", "a\x00b", "phone", false, "\u2028", "x\u200by")
	f.Add(strings.Repeat("e\u0301", 101), strings.Repeat("a", 65)+"@b.com", "555-0134", strings.Repeat("中", 5001), "", false, strings.Repeat("😀", 201), "")
	f.Add("\u0130", "a@\u0130bm.com", "", "\u0958", "", false, "", "")
	f.Add("a"+strings.Repeat("\u0301", 50), `"<script>"@x.com`, "1 (410) 555-0134", "\ufeff\u200d", "text", true, "\xff", "\u0085")
	v := testValidator()
	f.Fuzz(func(t *testing.T, name, email, phone, message, preferred string, sms bool, utm, landing string) {
		c := &Contact{Name: name, Email: email, Phone: phone, Message: message, PreferredContact: preferred, SMSConsent: sms,
			Attribution: Attribution{UTMSource: utm, UTMMedium: name, UTMCampaign: email, UTMTerm: phone, UTMContent: message, LandingPage: landing, Referrer: landing},
			Controls:    Controls{SubmissionID: utm, Website: landing}}
		c.Normalize()
		err := v.Validate(c)
		if err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("Validate: %v, want %s", err, CodeInvalid)
			}
			return
		}
		single := map[string]struct {
			v   string
			max int
		}{
			"name": {c.Name, 100}, "email": {c.Email, 254}, "phone": {c.Phone, 12}, "preferredContact": {c.PreferredContact, 5},
			"utmSource": {c.UTMSource, 200}, "utmMedium": {c.UTMMedium, 200}, "utmCampaign": {c.UTMCampaign, 200},
			"utmTerm": {c.UTMTerm, 200}, "utmContent": {c.UTMContent, 200}, "landingPage": {c.LandingPage, 2000}, "referrer": {c.Referrer, 2000},
		}
		for field, s := range single {
			if !IsSingleLine(s.v) {
				t.Fatalf("valid form, but %s %q is not a single line", field, s.v)
			}
			if n := utf8.RuneCountInString(s.v); n > s.max {
				t.Fatalf("valid form, but %s has %d characters, over %d", field, n, s.max)
			}
		}
		if c.Name == "" || c.Message == "" || !IsEmail(c.Email) {
			t.Fatalf("valid form with empty name/message or bad email: %+v", c)
		}
		if n := utf8.RuneCountInString(c.Message); n > 5000 || !isCleanText(c.Message) || strings.Contains(c.Message, "\r") {
			t.Fatalf("valid form, but message of %d characters is not clean text", n)
		}
		if c.Phone != "" && !isE164US(c.Phone) {
			t.Fatalf("valid form, but phone %q is not E.164", c.Phone)
		}
		once := *c
		c.Normalize()
		if *c != once {
			t.Fatalf("Normalize is not idempotent:\n once %+v\ntwice %+v", once, *c)
		}
		if err := v.Validate(c); err != nil {
			t.Fatalf("valid form invalid after normalising again: %v", err)
		}
	})
}

// FuzzNormalizeValidateConsultation is FuzzNormalizeValidate for the
// consultation form.
func FuzzNormalizeValidateConsultation(f *testing.F) {
	f.Add("Ada", "Lovelace", "ada@example.com", "410-555-0134", "1985-12-10", "md", "depression", "sertraline\r\n50 mg", "Dr. Hopper", true)
	f.Add(" Zoë ", "Nguyễn", "A@B.CO", "+1 410 555 0134", " 2007-06-15 ", "DC", " ptsd ", "", "", false)
	f.Add("a\u2066b", "x\ny", "a@b", "(010) 555-0134", "2023-02-30", "XX", "lsd", "\x00", "\u202e", false)
	f.Add("\u0131", "\u017f", "a@\u0130bm.com", "+49 89 123456", "2008-02-29", "\u0131d", "other", strings.Repeat("\u0301", 9), "e"+strings.Repeat("\u0301", 5), true)
	v := testValidator()
	f.Fuzz(func(t *testing.T, first, last, email, phone, dob, state, concern, meds, provider string, crisis bool) {
		c := &Consultation{FirstName: first, LastName: last, Email: email, Phone: phone, DateOfBirth: dob, State: state,
			Concerns: []string{concern}, PreviousTreatments: []string{concern}, CurrentMedications: meds, MedicalHistory: meds,
			PreferredTimes: []string{concern}, HearAbout: concern, ReferringProvider: provider, Message: meds, InCrisis: crisis,
			ConsentToContact: true, AcknowledgedPrivacy: true,
			Attribution: Attribution{UTMSource: provider, LandingPage: first}}
		c.Normalize()
		err := v.Validate(c)
		if err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("Validate: %v, want %s", err, CodeInvalid)
			}
			return
		}
		for field, s := range map[string]struct {
			v   string
			max int
		}{
			"firstName": {c.FirstName, 60}, "lastName": {c.LastName, 60}, "email": {c.Email, 254}, "phone": {c.Phone, 12},
			"dateOfBirth": {c.DateOfBirth, 10}, "state": {c.State, 2}, "referringProvider": {c.ReferringProvider, 120},
			"utmSource": {c.UTMSource, 200}, "landingPage": {c.LandingPage, 2000},
		} {
			if !IsSingleLine(s.v) || utf8.RuneCountInString(s.v) > s.max {
				t.Fatalf("valid form, but %s %q is not a single line of at most %d characters", field, s.v, s.max)
			}
		}
		for field, s := range map[string]struct {
			v   string
			max int
		}{"currentMedications": {c.CurrentMedications, 1000}, "medicalHistory": {c.MedicalHistory, 2000}, "message": {c.Message, 2000}} {
			if !isCleanText(s.v) || strings.Contains(s.v, "\r") || utf8.RuneCountInString(s.v) > s.max {
				t.Fatalf("valid form, but %s %q is not clean text of at most %d characters", field, s.v, s.max)
			}
		}
		if !IsEmail(c.Email) || !isE164US(c.Phone) || !isUSState(c.State) {
			t.Fatalf("valid form with bad email, phone or state: %+v", c)
		}
		once := *c
		once.Concerns = append([]string(nil), c.Concerns...)
		c.Normalize()
		if c.FirstName != once.FirstName || c.LastName != once.LastName || c.Email != once.Email || c.Phone != once.Phone ||
			c.DateOfBirth != once.DateOfBirth || c.State != once.State || c.Concerns[0] != once.Concerns[0] ||
			c.CurrentMedications != once.CurrentMedications || c.ReferringProvider != once.ReferringProvider {
			t.Fatalf("Normalize is not idempotent:\n once %+v\ntwice %+v", once, *c)
		}
	})
}
