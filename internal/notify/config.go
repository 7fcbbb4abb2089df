package notify

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/clinicleads/leadpipe/internal/awsconf"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/logging"
	"github.com/clinicleads/leadpipe/internal/sesmail"
	"github.com/clinicleads/leadpipe/internal/sla"
)

// Config is everything the notifier reads from its environment.
type Config struct {
	Table             string         // LEADS_TABLE (required)
	Sender            string         // SENDER_EMAIL (required): a verified SES identity, bare address
	ContactStaff      []string       // CONTACT_STAFF_EMAILS, else STAFF_EMAILS
	ConsultationStaff []string       // CONSULTATION_STAFF_EMAILS, else STAFF_EMAILS
	Detail            sesmail.Detail // NOTIFY_DETAIL: minimal, contact (default), full
	SendConfirmation  bool           // SEND_CONFIRMATION: true or false (default)
	Clinic            sesmail.Clinic // CLINIC_NAME (required), CLINIC_PHONE and CALLBACK_PROMISE (required with confirmations), CLINIC_ADDRESS
	TimeZone          *time.Location // CLINIC_TIMEZONE: IANA name such as America/New_York, optional
	ConfigurationSet  string         // SES_CONFIGURATION_SET, optional
	InboxURL          string         // INBOX_URL: the staff inbox page staff emails link to, optional (sesmail.CheckInboxURL)
	LogLevel          slog.Level     // LOG_LEVEL: debug, info (default), warn, error
	// AWS holds the region, credentials and the endpoint overrides
	// AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SESV2 and AWS_ENDPOINT_URL.
	AWS awsconf.Settings

	// StaffConfigurationSet (STAFF_CONFIGURATION_SET, optional; else
	// SES_CONFIGURATION_SET) is named on staff mail: a set without
	// suppression, so a bounce cannot silence staff (sesmail.Sender).
	StaffConfigurationSet string
	// Staff is every configured staff address (STAFF_EMAILS,
	// CONTACT_STAFF_EMAILS, CONSULTATION_STAFF_EMAILS), once each: the
	// addresses checked against SES's suppression list.
	Staff []string
	// Retention is RETENTION_DAYS (default 365), the leads' time to live.
	// It must cover the sweep's look-back, or a lead could be deleted
	// before the sweep ever sends it.
	Retention time.Duration
	// Stack is STACK_NAME (set by the template), the Stack dimension of
	// the metrics its alarms read; optional.
	Stack string

	// SLA is the service levels (CRISIS_SLA, LEAD_SLA, BUSINESS_HOURS,
	// CLOSED_DATES, in CLINIC_TIMEZONE) the scheduled run escalates by.
	SLA sla.Policy
	// Escalation is ESCALATION_EMAILS, who is told of an overdue lead;
	// empty means the lead's own staff list.
	Escalation []string
	// OnCall is ONCALL_EMAIL (optional; e.g. an SMS-to-email address):
	// it also gets the second, louder level.
	OnCall []string
	// DigestOff is DIGEST_TIME=off; otherwise DigestTime (DIGEST_TIME,
	// HH:MM, default 08:00) is when, in the clinic's zone, the daily
	// digest goes out, to Digest (DIGEST_EMAILS; empty means every staff
	// address).
	DigestOff  bool
	DigestTime time.Duration
	Digest     []string

	// SkipSuppressionCheck turns the scheduled check of the staff
	// addresses against SES's suppression list off. It is not read from
	// the environment: only the local dev stack sets it, because
	// aws-ses-v2-local has no suppression list and every look-up would
	// fail.
	SkipSuppressionCheck bool
}

// defaultDigestTime is DIGEST_TIME's default.
const defaultDigestTime = 8 * time.Hour

