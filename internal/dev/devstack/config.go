package devstack

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
)

// Config is the dev stack's configuration. ConfigFromEnv reads it with the
// defaults `make dev` uses; tests build one with port 0 (a free port) for
// every server.
type Config struct {
	// Ports on 127.0.0.1; 0 picks a free port.
	APIPort    int // LEADPIPE_API_PORT, default 3000: website and HTTP API
	DynamoPort int // LEADPIPE_DYNAMO_PORT, default 8000: dynalite
	SESPort    int // LEADPIPE_SES_PORT, default 8005: aws-ses-v2-local, the staff inbox
	StreamPort int // LEADPIPE_STREAM_PORT, default 8001: the stream proxy in front of dynalite
	// CognitoPort is LEADPIPE_COGNITO_PORT, default 9229: cognito-local,
	// the staff user pool.
	CognitoPort int

	// Table is the leads table's name (LEADPIPE_TABLE, default "leads").
	Table string
	// AllowedOrigins are the origins CORS allows (LEADPIPE_ALLOWED_ORIGINS,
	// comma-separated); empty means the API's own: http://127.0.0.1:<port>
	// and http://localhost:<port>.
	AllowedOrigins []string
	// SiteDir holds the website served at / (LEADPIPE_SITE_DIR); empty
	// means examples/website in the module.
	SiteDir string
	// SweepInterval is how often the notify function's scheduled run
	// (the sweep, escalations, the daily digest) runs, as the template's
	// schedule does on AWS (LEADPIPE_SWEEP_INTERVAL, a Go duration, default
	// DefaultSweepInterval; "off" or 0 runs none).
	SweepInterval time.Duration
	// StaffPassword is the seeded staff account's password
	// (LEADPIPE_DEV_STAFF_PASSWORD); empty means DefaultStaffPassword. It
	// must meet the staff pool's password policy.
	StaffPassword string

	// Env is the functions' environment: the variables template.yaml sets
	// on them, with dev defaults (see ConfigFromEnv). Run adds LEADS_TABLE,
	// the AWS settings, the user pool's (USER_POOL_ID, USER_POOL_CLIENT_ID,
	// COGNITO_ENDPOINT) and a new CURSOR_SECRET; an empty THANK_YOU_URL
	// becomes the example site's thank-you page, an empty INBOX_URL the
	// local API's /staff.
	Env map[string]string

	// Template is the SAM template whose table, routes and authorizers the
	// stack serves; nil means template.yaml in the module.
	Template *samtemplate.Template
	// Functions add to (or replace) the functions the stack can run behind
	// the template's routes, by logical ID; tests use it.
	Functions map[string]HTTPFunction
	// NewNotifier builds the notify function's handlers (its stream
	// delivery and its scheduled run); nil means the notify function's own
	// wiring (functions.go).
	NewNotifier NewNotifier

	// Out receives the URLs and the final "leadpipe dev stack ready" line;
	// nil means discard.
	Out io.Writer
	// Log receives the emulators' output and the stack's own log lines;
	// nil means discard. The functions log to stdout, as on Lambda.
	Log io.Writer
	// Ready, if set, is called with the addresses once everything runs.
	Ready func(Endpoints)
}

// Endpoints are the base URLs of a running stack.
type Endpoints struct {
	API     string // website and HTTP API
	SES     string // aws-ses-v2-local: its page shows the mail sent, GET /store the mail as JSON
	Dynamo  string // dynalite itself
	Stream  string // the stream proxy: the DynamoDB endpoint the functions use
	Cognito string // cognito-local: the staff user pool's API
	Table   string
	// UserPoolID and ClientID are the local staff pool and the inbox's app
	// client in it.
	UserPoolID, ClientID string
}

// ExampleClinicName is the placeholder clinic of the example website, the
// dev stack's emails and samconfig.example.toml: one name, so a newcomer
// sees the same clinic on the page and in the mail.
const ExampleClinicName = "Example Ketamine Therapy Clinic"

// ReadyLine is the last line Run prints once the stack is up.
const ReadyLine = "leadpipe dev stack ready"

// portVars are the port settings, for ConfigFromEnv and for error messages.
var portVars = []struct {
	name string
	def  int
	get  func(*Config) *int
}{
	{"LEADPIPE_API_PORT", 3000, func(c *Config) *int { return &c.APIPort }},
	{"LEADPIPE_DYNAMO_PORT", 8000, func(c *Config) *int { return &c.DynamoPort }},
	{"LEADPIPE_STREAM_PORT", 8001, func(c *Config) *int { return &c.StreamPort }},
	{"LEADPIPE_SES_PORT", 8005, func(c *Config) *int { return &c.SESPort }},
	{"LEADPIPE_COGNITO_PORT", 9229, func(c *Config) *int { return &c.CognitoPort }},
}

