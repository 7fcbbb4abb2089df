package notify

import (
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/sesmail"
)

func env(over map[string]string) func(string) string {
	base := map[string]string{
		"AWS_REGION":            "us-east-1",
		"AWS_ACCESS_KEY_ID":     "test",
		"AWS_SECRET_ACCESS_KEY": "test",
		"LEADS_TABLE":           "LeadsTable",
		"SENDER_EMAIL":          "notify@clinic.example",
		"STAFF_EMAILS":          "frontdesk@clinic.example, intake@clinic.example",
		"CLINIC_NAME":           "Harbor Ketamine Clinic",
	}
	for k, v := range over {
		base[k] = v
	}
	return func(k string) string { return base[k] }
}

func TestConfigDefaults(t *testing.T) {
	c, err := ConfigFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"frontdesk@clinic.example", "intake@clinic.example"}
	if !reflect.DeepEqual(c.ContactStaff, all) || !reflect.DeepEqual(c.ConsultationStaff, all) {
		t.Errorf("staff %q %q", c.ContactStaff, c.ConsultationStaff)
	}
	if c.Detail != sesmail.DetailContact || c.SendConfirmation || c.LogLevel != slog.LevelInfo || c.TimeZone != nil || c.ConfigurationSet != "" {
		t.Errorf("defaults %+v", c)
	}
}

