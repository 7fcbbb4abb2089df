// Package export writes leads as CSV or JSON Lines, one lead at a time, so
// an export of any size streams in constant memory. The health answers
// (and free-text messages, which often hold them) are columns only when
// the caller asks for them; without that, they are never read off the
// lead, so no format can carry them by mistake.
package export

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// Formats.
const (
	CSV   = "csv"
	JSONL = "jsonl"
)

// column is one field of the export. safe columns hold only values the
// pipeline formats itself (ids, codes, times, E.164 phones); the others
// are what the public typed.
type column struct {
	name   string
	health bool
	safe   bool
	get    func(e dynamo.Exported) any
}

func contact(e dynamo.Exported) *lead.Contact           { return e.Lead.Contact }
func consultation(e dynamo.Exported) *lead.Consultation { return e.Lead.Consultation }

// text returns the contact form's or the consultation's value.
func text(c func(*lead.Contact) string, k func(*lead.Consultation) string) func(dynamo.Exported) any {
	return func(e dynamo.Exported) any {
		if x := contact(e); x != nil && c != nil {
			return c(x)
		}
		if x := consultation(e); x != nil && k != nil {
			return k(x)
		}
		return ""
	}
}

func list(k func(*lead.Consultation) []string) func(dynamo.Exported) any {
	return func(e dynamo.Exported) any {
		if x := consultation(e); x != nil && k(x) != nil {
			return k(x)
		}
		return []string{}
	}
}

func when(t time.Time) any {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z") // fixed width: sorts as text
}

var columns = []column{
	{name: "id", safe: true, get: func(e dynamo.Exported) any { return e.Lead.ID }},
	{name: "kind", safe: true, get: func(e dynamo.Exported) any { return string(e.Lead.Kind) }},
	{name: "status", safe: true, get: func(e dynamo.Exported) any { return string(e.Lead.Status) }},
	{name: "receivedAt", safe: true, get: func(e dynamo.Exported) any { return when(e.Lead.CreatedAt) }},
	{name: "notifiedAt", safe: true, get: func(e dynamo.Exported) any { return when(e.Marks.NotifiedAt) }},
	{name: "suspectedSpam", safe: true, get: func(e dynamo.Exported) any { return e.Lead.SuspectedSpam }},
	{name: "name", get: text(func(c *lead.Contact) string { return c.Name }, nil)},
	{name: "firstName", get: text(nil, func(c *lead.Consultation) string { return c.FirstName })},
	{name: "lastName", get: text(nil, func(c *lead.Consultation) string { return c.LastName })},
	{name: "email", get: func(e dynamo.Exported) any { return e.Lead.Email() }},
	{name: "phone", safe: true, get: text(func(c *lead.Contact) string { return c.Phone }, func(c *lead.Consultation) string { return c.Phone })},
	{name: "preferredContact", safe: true, get: text(func(c *lead.Contact) string { return c.PreferredContact }, func(c *lead.Consultation) string { return c.PreferredContact })},
	{name: "preferredTimes", safe: true, get: list(func(c *lead.Consultation) []string { return c.PreferredTimes })},
	{name: "smsConsent", safe: true, get: func(e dynamo.Exported) any { return e.Lead.Consent.SMSConsent }},
	{name: "state", safe: true, get: text(nil, func(c *lead.Consultation) string { return c.State })},
	{name: "hearAbout", safe: true, get: text(nil, func(c *lead.Consultation) string { return c.HearAbout })},
	{name: "consentToContact", safe: true, get: func(e dynamo.Exported) any { return e.Lead.Consent.ConsentToContact }},
	{name: "acknowledgedPrivacy", safe: true, get: func(e dynamo.Exported) any { return e.Lead.Consent.AcknowledgedPrivacy }},
	{name: "consentAt", safe: true, get: func(e dynamo.Exported) any { return when(e.Lead.Consent.At) }},
	{name: "utmSource", get: func(e dynamo.Exported) any { return e.Lead.Attribution.UTMSource }},
	{name: "utmMedium", get: func(e dynamo.Exported) any { return e.Lead.Attribution.UTMMedium }},
	{name: "utmCampaign", get: func(e dynamo.Exported) any { return e.Lead.Attribution.UTMCampaign }},
	{name: "utmTerm", get: func(e dynamo.Exported) any { return e.Lead.Attribution.UTMTerm }},
	{name: "utmContent", get: func(e dynamo.Exported) any { return e.Lead.Attribution.UTMContent }},
	{name: "landingPage", get: func(e dynamo.Exported) any { return e.Lead.Attribution.LandingPage }},
	{name: "referrer", get: func(e dynamo.Exported) any { return e.Lead.Attribution.Referrer }},

	// Health answers, and the messages, which people fill with them.
	{name: "inCrisis", health: true, safe: true, get: func(e dynamo.Exported) any { return e.Lead.InCrisis() }},
	{name: "dateOfBirth", health: true, safe: true, get: text(nil, func(c *lead.Consultation) string { return c.DateOfBirth })},
	{name: "concerns", health: true, safe: true, get: list(func(c *lead.Consultation) []string { return c.Concerns })},
	{name: "previousTreatments", health: true, safe: true, get: list(func(c *lead.Consultation) []string { return c.PreviousTreatments })},
	{name: "currentMedications", health: true, get: text(nil, func(c *lead.Consultation) string { return c.CurrentMedications })},
	{name: "medicalHistory", health: true, get: text(nil, func(c *lead.Consultation) string { return c.MedicalHistory })},
	{name: "referringProvider", health: true, get: text(nil, func(c *lead.Consultation) string { return c.ReferringProvider })},
	{name: "message", health: true, get: text(func(c *lead.Contact) string { return c.Message }, func(c *lead.Consultation) string { return c.Message })},
}

