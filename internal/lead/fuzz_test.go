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