func TestConfigLists(t *testing.T) {
	c, err := ConfigFromEnv(env(map[string]string{
		"STAFF_EMAILS":              "",
		"CONTACT_STAFF_EMAILS":      "frontdesk@clinic.example",
		"CONSULTATION_STAFF_EMAILS": "intake@clinic.example,nurse@clinic.example,,intake@clinic.example",
		"NOTIFY_DETAIL":             "full",
		"SEND_CONFIRMATION":         "true",
		"CLINIC_PHONE":              "(410) 555-0100",
		"CLINIC_ADDRESS":            "1 Harbor St, Baltimore, MD 21201",
		"CALLBACK_PROMISE":          "within one business day",
		"CLINIC_TIMEZONE":           "America/New_York",
		"SES_CONFIGURATION_SET":     "leadpipe",
		"LOG_LEVEL":                 "debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.ContactStaff, []string{"frontdesk@clinic.example"}) ||
		!reflect.DeepEqual(c.ConsultationStaff, []string{"intake@clinic.example", "nurse@clinic.example"}) {
		t.Errorf("staff %q %q", c.ContactStaff, c.ConsultationStaff)
	}
	if c.Detail != sesmail.DetailFull || !c.SendConfirmation || c.TimeZone.String() != "America/New_York" ||
		c.ConfigurationSet != "leadpipe" || c.LogLevel != slog.LevelDebug {
		t.Errorf("config %+v", c)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	for _, c := range []struct {
		over map[string]string
		want string
	}{
		{map[string]string{"LEADS_TABLE": ""}, "LEADS_TABLE"},
		{map[string]string{"SENDER_EMAIL": ""}, "SENDER_EMAIL"},
		{map[string]string{"SENDER_EMAIL": "Clinic <notify@clinic.example>"}, "SENDER_EMAIL"},
		{map[string]string{"SENDER_EMAIL": "notify@clinic.example\r\nBcc: x@evil.example"}, "SENDER_EMAIL"},
		{map[string]string{"CLINIC_NAME": ""}, "CLINIC_NAME"},
		{map[string]string{"CLINIC_NAME": "Clinic\r\nBcc: x@evil.example"}, "CLINIC_NAME"},
		{map[string]string{"STAFF_EMAILS": ""}, "STAFF_EMAILS"},
		{map[string]string{"STAFF_EMAILS": "", "CONTACT_STAFF_EMAILS": "a@clinic.example"}, "CONSULTATION_STAFF_EMAILS"},
		{map[string]string{"STAFF_EMAILS": "ok@clinic.example,not an address"}, "STAFF_EMAILS entry 2"},
		{map[string]string{"STAFF_EMAILS": "ok@clinic.example\r\nBcc: x@evil.example"}, "STAFF_EMAILS"},
		{map[string]string{"CONSULTATION_STAFF_EMAILS": "Nurse <n@clinic.example>"}, "CONSULTATION_STAFF_EMAILS"},
		{map[string]string{"STAFF_EMAILS": strings.Repeat("a@clinic.example,", 1) + manyAddresses(51)}, "STAFF_EMAILS"},
		{map[string]string{"NOTIFY_DETAIL": "everything"}, "NOTIFY_DETAIL"},
		{map[string]string{"SEND_CONFIRMATION": "yes"}, "SEND_CONFIRMATION"},
		{map[string]string{"SEND_CONFIRMATION": "true"}, "CLINIC_PHONE"},
		{map[string]string{"SEND_CONFIRMATION": "true", "CLINIC_PHONE": "1"}, "CALLBACK_PROMISE"},
		{map[string]string{"CLINIC_TIMEZONE": "Mars/Olympus"}, "CLINIC_TIMEZONE"},
		{map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{map[string]string{"INBOX_URL": "http://inbox.clinic.example/staff"}, "INBOX_URL"},
		{map[string]string{"INBOX_URL": "/staff"}, "INBOX_URL"},
		{map[string]string{"INBOX_URL": "https://inbox.clinic.example/staff#/leads"}, "INBOX_URL"},
		{map[string]string{"AWS_REGION": ""}, "AWS_REGION"},
		{map[string]string{"AWS_SECRET_ACCESS_KEY": ""}, "AWS_SECRET_ACCESS_KEY"},
		{map[string]string{"AWS_ENDPOINT_URL_SESV2": "localhost:8005"}, "AWS_ENDPOINT_URL_SESV2"},
	} {
		_, err := ConfigFromEnv(env(c.over))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want it to name %s", c.over, err, c.want)
		}
	}
}

func manyAddresses(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("staff" + strings.Repeat("x", i) + "@clinic.example,")
	}
	return b.String()
}

func TestConfigAcceptsUpperCaseDomains(t *testing.T) {
	env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"LEADS_TABLE": "leads", "SENDER_EMAIL": "Notify@Clinic.Example", "STAFF_EMAILS": "Front.Desk@Clinic.Example, nurse@clinic.example", "CLINIC_NAME": "Clinic"}
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("ConfigFromEnv: %v", err)
	}
	if cfg.Sender != "Notify@clinic.example" || strings.Join(cfg.ContactStaff, ",") != "Front.Desk@clinic.example,nurse@clinic.example" {
		t.Errorf("sender %q staff %v, want domains lower-cased and local parts kept", cfg.Sender, cfg.ContactStaff)
	}
}

func TestConfigInboxURL(t *testing.T) {
	if c, err := ConfigFromEnv(env(nil)); err != nil || c.InboxURL != "" {
		t.Errorf("without INBOX_URL: %q, %v; want none", c.InboxURL, err)
	}
	for _, u := range []string{"https://abc123.execute-api.us-east-1.amazonaws.com/prod/staff", "http://127.0.0.1:3000/staff", "http://localhost:3000/staff"} {
		c, err := ConfigFromEnv(env(map[string]string{"INBOX_URL": " " + u + " "}))
		if err != nil || c.InboxURL != u {
			t.Errorf("INBOX_URL=%s: %q, %v", u, c.InboxURL, err)
		}
	}
}

func TestConfigStaffConfigurationSet(t *testing.T) {
	for _, c := range []struct {
		over      map[string]string
		set, file string
	}{
		{nil, "", ""},
		{map[string]string{"SES_CONFIGURATION_SET": "leadpipe"}, "leadpipe", "leadpipe"}, // falls back to today's set
		{map[string]string{"SES_CONFIGURATION_SET": "leadpipe", "STAFF_CONFIGURATION_SET": " leadpipe-staff "}, "leadpipe", "leadpipe-staff"},
	} {
		got, err := ConfigFromEnv(env(c.over))
		if err != nil || got.ConfigurationSet != c.set || got.StaffConfigurationSet != c.file {
			t.Errorf("%v: sets %q, %q, %v; want %q, %q", c.over, got.ConfigurationSet, got.StaffConfigurationSet, err, c.set, c.file)
		}
	}
	if _, err := ConfigFromEnv(env(map[string]string{"STAFF_CONFIGURATION_SET": "a\r\nb"})); err == nil || !strings.Contains(err.Error(), "STAFF_CONFIGURATION_SET") {
		t.Errorf("a two-line STAFF_CONFIGURATION_SET: %v", err)
	}
}

// TestConfigStaffAddresses: every configured address is checked against
// the suppression list once, including STAFF_EMAILS when both per-form
// lists replace it.
func TestConfigStaffAddresses(t *testing.T) {
	c, err := ConfigFromEnv(env(map[string]string{
		"STAFF_EMAILS":              "owner@clinic.example, frontdesk@clinic.example",
		"CONTACT_STAFF_EMAILS":      "frontdesk@clinic.example",
		"CONSULTATION_STAFF_EMAILS": "intake@clinic.example, Owner@Clinic.example",
	}))
	want := []string{"owner@clinic.example", "frontdesk@clinic.example", "intake@clinic.example", "Owner@clinic.example"}
	if err != nil || !reflect.DeepEqual(c.Staff, want) {
		t.Errorf("Staff = %q, %v; want %q", c.Staff, err, want)
	}
}

func TestConfigRetentionCoversTheSweep(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 365 * 24 * time.Hour, "7": 7 * 24 * time.Hour, " 30 ": 30 * 24 * time.Hour} {
		c, err := ConfigFromEnv(env(map[string]string{"RETENTION_DAYS": v}))
		if err != nil || c.Retention != want {
			t.Errorf("RETENTION_DAYS=%q: %v, %v; want %v", v, c.Retention, err, want)
		}
	}
	for _, v := range []string{"6", "1", "0", "-7", "seven", "3651"} {
		_, err := ConfigFromEnv(env(map[string]string{"RETENTION_DAYS": v}))
		if err == nil || !strings.Contains(err.Error(), "RETENTION_DAYS") {
			t.Errorf("RETENTION_DAYS=%q: err = %v, want one naming the variable", v, err)
		}
	}
	if _, err := ConfigFromEnv(env(map[string]string{"RETENTION_DAYS": "6"})); err == nil || !strings.Contains(err.Error(), "look-back of 7 days") {
		t.Errorf("RETENTION_DAYS=6: %v; want the reason", err)
	}
}