// ConfigFromEnv reads Config with getenv (os.Getenv in main). Every error
// names the variable, so a misconfigured function fails at its first start
// with a message that says what to fix.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Table:            strings.TrimSpace(getenv("LEADS_TABLE")),
		Sender:           lead.NormalizeEmail(getenv("SENDER_EMAIL")),
		ConfigurationSet: strings.TrimSpace(getenv("SES_CONFIGURATION_SET")),
		InboxURL:         strings.TrimSpace(getenv("INBOX_URL")),
		Clinic: sesmail.Clinic{
			Name:            strings.TrimSpace(getenv("CLINIC_NAME")),
			Phone:           strings.TrimSpace(getenv("CLINIC_PHONE")),
			Address:         strings.TrimSpace(getenv("CLINIC_ADDRESS")),
			CallbackPromise: strings.TrimSpace(getenv("CALLBACK_PROMISE")),
		},
	}
	c.StaffConfigurationSet = strings.TrimSpace(getenv("STAFF_CONFIGURATION_SET"))
	c.Stack = strings.TrimSpace(getenv("STACK_NAME"))
	for _, v := range []envVar{{"LEADS_TABLE", c.Table}, {"SENDER_EMAIL", c.Sender}, {"CLINIC_NAME", c.Clinic.Name}} {
		if v.value == "" {
			return c, fmt.Errorf("missing environment variable %s", v.name)
		}
	}
	if !lead.IsEmail(c.Sender) {
		return c, fmt.Errorf("SENDER_EMAIL must be a bare address such as notify@clinic.example (the verified SES identity); the clinic name is added as its display name")
	}

	all, err := staffList(getenv, "STAFF_EMAILS")
	if err != nil {
		return c, err
	}
	for _, l := range []struct {
		name string
		dst  *[]string
	}{{"CONTACT_STAFF_EMAILS", &c.ContactStaff}, {"CONSULTATION_STAFF_EMAILS", &c.ConsultationStaff}} {
		list, err := staffList(getenv, l.name)
		if err != nil {
			return c, err
		}
		if len(list) == 0 {
			list = all
		}
		if len(list) == 0 {
			return c, fmt.Errorf("missing environment variable STAFF_EMAILS (or %s)", l.name)
		}
		*l.dst = list
	}
	for _, l := range []struct {
		name string
		dst  *[]string
	}{{"ESCALATION_EMAILS", &c.Escalation}, {"ONCALL_EMAIL", &c.OnCall}, {"DIGEST_EMAILS", &c.Digest}} {
		if *l.dst, err = staffList(getenv, l.name); err != nil {
			return c, err
		}
	}
	// The second level goes to the escalation list (or a staff list) and
	// the on-call addresses in one message.
	lists := [][]string{c.Escalation}
	if len(c.Escalation) == 0 {
		lists = [][]string{c.ContactStaff, c.ConsultationStaff}
	}
	for _, l := range lists {
		if n := len(union(l, c.OnCall)); n > maxStaff {
			return c, fmt.Errorf("ESCALATION_EMAILS (or the staff lists) and ONCALL_EMAIL make %d recipients; SES allows %d per message", n, maxStaff)
		}
	}
	// Every address the pipeline mails staff at is checked against SES's
	// suppression list.
	c.Staff = union(all, c.ContactStaff, c.ConsultationStaff, c.Escalation, c.OnCall, c.Digest)
	if len(c.Digest) == 0 {
		c.Digest = union(all, c.ContactStaff, c.ConsultationStaff)
	}
	if c.DigestTime, c.DigestOff, err = digestTime(getenv("DIGEST_TIME")); err != nil {
		return c, err
	}

	if c.Detail, err = sesmail.ParseDetail(getenv("NOTIFY_DETAIL")); err != nil {
		return c, fmt.Errorf("NOTIFY_DETAIL must be minimal, contact or full")
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("SEND_CONFIRMATION"))); v {
	case "", "false":
	case "true":
		c.SendConfirmation = true
	default:
		return c, fmt.Errorf("SEND_CONFIRMATION must be true or false")
	}
	if c.SendConfirmation {
		// The confirmation says when the clinic will call back and asks
		// people to call rather than reply; without these it would promise
		// nothing and leave them no way to reach the clinic. The address
		// is optional.
		for _, v := range []envVar{{"CLINIC_PHONE", c.Clinic.Phone}, {"CALLBACK_PROMISE", c.Clinic.CallbackPromise}} {
			if v.value == "" {
				return c, fmt.Errorf("missing environment variable %s (needed when SEND_CONFIRMATION=true)", v.name)
			}
		}
	}
	for _, v := range []envVar{{"LEADS_TABLE", c.Table}, {"CLINIC_NAME", c.Clinic.Name}, {"CLINIC_PHONE", c.Clinic.Phone},
		{"CLINIC_ADDRESS", c.Clinic.Address}, {"CALLBACK_PROMISE", c.Clinic.CallbackPromise}, {"SES_CONFIGURATION_SET", c.ConfigurationSet},
		{"STAFF_CONFIGURATION_SET", c.StaffConfigurationSet}, {"STACK_NAME", c.Stack}} {
		if !lead.IsSingleLine(v.value) {
			return c, fmt.Errorf("%s must be a single line of plain text", v.name)
		}
	}
	if c.TimeZone, err = sla.ZoneFromEnv(getenv); err != nil {
		return c, err
	}
	if c.SLA, err = sla.FromEnv(getenv, c.TimeZone); err != nil {
		return c, err
	}
	if c.InboxURL != "" {
		if err := sesmail.CheckInboxURL(c.InboxURL); err != nil {
			return c, fmt.Errorf("INBOX_URL is not the staff inbox's URL: %w", err)
		}
	}
	if c.StaffConfigurationSet == "" {
		c.StaffConfigurationSet = c.ConfigurationSet
	}
	if c.Retention, err = retention(getenv("RETENTION_DAYS")); err != nil {
		return c, err
	}
	if c.LogLevel, err = logging.Level(getenv("LOG_LEVEL")); err != nil {
		return c, err
	}
	if c.AWS, err = awsconf.FromEnv(getenv, dynamodb.ServiceID, sesv2.ServiceID); err != nil {
		return c, err
	}
	return c, nil
}

