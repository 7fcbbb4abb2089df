package staff_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/staff"
)

func TestConfigFromEnv(t *testing.T) {
	base := map[string]string{
		"LEADS_TABLE": "leads", "USER_POOL_ID": "us-east-1_AbC123", "USER_POOL_CLIENT_ID": "4abc5def",
		"CURSOR_SECRET": strings.Repeat("s", 32),
		"AWS_REGION":    "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
	}
	env := func(changes ...string) func(string) string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(changes); i += 2 {
			m[changes[i]] = changes[i+1]
		}
		return func(k string) string { return m[k] }
	}
	cfg, err := staff.ConfigFromEnv(env())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Table != "leads" || cfg.UserPoolID != "us-east-1_AbC123" || cfg.ClientID != "4abc5def" || len(cfg.CursorSecret) != 32 ||
		cfg.Retention != 365*24*time.Hour || cfg.TimeZone != nil || cfg.CognitoEndpoint != "" {
		t.Errorf("defaults = %+v", cfg)
	}
	cfg, err = staff.ConfigFromEnv(env("CLINIC_TIMEZONE", "America/Chicago", "RETENTION_DAYS", "30",
		"COGNITO_ENDPOINT", "http://127.0.0.1:9229/", "LOG_LEVEL", "debug"))
	if err != nil || cfg.TimeZone.String() != "America/Chicago" || cfg.Retention != 30*24*time.Hour || cfg.CognitoEndpoint != "http://127.0.0.1:9229" {
		t.Errorf("set = %+v, %v", cfg, err)
	}
	// The service levels, in the clinic's zone, as the notifier reads them.
	cfg, err = staff.ConfigFromEnv(env("CLINIC_TIMEZONE", "America/Chicago", "CRISIS_SLA", "1m", "LEAD_SLA", "2h", "BUSINESS_HOURS", "Sat 10:00-13:00"))
	if err != nil || cfg.SLA.Crisis() != time.Minute || cfg.SLA.Lead() != 2*time.Hour || cfg.SLA.Hours().String() != "Sat 10:00-13:00" ||
		cfg.SLA.Zone().String() != "America/Chicago" {
		t.Errorf("service levels = %v %v %v %v, %v", cfg.SLA.Crisis(), cfg.SLA.Lead(), cfg.SLA.Hours(), cfg.SLA.Zone(), err)
	}
	for _, tt := range []struct {
		env  []string
		name string // the variable the error must name
	}{
		{[]string{"LEADS_TABLE", ""}, "LEADS_TABLE"},
		{[]string{"USER_POOL_ID", ""}, "USER_POOL_ID"},
		{[]string{"USER_POOL_CLIENT_ID", ""}, "USER_POOL_CLIENT_ID"},
		{[]string{"USER_POOL_CLIENT_ID", "a b"}, "USER_POOL_CLIENT_ID"},
		{[]string{"CURSOR_SECRET", ""}, "CURSOR_SECRET"},
		{[]string{"CURSOR_SECRET", strings.Repeat("s", 31)}, "CURSOR_SECRET"},
		{[]string{"CLINIC_TIMEZONE", "Mars/Olympus"}, "CLINIC_TIMEZONE"},
		{[]string{"RETENTION_DAYS", "0"}, "RETENTION_DAYS"},
		{[]string{"RETENTION_DAYS", "a year"}, "RETENTION_DAYS"},
		{[]string{"COGNITO_ENDPOINT", "127.0.0.1:9229"}, "COGNITO_ENDPOINT"},
		{[]string{"COGNITO_ENDPOINT", "http://127.0.0.1:9229/pool"}, "COGNITO_ENDPOINT"},
		{[]string{"COGNITO_ENDPOINT", "http://a; script-src *"}, "COGNITO_ENDPOINT"},
		{[]string{"LOG_LEVEL", "loud"}, "LOG_LEVEL"},
		{[]string{"CRISIS_SLA", "half an hour"}, "CRISIS_SLA"},
		{[]string{"LEAD_SLA", "-4h"}, "LEAD_SLA"},
		{[]string{"BUSINESS_HOURS", "9 to 5"}, "BUSINESS_HOURS"},
		{[]string{"CLOSED_DATES", "12/25/2026"}, "CLOSED_DATES"},
		{[]string{"AWS_REGION", ""}, "AWS_REGION"},
		{[]string{"AWS_ENDPOINT_URL_DYNAMODB", "localhost:8000"}, "AWS_ENDPOINT_URL_DYNAMODB"},
	} {
		if _, err := staff.ConfigFromEnv(env(tt.env...)); err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("%v: error %v, want one naming %s", tt.env, err, tt.name)
		}
	}
}