// functionDefaults are the functions' settings in the dev stack: the
// variables template.yaml gives the functions, each overridable by the
// same environment variable. Variables without a default are passed on
// only when set.
var functionDefaults = []struct{ name, def string }{
	// intake
	{"THANK_YOU_URL", ""}, // the example site's thank-you page, see Run
	{"RETENTION_DAYS", ""},
	{"SPAM_RETENTION_DAYS", ""},
	{"TURNSTILE_SECRET", ""},
	{"LOG_LEVEL", ""},
	// notify
	{"SENDER_EMAIL", "clinic@example.com"},
	{"STAFF_EMAILS", "staff@example.com"},
	{"CONTACT_STAFF_EMAILS", ""},
	{"CONSULTATION_STAFF_EMAILS", ""},
	{"NOTIFY_DETAIL", "contact"},
	{"SEND_CONFIRMATION", "true"},
	{"CLINIC_NAME", ExampleClinicName},
	{"CLINIC_PHONE", "(410) 555-0100"},
	{"CLINIC_ADDRESS", "100 Example Street, Baltimore, MD 21201"},
	{"CALLBACK_PROMISE", "within one business day"},
	{"CLINIC_TIMEZONE", ""},
	{"SES_CONFIGURATION_SET", ""},
	{"INBOX_URL", ""}, // the local API's /staff, see Run
	// notify and staff: service levels, escalation, the daily digest
	{"CRISIS_SLA", ""},
	{"LEAD_SLA", ""},
	{"BUSINESS_HOURS", ""},
	{"CLOSED_DATES", ""},
	{"ESCALATION_EMAILS", ""},
	{"ONCALL_EMAIL", ""},
	// Off unless asked for: every start has a new table, so the first run
	// after 08:00 would send a digest at each start.
	{"DIGEST_TIME", "off"},
	{"DIGEST_EMAILS", ""},
}

// DefaultSweepInterval is LEADPIPE_SWEEP_INTERVAL's default: often enough
// that a developer who starts the stack with CRISIS_SLA=1m sees the
// escalation within a minute and a half of submitting a crisis request.
const DefaultSweepInterval = 30 * time.Second

// minSweepInterval keeps a typo (1ms) from running the sweep in a loop.
const minSweepInterval = time.Second

// ConfigFromEnv reads Config with getenv (os.Getenv in main). Every error
// names the variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Table: "leads", SiteDir: strings.TrimSpace(getenv("LEADPIPE_SITE_DIR")), Env: map[string]string{},
		StaffPassword: DefaultStaffPassword, SweepInterval: DefaultSweepInterval}
	for _, p := range portVars {
		port := p.def
		if v := strings.TrimSpace(getenv(p.name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 65535 {
				return c, fmt.Errorf("%s must be a port number between 1 and 65535, not %q", p.name, v)
			}
			port = n
		}
		*p.get(&c) = port
	}
	if v := strings.TrimSpace(getenv("LEADPIPE_TABLE")); v != "" {
		c.Table = v
	}
	if v := strings.TrimSpace(getenv("LEADPIPE_SWEEP_INTERVAL")); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case strings.EqualFold(v, "off"):
			c.SweepInterval = 0
		case err != nil || d < 0:
			return c, fmt.Errorf("LEADPIPE_SWEEP_INTERVAL must be a Go duration such as 30s or 1m (or off), not %q", v)
		default:
			c.SweepInterval = d
		}
	}
	if v := getenv("LEADPIPE_DEV_STAFF_PASSWORD"); v != "" {
		c.StaffPassword = v
	}
	if v := strings.TrimSpace(getenv("LEADPIPE_ALLOWED_ORIGINS")); v != "" {
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.AllowedOrigins = append(c.AllowedOrigins, o)
			}
		}
	}
	for _, d := range functionDefaults {
		if v := getenv(d.name); v != "" {
			c.Env[d.name] = v
		} else if d.def != "" {
			c.Env[d.name] = d.def
		}
	}
	return c, c.check()
}

func (c *Config) check() error {
	seen := map[int]string{}
	for _, p := range portVars {
		port := *p.get(c)
		if port < 0 || port > 65535 {
			return fmt.Errorf("%s must be a port number between 1 and 65535, not %d", p.name, port)
		}
		if other, dup := seen[port]; dup && port != 0 {
			return fmt.Errorf("%s and %s are both %d; each server needs its own port", other, p.name, port)
		}
		seen[port] = p.name
	}
	if c.Table == "" {
		return fmt.Errorf("LEADPIPE_TABLE must not be empty")
	}
	if c.SweepInterval != 0 && c.SweepInterval < minSweepInterval {
		return fmt.Errorf("LEADPIPE_SWEEP_INTERVAL must be at least %v (or off), not %v", minSweepInterval, c.SweepInterval)
	}
	if err := checkPassword(c.staffPassword()); err != nil {
		return err
	}
	for _, o := range c.AllowedOrigins {
		u, err := url.Parse(o)
		if o == "*" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			return fmt.Errorf("LEADPIPE_ALLOWED_ORIGINS entry %q is not an origin such as http://localhost:3000 (never \"*\")", o)
		}
	}
	return nil
}

func (c *Config) staffPassword() string {
	if c.StaffPassword == "" {
		return DefaultStaffPassword
	}
	return c.StaffPassword
}