func TestConfigEscalationAndDigest(t *testing.T) {
	c, err := ConfigFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"frontdesk@clinic.example", "intake@clinic.example"}
	if len(c.Escalation) != 0 || len(c.OnCall) != 0 || !reflect.DeepEqual(c.Digest, all) || c.DigestOff || c.DigestTime != 8*time.Hour ||
		c.SLA.Crisis() != 30*time.Minute || c.SLA.Lead() != 4*time.Hour || c.SLA.Hours().String() != "Mon-Fri 09:00-17:00" {
		t.Errorf("defaults: escalation %q on-call %q digest %q at %v (off %v), levels %v %v %q",
			c.Escalation, c.OnCall, c.Digest, c.DigestTime, c.DigestOff, c.SLA.Crisis(), c.SLA.Lead(), c.SLA.Hours())
	}

	c, err = ConfigFromEnv(env(map[string]string{
		"ESCALATION_EMAILS": "Manager@Clinic.example", "ONCALL_EMAIL": "4105550100@sms.example",
		"DIGEST_EMAILS": "owner@clinic.example", "DIGEST_TIME": "07:30",
		"CRISIS_SLA": "1m", "LEAD_SLA": "90m", "BUSINESS_HOURS": "Mon-Fri 08:00-18:00, Sat 09:00-12:00",
		"CLOSED_DATES": "2026-12-25", "CLINIC_TIMEZONE": "America/Chicago",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Escalation, []string{"Manager@clinic.example"}) || !reflect.DeepEqual(c.OnCall, []string{"4105550100@sms.example"}) ||
		!reflect.DeepEqual(c.Digest, []string{"owner@clinic.example"}) || c.DigestTime != 7*time.Hour+30*time.Minute ||
		c.SLA.Crisis() != time.Minute || c.SLA.Lead() != 90*time.Minute || c.SLA.Zone().String() != "America/Chicago" {
		t.Errorf("config: %+v", c)
	}
	// Every address staff mail goes to is checked against the suppression list.
	want := []string{"frontdesk@clinic.example", "intake@clinic.example", "Manager@clinic.example", "4105550100@sms.example", "owner@clinic.example"}
	if !reflect.DeepEqual(c.Staff, want) {
		t.Errorf("checked addresses %q, want %q", c.Staff, want)
	}
	if c, err := ConfigFromEnv(env(map[string]string{"DIGEST_TIME": "OFF"})); err != nil || !c.DigestOff {
		t.Errorf("DIGEST_TIME=OFF: %v %v", c.DigestOff, err)
	}

	many := make([]string, 50)
	for i := range many {
		many[i] = fmt.Sprintf("s%d@clinic.example", i)
	}
	for _, c := range []struct {
		over map[string]string
		want string
	}{
		{map[string]string{"ESCALATION_EMAILS": "manager"}, "ESCALATION_EMAILS entry 1"},
		{map[string]string{"ONCALL_EMAIL": "+1 410 555 0100"}, "ONCALL_EMAIL entry 1"},
		{map[string]string{"DIGEST_EMAILS": "a@clinic.example,b"}, "DIGEST_EMAILS entry 2"},
		{map[string]string{"DIGEST_TIME": "8:00"}, "DIGEST_TIME must be a time HH:MM"},
		{map[string]string{"DIGEST_TIME": "24:00"}, "DIGEST_TIME"},
		{map[string]string{"CRISIS_SLA": "30"}, "CRISIS_SLA must be a positive Go duration"},
		{map[string]string{"LEAD_SLA": "0h"}, "LEAD_SLA"},
		{map[string]string{"BUSINESS_HOURS": "Mon-Fri 9-5"}, "BUSINESS_HOURS: entry 1"},
		{map[string]string{"CLOSED_DATES": "Dec 25"}, "CLOSED_DATES: entry 1"},
		{map[string]string{"ESCALATION_EMAILS": strings.Join(many, ","), "ONCALL_EMAIL": "oncall@sms.example"}, "SES allows 50 per message"},
	} {
		if _, err := ConfigFromEnv(env(c.over)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to say %q", c.over, err, c.want)
		}
	}
}
