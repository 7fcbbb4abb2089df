// Package sesmail turns stored leads into the emails the clinic sends and
// sends them through Amazon SES v2. It is the only package that knows SES.
//
// Two rules hold for every message it builds: no header ever carries CR or
// LF or anything the submitter typed (subjects are fixed templates of the
// form kind and a short lead id), and bodies carry only what the configured
// Detail level allows, with the HTML part rendered by html/template.
package sesmail

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/clinicleads/leadpipe/internal/lead"
)

// ErrInvalidMessage marks a message that must not be sent as it is: a header
// value with a line break, an address that is not a bare address, a missing
// recipient. Sending it again cannot succeed, so IsPermanent reports true.
var ErrInvalidMessage = errors.New("invalid email message")

// Detail is how much of a lead the staff email carries.
type Detail string

// Detail levels. Health answers and free text appear only at DetailFull.
const (
	// DetailMinimal: kind, id, time, the crisis flag. Nothing personal.
	DetailMinimal Detail = "minimal"
	// DetailContact adds how to reach the person: name, phone, email,
	// preferred contact method and times, state.
	DetailContact Detail = "contact"
	// DetailFull adds the health answers, date of birth, attribution and
	// free text.
	DetailFull Detail = "full"
)

// ParseDetail reads a detail level; "" is DetailContact.
func ParseDetail(s string) (Detail, error) {
	switch d := Detail(strings.ToLower(strings.TrimSpace(s))); d {
	case "":
		return DetailContact, nil
	case DetailMinimal, DetailContact, DetailFull:
		return d, nil
	}
	return "", fmt.Errorf("unknown detail level %q: want minimal, contact or full", s)
}

// Clinic is what the emails say about the clinic. It comes from
// configuration.
type Clinic struct {
	Name    string
	Phone   string
	Address string
	// CallbackPromise completes "We received your request, and ___ we
	// will call you back." (or "email you", "text you": the person's
	// preferred contact method), for example "within one business day".
	CallbackPromise string
}

// Message is one email, ready for Sender.Send.
type Message struct {
	From    string
	To      []string
	ReplyTo []string
	Subject string
	Text    string
	HTML    string
	// ToSubmitter marks a message to the person who sent the form (the
	// confirmation). Every other message is staff mail, which Sender sends
	// through its staff configuration set: a set without suppression, so
	// one bounce or complaint cannot silence the clinic's own inbox.
	ToSubmitter bool
}

// maxRecipients is SES's limit on recipients per message.
const maxRecipients = 50

// Validate checks every header value: From, Subject, To and Reply-To must
// be free of control characters (CR and LF above all; the subject may hold
// UTF-8, which SES encodes, the others are ASCII), addresses must be
// bare addresses (From may carry a display name), and there must be at
// least one recipient. Errors wrap ErrInvalidMessage and never quote the
// offending value.
func (m Message) Validate() error {
	if m.Subject == "" || !lead.IsSingleLine(m.Subject) {
		return fmt.Errorf("%w: subject is empty or holds control characters", ErrInvalidMessage)
	}
	if !isHeaderValue(m.From) || addressOf(m.From) == "" {
		return fmt.Errorf("%w: from is not an address", ErrInvalidMessage)
	}
	if len(m.To) == 0 || len(m.To) > maxRecipients {
		return fmt.Errorf("%w: want 1 to %d recipients, have %d", ErrInvalidMessage, maxRecipients, len(m.To))
	}
	for i, a := range m.To {
		if !lead.IsEmail(a) {
			return fmt.Errorf("%w: recipient %d is not a bare address", ErrInvalidMessage, i+1)
		}
	}
	for i, a := range m.ReplyTo {
		if !lead.IsEmail(a) {
			return fmt.Errorf("%w: reply-to %d is not a bare address", ErrInvalidMessage, i+1)
		}
	}
	return nil
}

// isHeaderValue: printable ASCII only. Anything else (CR, LF, NUL, other
// controls, raw UTF-8) is refused; FormatFrom encodes non-ASCII display
// names, so a valid From is always ASCII.
func isHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// FormatFrom returns the From header for a sender address and an optional
// display name (the clinic's name), encoded as RFC 5322 and RFC 2047
// require. It fails unless address is a bare address and name a single
// line.
func FormatFrom(name, address string) (string, error) {
	if !lead.IsEmail(address) {
		return "", fmt.Errorf("%w: sender is not a bare address such as notify@clinic.example", ErrInvalidMessage)
	}
	if !lead.IsSingleLine(name) {
		return "", fmt.Errorf("%w: sender name must be a single line", ErrInvalidMessage)
	}
	from := address
	if name = strings.TrimSpace(name); name != "" {
		from = (&mail.Address{Name: name, Address: address}).String()
	}
	if !isHeaderValue(from) || addressOf(from) != address {
		return "", fmt.Errorf("%w: sender does not format as a header", ErrInvalidMessage)
	}
	return from, nil
}

// addressOf returns the bare address of a From value, or "" when it is not
// one valid address.
func addressOf(from string) string {
	a, err := mail.ParseAddress(from)
	if err != nil || !lead.IsEmail(a.Address) {
		return ""
	}
	return a.Address
}