type envVar struct{ name, value string }

// maxStaff is SES's limit of recipients per message.
const maxStaff = 50

// staffList reads a comma-separated list of bare addresses; empty entries
// are ignored, duplicates dropped.
func staffList(getenv func(string) string, name string) ([]string, error) {
	var list []string
	seen := map[string]bool{}
	for i, a := range strings.Split(getenv(name), ",") {
		a = lead.NormalizeEmail(a) // "Staff@Clinic.example" is a fine address to configure
		if a == "" || seen[a] {
			continue
		}
		if !lead.IsEmail(a) {
			return nil, fmt.Errorf("%s entry %d is not a bare email address such as frontdesk@clinic.example", name, i+1)
		}
		seen[a] = true
		list = append(list, a)
	}
	if len(list) > maxStaff {
		return nil, fmt.Errorf("%s has %d addresses; SES allows %d recipients per message", name, len(list), maxStaff)
	}
	return list, nil
}

// union returns the addresses of lists, each once, in order.
func union(lists ...[]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range lists {
		for _, a := range l {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// defaultRetentionDays is intake's default for RETENTION_DAYS.
const defaultRetentionDays = 365

// retention reads RETENTION_DAYS, the variable intake sets each lead's
// expiry by. The table's TTL may delete a lead any time after it expires,
// so a retention shorter than the sweep's look-back would let a lead the
// stream could not deliver vanish before the sweep reaches it.
func retention(v string) (time.Duration, error) {
	days := defaultRetentionDays
	if v = strings.TrimSpace(v); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			return 0, fmt.Errorf("RETENTION_DAYS must be a whole number of days between 1 and 3650")
		}
		days = n
	}
	d := time.Duration(days) * 24 * time.Hour
	if d < sweepWindow {
		return 0, fmt.Errorf("RETENTION_DAYS is %d, below the sweep's look-back of %d days: a lead the stream could not deliver could be deleted before the sweep sends it", days, sweepWindow/(24*time.Hour))
	}
	return d, nil
}

// digestTime reads DIGEST_TIME: HH:MM (00:00 to 23:59) in the clinic's
// zone, default 08:00, or "off".
func digestTime(v string) (time.Duration, bool, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return defaultDigestTime, false, nil
	case strings.EqualFold(v, "off"):
		return 0, true, nil
	}
	t, err := time.Parse("15:04", v)
	if err != nil || len(v) != 5 {
		return 0, false, fmt.Errorf("DIGEST_TIME must be a time HH:MM such as 08:00 (in CLINIC_TIMEZONE), or off")
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, false, nil
}
