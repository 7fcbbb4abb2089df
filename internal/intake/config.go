package intake

import (
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/clinicleads/leadpipe/internal/awsconf"
	"github.com/clinicleads/leadpipe/internal/logging"
)

// Config is everything an intake function reads from its environment.
type Config struct {
	Table           string        // LEADS_TABLE (required)
	ThankYouURL     string        // THANK_YOU_URL: absolute http(s) URL, optional
	Retention       time.Duration // RETENTION_DAYS, default 365
	SpamRetention   time.Duration // SPAM_RETENTION_DAYS, default 7
	TurnstileSecret string        // TURNSTILE_SECRET: turns the bot check on
	LogLevel        slog.Level    // LOG_LEVEL: debug, info (default), warn, error
	// AWS holds the region, credentials and AWS_ENDPOINT_URL_DYNAMODB (or
	// AWS_ENDPOINT_URL), which Lambda sets or the dev stack gives.
	AWS awsconf.Settings
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
		u, err := url.Parse(c.ThankYouURL)
		if err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c, fmt.Errorf("THANK_YOU_URL must be an absolute http(s) URL")
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
	if c.AWS, err = awsconf.FromEnv(getenv, dynamodb.ServiceID); err != nil {
		return c, err
	}
	return c, nil
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
