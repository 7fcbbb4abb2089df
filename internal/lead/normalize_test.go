package lead

import "testing"

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"(410) 555-0134", "+14105550134"},
		{"410-555-0134", "+14105550134"},
		{"410.555.0134", "+14105550134"},
		{"4105550134", "+14105550134"},
		{"+1 410 555 0134", "+14105550134"},
		{"+14105550134", "+14105550134"},
		{"1 (410) 555-0134", "+14105550134"},
		{"1-410-555-0134", "+14105550134"},
		{"  (410) 555-0134\t", "+14105550134"},
		{"", ""},
		{"   ", ""},
		// Not US numbers: returned trimmed and unchanged for validation to reject.
		{"555-0134", "555-0134"},
		{"+44 20 7946 0958", "+44 20 7946 0958"},
		{"+49 89 123456", "+49 89 123456"}, // 10 digits after '+', but country code 49
		{"+410 555 0134", "+410 555 0134"}, // '+' must be followed by country code 1
		{"410-555-CALL", "410-555-CALL"},
		{"410 555 0134 ext 2", "410 555 0134 ext 2"},
		{"41055501345", "41055501345"},
		{"1+410 555 0134", "1+410 555 0134"},
		{"++1 410 555 0134", "++1 410 555 0134"},
		{"４１０５５５０１３４", "４１０５５５０１３４"}, // full-width digits are not taken as digits
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := normalizePhone(tt.in); got != tt.want {
				t.Errorf("normalizePhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPhoneValidation(t *testing.T) {
	tests := []struct {
		name  string
		phone string
		ok    bool
	}{
		{"parentheses", "(410) 555-0134", true},
		{"dashes", "410-555-0134", true},
		{"dots", "410.555.0134", true},
		{"plus one", "+1 410 555 0134", true},
		{"leading one", "1 (410) 555-0134", true},
		{"seven digits", "555-0134", false},
		{"UK", "+44 20 7946 0958", false},
		{"Germany, ten digits", "+49 89 123456", false},
		{"area code starts with 0", "(010) 555-0134", false},
		{"area code starts with 1", "(110) 555-0134", false},
		{"exchange starts with 1", "(410) 155-0134", false},
		{"letters", "410-555-CALL", false},
		{"CRLF", "410-555-0134\r\nBcc: x@y.com", false},
		{"marker", leakMarker, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConsultation()
			c.Phone = tt.phone
			got := validate(t, c)
			if tt.ok {
				if got != nil {
					t.Fatalf("failing fields = %v, want none", got)
				}
				if c.Phone != "+14105550134" {
					t.Errorf("phone = %q, want +14105550134", c.Phone)
				}
				return
			}
			if want := []string{"phone"}; !equalStrings(got, want) {
				t.Errorf("failing fields = %v, want %v", got, want)
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Ada.Lovelace@Example.COM", "Ada.Lovelace@example.com"}, // local part is the mailbox owner's
		{"  ada@example.com \n", "ada@example.com"},
		{"ADA@EXAMPLE.COM", "ADA@example.com"},
		{"no-at-sign", "no-at-sign"},
		// Only ASCII is lower-cased: U+0130 would otherwise become a plain
		// "i" and turn an address nobody typed into a valid one.
		{"a@\u0130bm.com", "a@\u0130bm.com"},
		{"a@\u00c9x.com", "a@\u00c9x.com"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := NormalizeEmail(tt.in); got != tt.want {
				t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeText(t *testing.T) {
	t.Run("CRLF and CR become LF in free text", func(t *testing.T) {
		c := validConsultation()
		c.Message = "line one\r\nline two\rline three\n\nline five"
		c.CurrentMedications = "a\r\nb"
		c.MedicalHistory = "c\rd"
		c.Normalize()
		if want := "line one\nline two\nline three\n\nline five"; c.Message != want {
			t.Errorf("message = %q, want %q", c.Message, want)
		}
		if c.CurrentMedications != "a\nb" || c.MedicalHistory != "c\nd" {
			t.Errorf("currentMedications, medicalHistory = %q, %q, want %q, %q", c.CurrentMedications, c.MedicalHistory, "a\nb", "c\nd")
		}
	})
	t.Run("NFC", func(t *testing.T) {
		c := validContact()
		c.Name = "Rene\u0301e"
		c.Message = "cafe\u0301"
		c.Normalize()
		if c.Name != "Ren\u00e9e" || c.Message != "caf\u00e9" {
			t.Errorf("name, message = %q, %q, want NFC %q, %q", c.Name, c.Message, "Ren\u00e9e", "caf\u00e9")
		}
	})
	t.Run("surrounding white space trimmed, inner kept", func(t *testing.T) {
		c := validConsultation()
		c.FirstName = " \t Ada\u00a0Maria \u3000"
		c.Message = "\n\n  Hello\n  world  \n"
		c.State = " md "
		c.Concerns = []string{" depression ", "\tanxiety"}
		c.Normalize()
		if c.FirstName != "Ada\u00a0Maria" {
			t.Errorf("firstName = %q, want %q", c.FirstName, "Ada\u00a0Maria")
		}
		if c.Message != "Hello\n  world" {
			t.Errorf("message = %q, want %q", c.Message, "Hello\n  world")
		}
		if c.State != "MD" {
			t.Errorf("state = %q, want MD", c.State)
		}
		if !equalStrings(c.Concerns, []string{"depression", "anxiety"}) {
			t.Errorf("concerns = %q", c.Concerns)
		}
	})
	t.Run("state upper-cased in ASCII only", func(t *testing.T) {
		// U+0131 (dotless i) upper-cases to "I": "ıd" must not become Idaho.
		for in, notWant := range map[string]string{"\u0131d": "ID", "\u017fc": "SC"} {
			c := validConsultation()
			c.State = in
			if got := validate(t, c); !equalStrings(got, []string{"state"}) {
				t.Errorf("state %q: failing fields = %v, want [state]", in, got)
			}
			if c.State == notWant {
				t.Errorf("state %q normalised to %q", in, c.State)
			}
		}
	})
	t.Run("HTML and template syntax kept verbatim", func(t *testing.T) {
		for _, s := range []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `{{.}}`, `{{template "x"}}`, `${7*7}`, `%0d%0a`, `&lt;b&gt;`} {
			c := validContact()
			c.Name = s
			c.Message = "before " + s + "\nafter"
			c.UTMCampaign = s
			if got := validate(t, c); got != nil {
				t.Fatalf("%q: failing fields = %v, want none (escaping is the email's job)", s, got)
			}
			if c.Name != s || c.Message != "before "+s+"\nafter" || c.UTMCampaign != s {
				t.Errorf("%q not kept verbatim: name %q, message %q, utmCampaign %q", s, c.Name, c.Message, c.UTMCampaign)
			}
		}
	})
}

// TestNormalizeIdempotent: normalising twice changes nothing, so a retried
// submission hashes the same as the first.
func TestNormalizeIdempotent(t *testing.T) {
	inputs := []string{"", " a ", "Rene\u0301e", "a\r\nb", "\u0130", "(410) 555-0134", "+1 410 555 0134", "A@B.COM", " md ", "e\u0301\u0301\u0301", "\u0958", "\u1100\u1161\u11a8"}
	for _, in := range inputs {
		c := &Consultation{FirstName: in, Email: in, Phone: in, State: in, Message: in, Concerns: []string{in}}
		c.Normalize()
		once := *c
		once.Concerns = append([]string(nil), c.Concerns...)
		c.Normalize()
		if c.FirstName != once.FirstName || c.Email != once.Email || c.Phone != once.Phone || c.State != once.State || c.Message != once.Message || c.Concerns[0] != once.Concerns[0] {
			t.Errorf("Normalize not idempotent for %q:\n once %+v\ntwice %+v", in, once, *c)
		}
	}
}