// Columns returns the names of the columns an export has, in order.
func Columns(includeHealth bool) []string {
	var out []string
	for _, c := range selected(includeHealth) {
		out = append(out, c.name)
	}
	return out
}

func selected(includeHealth bool) []column {
	var out []column
	for _, c := range columns {
		if includeHealth || !c.health {
			out = append(out, c)
		}
	}
	return out
}

// Writer writes leads one at a time. Close flushes; the caller closes
// the underlying file.
type Writer interface {
	Write(dynamo.Exported) error
	Close() error
}

// New returns a Writer of format (CSV or JSONL) on w.
func New(w io.Writer, format string, includeHealth bool) (Writer, error) {
	cols := selected(includeHealth)
	switch format {
	case CSV:
		return &csvWriter{w: csv.NewWriter(w), cols: cols, names: Columns(includeHealth)}, nil
	case JSONL:
		return &jsonlWriter{w: bufio.NewWriterSize(w, 64<<10), cols: cols}, nil
	}
	return nil, fmt.Errorf("unknown format %q: csv or jsonl", format)
}

type csvWriter struct {
	w      *csv.Writer
	cols   []column
	names  []string
	header bool
	row    []string
}

func (c *csvWriter) Write(e dynamo.Exported) error {
	if !c.header {
		c.header = true
		if err := c.w.Write(c.names); err != nil {
			return err
		}
		c.row = make([]string, len(c.cols))
	}
	for i, col := range c.cols {
		v := cell(col.get(e))
		if !col.safe {
			v = defuse(v)
		}
		c.row[i] = v
	}
	return c.w.Write(c.row)
}

func (c *csvWriter) Close() error {
	if !c.header {
		// An empty export still says what its columns are.
		if err := c.w.Write(c.names); err != nil {
			return err
		}
	}
	c.w.Flush()
	return c.w.Error()
}

func cell(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case []string:
		return strings.Join(v, ";")
	}
	return fmt.Sprint(v)
}

// defuse keeps a spreadsheet from running what the public typed: a cell
// that starts like a formula (=, +, -, @, tab, carriage return) gets a
// leading apostrophe, which spreadsheets show as text.
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type jsonlWriter struct {
	w    *bufio.Writer
	cols []column
}

// Write writes one JSON object per line, its keys in column order.
func (j *jsonlWriter) Write(e dynamo.Exported) error {
	j.w.WriteByte('{')
	for i, col := range j.cols {
		if i > 0 {
			j.w.WriteByte(',')
		}
		k, _ := json.Marshal(col.name)
		v, err := json.Marshal(col.get(e))
		if err != nil {
			return fmt.Errorf("lead %s: %s: %w", e.Lead.ID, col.name, err)
		}
		j.w.Write(k)
		j.w.WriteByte(':')
		j.w.Write(v)
	}
	_, err := j.w.WriteString("}\n") // bufio's error is sticky: this reports any before it
	return err
}

func (j *jsonlWriter) Close() error { return j.w.Flush() }
