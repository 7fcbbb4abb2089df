package staff

import (
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/clinicleads/leadpipe/internal/awsconf"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/logging"
	"github.com/clinicleads/leadpipe/internal/sla"
)

// MinCursorSecret is the shortest CURSOR_SECRET accepted, in bytes: the
// key of an HMAC-SHA256 should be as long as its output.
const MinCursorSecret = 32

// Config is everything the staff function reads from its environment
// (the AWS settings through internal/awsconf).
type Config struct {
	Table        string         // LEADS_TABLE (required)
	UserPoolID   string         // USER_POOL_ID (required): for the page's sign-in
	ClientID     string         // USER_POOL_CLIENT_ID (required): the inbox app client
	CursorSecret []byte         // CURSOR_SECRET (required, at least 32 bytes): signs list cursors
	TimeZone     *time.Location // CLINIC_TIMEZONE: IANA name, optional; nil shows UTC
	Retention    time.Duration  // RETENTION_DAYS, default 365: a lead rescued from spam expires this long after it arrived
	// SLA is the service levels (CRISIS_SLA, LEAD_SLA, BUSINESS_HOURS,
	// CLOSED_DATES in CLINIC_TIMEZONE) by which the list shows a new
	// lead's wait as overdue, as the notifier escalates it.
	SLA sla.Policy
	// CognitoEndpoint is COGNITO_ENDPOINT, set only locally (cognito-local):
	// the page signs in there instead of at AWS's Cognito.
	CognitoEndpoint string
	LogLevel        slog.Level // LOG_LEVEL: debug, info (default), warn, error
	// AWS holds the region, credentials and AWS_ENDPOINT_URL_DYNAMODB (or
	// AWS_ENDPOINT_URL), which Lambda sets or the dev stack gives.
	AWS awsconf.Settings
}

// ConfigFromEnv reads Config with getenv (os.Getenv in main). Every error
// names the variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Table:           strings.TrimSpace(getenv("LEADS_TABLE")),
		UserPoolID:      strings.TrimSpace(getenv("USER_POOL_ID")),
		ClientID:        strings.TrimSpace(getenv("USER_POOL_CLIENT_ID")),
		CursorSecret:    []byte(getenv("CURSOR_SECRET")),
		CognitoEndpoint: strings.TrimRight(strings.TrimSpace(getenv("COGNITO_ENDPOINT")), "/"),
	}
	for _, v := range []struct{ name, value string }{
		{"LEADS_TABLE", c.Table}, {"USER_POOL_ID", c.UserPoolID}, {"USER_POOL_CLIENT_ID", c.ClientID}, {"CURSOR_SECRET", string(c.CursorSecret)},
	} {
		if v.value == "" {
			return c, fmt.Errorf("missing environment variable %s", v.name)
		}
	}
	// The pool and client ids go to the page in config.json.
	for _, v := range []struct{ name, value string }{{"USER_POOL_ID", c.UserPoolID}, {"USER_POOL_CLIENT_ID", c.ClientID}} {
		if !isToken(v.value) {
			return c, fmt.Errorf("%s must be an id of letters, digits, '_' and '-'", v.name)
		}
	}
	if len(c.CursorSecret) < MinCursorSecret {
		return c, fmt.Errorf("CURSOR_SECRET must be at least %d bytes (it is %d); generate one with: openssl rand -base64 48",
			MinCursorSecret, len(c.CursorSecret))
	}
	if c.CognitoEndpoint != "" {
		if !isOrigin(c.CognitoEndpoint) {
			return c, fmt.Errorf("COGNITO_ENDPOINT must be an http(s) origin such as http://127.0.0.1:9229, without a path")
		}
	}
	var err error
	if c.TimeZone, err = sla.ZoneFromEnv(getenv); err != nil {
		return c, err
	}
	if c.SLA, err = sla.FromEnv(getenv, c.TimeZone); err != nil {
		return c, err
	}
	c.Retention = 365 * 24 * time.Hour
	if v := strings.TrimSpace(getenv("RETENTION_DAYS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			return c, fmt.Errorf("RETENTION_DAYS must be a whole number of days between 1 and 3650")
		}
		c.Retention = time.Duration(n) * 24 * time.Hour
	}
	if c.LogLevel, err = logging.Level(getenv("LOG_LEVEL")); err != nil {
		return c, err
	}
	if !lead.IsSingleLine(c.Table) {
		return c, fmt.Errorf("LEADS_TABLE must be a single line of plain text")
	}
	if c.AWS, err = awsconf.FromEnv(getenv, dynamodb.ServiceID); err != nil {
		return c, err
	}
	return c, nil
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return s != "" && len(s) <= 128
}

// isOrigin reports whether s is scheme://host[:port] and nothing a
// Content-Security-Policy could read as more than one source.
func isOrigin(s string) bool {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return false
	}
	return !strings.ContainsAny(s, " ;,'\"\t\r\n")
}
