package intake

import (
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/clinicleads/leadpipe/internal/awsconf"
	"github.com/clinicleads/leadpipe/internal/httpapi"
	"github.com/clinicleads/leadpipe/internal/logging"
	"github.com/clinicleads/leadpipe/internal/sla"
	"github.com/clinicleads/leadpipe/internal/turnstile"
)

// Config is everything an intake function reads from its environment.
type Config struct {
	Table           string        // LEADS_TABLE (required)
	ThankYouURL     string        // THANK_YOU_URL: absolute http(s) URL the redirect accepts (httpapi.CheckRedirect), optional
	Retention       time.Duration // RETENTION_DAYS, default 365
	SpamRetention   time.Duration // SPAM_RETENTION_DAYS, default 7
	TurnstileSecret string        // TURNSTILE_SECRET: the key itself, turns the bot check on (local runs and tests)
	LogLevel        slog.Level    // LOG_LEVEL: debug, info (default), warn, error
	// AWS holds the region, credentials, AWS_ENDPOINT_URL_DYNAMODB and
	// AWS_ENDPOINT_URL_SECRETS_MANAGER (or AWS_ENDPOINT_URL), which Lambda
	// sets or the dev stack gives.
	AWS awsconf.Settings

	// TURNSTILE_SECRET_NAME: the Secrets Manager secret (name or ARN)
	// holding the Turnstile secret key, which New reads once; it turns the
	// bot check on. How the template configures it: the key itself is never
	// in the function's environment. Not together with TURNSTILE_SECRET.
	TurnstileSecretName string
	// CLINIC_TIMEZONE: the clinic's IANA zone; the age check counts on
	// its calendar ("today" is the clinic's date). Unset: UTC.
	TimeZone *time.Location

	// STACK_NAME: optional; metrics are also published by this Stack dimension.
	Stack string
	// TURNSTILE_VERIFY_URL: siteverify's URL, default Cloudflare's
	// (turnstile.CheckURL: https, or http to loopback for a local fake).
	TurnstileVerifyURL string
	// ALLOWED_ORIGINS: the website's comma-separated https origins (http
	// only on loopback); a Turnstile token must have been solved on one of
	// their hosts. Unset: any host.
	TurnstileHostnames []string
	// TURNSTILE_ACTION: optional; a Turnstile token must carry this action.
	TurnstileAction string
}

// ConfigFromEnv reads Config with getenv (os.Getenv in main). Every error
// names the variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Table:           getenv("LEADS_TABLE"),
		ThankYouURL:     strings.TrimSpace(getenv("THANK_YOU_URL")),
		TurnstileSecret: getenv("TURNSTILE_SECRET"),
	}
	if c.Table == "" {
		return c, fmt.Errorf("missing environment variable LEADS_TABLE")
	}
	if c.ThankYouURL != "" {
		// The response's own check, so nothing accepted here becomes a 500
		// after the lead is saved; and absolute, because a path would be
		// resolved against the API's host, not the clinic's site.
		if err := httpapi.CheckRedirect(c.ThankYouURL); err != nil {
			return c, fmt.Errorf("THANK_YOU_URL %w", err)
		}
		if u, _ := url.Parse(c.ThankYouURL); !u.IsAbs() {
			return c, fmt.Errorf("THANK_YOU_URL must be an absolute http(s) URL such as https://clinic.example/thank-you")
		}
	}
	var err error
	if c.Retention, err = days(getenv, "RETENTION_DAYS", 365); err != nil {
		return c, err
	}
	if c.SpamRetention, err = days(getenv, "SPAM_RETENTION_DAYS", 7); err != nil {
		return c, err
	}
	if c.LogLevel, err = logging.Level(getenv("LOG_LEVEL")); err != nil {
		return c, err
	}
	if err := c.readSignals(getenv); err != nil {
		return c, err
	}
	if c.TimeZone, err = sla.ZoneFromEnv(getenv); err != nil {
		return c, err
	}
	if c.AWS, err = awsconf.FromEnv(getenv, dynamodb.ServiceID, secretsmanager.ServiceID); err != nil {
		return c, err
	}
	return c, nil
}

// secretName is what Secrets Manager allows in a secret's name, and in an
// ARN (":"), which is at most 2048 characters.
var secretName = regexp.MustCompile(`^[A-Za-z0-9/_+=.@:-]+$`)

// stackName is CloudFormation's rule for stack names.
var stackName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)

// turnstileAction is Cloudflare's rule for a widget's action.
var turnstileAction = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// readSignals reads the settings of the metrics and of the Turnstile check.
func (c *Config) readSignals(getenv func(string) string) error {
	c.Stack = strings.TrimSpace(getenv("STACK_NAME"))
	if c.Stack != "" && !stackName.MatchString(c.Stack) {
		return fmt.Errorf("STACK_NAME must be a CloudFormation stack name (a letter, then letters, digits or '-', at most 128)")
	}
	if v := strings.TrimSpace(getenv("TURNSTILE_VERIFY_URL")); v != "" {
		if err := turnstile.CheckURL(v); err != nil {
			return fmt.Errorf("TURNSTILE_VERIFY_URL %w", err)
		}
		c.TurnstileVerifyURL = v
	}
	c.TurnstileSecretName = strings.TrimSpace(getenv("TURNSTILE_SECRET_NAME"))
	if c.TurnstileSecretName != "" {
		if len(c.TurnstileSecretName) > 2048 || !secretName.MatchString(c.TurnstileSecretName) {
			return fmt.Errorf("TURNSTILE_SECRET_NAME must be a Secrets Manager secret's name (letters, digits and /_+=.@-) or ARN")
		}
		if c.TurnstileSecret != "" {
			return fmt.Errorf("TURNSTILE_SECRET and TURNSTILE_SECRET_NAME are both set; set one: the key itself (local runs) or the name of the secret holding it")
		}
	}
	c.TurnstileAction = strings.TrimSpace(getenv("TURNSTILE_ACTION"))
	if c.TurnstileAction != "" && !turnstileAction.MatchString(c.TurnstileAction) {
		return fmt.Errorf("TURNSTILE_ACTION must be 1 to 32 letters, digits, '_' or '-' (the widget's data-action)")
	}
	for i, o := range strings.Split(getenv("ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		host, err := originHost(o)
		if err != nil {
			return fmt.Errorf("ALLOWED_ORIGINS entry %d %w", i+1, err)
		}
		if !slices.Contains(c.TurnstileHostnames, host) {
			c.TurnstileHostnames = append(c.TurnstileHostnames, host)
		}
	}
	return nil
}

// originHost returns the lower-case host of an origin such as
// https://www.clinic.example (http only for a loopback host).
func originHost(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("must be an origin such as https://www.clinic.example (scheme and host, no path)")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && turnstile.IsLoopback(u.Hostname())) {
		return "", fmt.Errorf("must use https (plain http only for localhost)")
	}
	return strings.ToLower(u.Hostname()), nil
}

func days(getenv func(string) string, name string, def int) (time.Duration, error) {
	v := getenv(name)
	n := def
	if v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 3650 {
			return 0, fmt.Errorf("%s must be a whole number of days between 1 and 3650", name)
		}
	}
	return time.Duration(n) * 24 * time.Hour, nil
}
