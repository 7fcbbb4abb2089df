package lead

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Normalize puts every field in the form that validation and storage
// expect: NFC text, surrounding white space trimmed (so "   " counts as
// empty for required), line breaks as "\n", phone numbers in E.164, email
// domains in lower case, state codes in upper case.
func (c *Contact) Normalize() {
	c.Name = cleanLine(c.Name)
	c.Email = NormalizeEmail(c.Email)
	c.Phone = normalizePhone(c.Phone)
	c.Message = cleanText(c.Message)
	c.PreferredContact = cleanLine(c.PreferredContact)
	c.Attribution.normalize()
	c.Controls.normalize()
}

// Normalize: see Contact.Normalize.
func (c *Consultation) Normalize() {
	c.FirstName = cleanLine(c.FirstName)
	c.LastName = cleanLine(c.LastName)
	c.Email = NormalizeEmail(c.Email)
	c.Phone = normalizePhone(c.Phone)
	c.DateOfBirth = cleanLine(c.DateOfBirth)
	c.State = asciiUpper(cleanLine(c.State))
	cleanList(c.Concerns)
	cleanList(c.PreviousTreatments)
	c.CurrentMedications = cleanText(c.CurrentMedications)
	c.MedicalHistory = cleanText(c.MedicalHistory)
	c.PreferredContact = cleanLine(c.PreferredContact)
	cleanList(c.PreferredTimes)
	c.HearAbout = cleanLine(c.HearAbout)
	c.ReferringProvider = cleanLine(c.ReferringProvider)
	c.Message = cleanText(c.Message)
	c.Attribution.normalize()
	c.Controls.normalize()
}

func (a *Attribution) normalize() {
	for _, f := range []*string{&a.UTMSource, &a.UTMMedium, &a.UTMCampaign, &a.UTMTerm, &a.UTMContent, &a.LandingPage, &a.Referrer} {
		*f = cleanLine(*f)
	}
}

func (c *Controls) normalize() {
	c.Website = strings.TrimSpace(c.Website)
	c.SubmissionID = strings.TrimSpace(c.SubmissionID)
	c.TurnstileToken = strings.TrimSpace(c.TurnstileToken)
}

// cleanLine is for single-line fields. It does not remove forbidden
// characters: validation rejects them, so nothing is silently altered.
func cleanLine(s string) string {
	return strings.TrimSpace(norm.NFC.String(s))
}

// cleanText is for free text: CRLF and lone CR become LF.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.TrimSpace(norm.NFC.String(s))
}

func cleanList(list []string) {
	for i := range list {
		list[i] = cleanLine(list[i])
	}
}

// NormalizeEmail trims s and lower-cases its domain only: the local part is the
// mailbox owner's business.
func NormalizeEmail(s string) string {
	s = cleanLine(s)
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	return s[:at+1] + asciiLower(s[at+1:])
}

// asciiLower and asciiUpper change the case of ASCII letters only. Unicode
// case mapping would turn text nobody typed into valid input: strings.ToLower
// maps U+0130 to "i" (so "a@\u0130bm.com" became "a@ibm.com") and
// strings.ToUpper maps U+0131 to "I" (so "\u0131d" became the state code ID).
// Non-ASCII input is left as typed, for validation to reject.
func asciiLower(s string) string { return mapASCII(s, 'A', 'Z', 'a'-'A') }

func asciiUpper(s string) string { return mapASCII(s, 'a', 'z', 'A'-'a') }

func mapASCII(s string, lo, hi byte, delta int) string {
	b := []byte(s)
	for i, c := range b {
		if c >= lo && c <= hi {
			b[i] = byte(int(c) + delta)
		}
	}
	return string(b)
}

// normalizePhone turns the usual US spellings, "(410) 555-0134",
// "410.555.0134", "+1 410 555 0134", "1-410-555-0134", into E.164
// (+14105550134). Anything else is returned trimmed, for validation to
// reject.
func normalizePhone(s string) string {
	s = cleanLine(s)
	if s == "" {
		return s
	}
	digits := make([]byte, 0, 11)
	plus := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+' && i == 0:
			plus = true
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return s
		}
		if len(digits) > 11 {
			return s
		}
	}
	if len(digits) == 11 && digits[0] == '1' {
		digits = digits[1:]
	} else if plus {
		// "+" starts a country code, and only "+1" is ours: "+49 89 123456"
		// is a German number, not the US number +14989123456.
		return s
	}
	if len(digits) != 10 {
		return s
	}
	return "+1" + string(digits)
}
