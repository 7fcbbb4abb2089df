package intake

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/httpapi"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// env returns a getenv over the minimal valid environment plus vars.
func env(vars map[string]string) func(string) string {
	all := map[string]string{"LEADS_TABLE": "leads", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
	for k, v := range vars {
		all[k] = v
	}
	return func(k string) string { return all[k] }
}

// TestThankYouURLTheRedirectRefusesStopsStart: a THANK_YOU_URL the
// response writer would refuse must stop the function at start, naming the
// variable, instead of answering 500 after each lead is saved.
func TestThankYouURLTheRedirectRefusesStopsStart(t *testing.T) {
	for _, v := range []string{
		"https://clinic.example/danke-schön", // non-ASCII: browsers repair it differently
		"https://clinic.example/thank you",   // a space inside
		"https://clinic.example/\tthanks",
		"https://clinic.example/thanks\x7f",
		"https://clinic.example/%zz", // not a URL
		"https:///thank-you",         // no host
		"javascript:alert(1)",
		"mailto:frontdesk@clinic.example",
		"//evil.example/thank-you",
		"/\\evil.example/",
		"thank-you",
	} {
		t.Run(v, func(t *testing.T) {
			if resp := httpapi.Redirect(v); resp.StatusCode != 500 {
				t.Fatalf("the redirect accepts %q (%d): not a case for this test", v, resp.StatusCode)
			}
			_, err := ConfigFromEnv(env(map[string]string{"THANK_YOU_URL": v}))
			if err == nil || !strings.Contains(err.Error(), "THANK_YOU_URL") {
				t.Errorf("ConfigFromEnv = %v, want an error naming THANK_YOU_URL", err)
			}
		})
	}
}

func TestThankYouURLAccepted(t *testing.T) {
	for _, v := range []string{
		"https://www.example-clinic.com/thank-you",
		"https://clinic.example/thank-you?form=contact#top",
		"https://clinic.example/danke-sch%C3%B6n",
		"http://localhost:8080/thanks",
	} {
		t.Run(v, func(t *testing.T) {
			c, err := ConfigFromEnv(env(map[string]string{"THANK_YOU_URL": " " + v + " "}))
			if err != nil || c.ThankYouURL != v {
				t.Fatalf("ConfigFromEnv = %q, %v, want %q accepted", c.ThankYouURL, err, v)
			}
			if resp := httpapi.Redirect(c.ThankYouURL); resp.StatusCode != 303 {
				t.Errorf("the redirect answers %d for an accepted THANK_YOU_URL", resp.StatusCode)
			}
		})
	}
	// A path is a fine redirect for the writer, but it would be resolved
	// against the API's host, not the clinic's site: refused at start.
	if _, err := ConfigFromEnv(env(map[string]string{"THANK_YOU_URL": "/thank-you"})); err == nil || !strings.Contains(err.Error(), "THANK_YOU_URL") {
		t.Errorf("a path: %v, want refused naming THANK_YOU_URL", err)
	}
}

func TestSignalSettings(t *testing.T) {
	c, err := ConfigFromEnv(env(map[string]string{
		"STACK_NAME":           "leadpipe-prod",
		"TURNSTILE_VERIFY_URL": "http://127.0.0.1:8787/siteverify",
		"TURNSTILE_ACTION":     "consultation",
		"ALLOWED_ORIGINS":      "https://clinic.example, https://WWW.Clinic.example/,https://clinic.example:443,,http://localhost:3000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Stack != "leadpipe-prod" || c.TurnstileVerifyURL != "http://127.0.0.1:8787/siteverify" || c.TurnstileAction != "consultation" ||
		!slices.Equal(c.TurnstileHostnames, []string{"clinic.example", "www.clinic.example", "localhost"}) {
		t.Errorf("config = %+v", c)
	}
	c, err = ConfigFromEnv(env(nil))
	if err != nil || c.Stack != "" || c.TurnstileVerifyURL != "" || c.TurnstileAction != "" || c.TurnstileHostnames != nil {
		t.Errorf("defaults = %+v, %v; want all off", c, err)
	}

	for _, tt := range []struct{ name, value string }{
		{"STACK_NAME", "leadpipe prod"},
		{"STACK_NAME", "1leadpipe"},
		{"TURNSTILE_VERIFY_URL", "http://challenges.cloudflare.com/turnstile/v0/siteverify"},
		{"TURNSTILE_VERIFY_URL", "http://192.0.2.10/siteverify"},
		{"TURNSTILE_VERIFY_URL", "challenges.cloudflare.com"},
		{"TURNSTILE_ACTION", "consultation form"},
		{"TURNSTILE_ACTION", strings.Repeat("a", 33)},
		{"ALLOWED_ORIGINS", "*"},
		{"ALLOWED_ORIGINS", "https://clinic.example,http://clinic.example"},
		{"ALLOWED_ORIGINS", "https://clinic.example/contact"},
		{"ALLOWED_ORIGINS", "clinic.example"},
	} {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := ConfigFromEnv(env(map[string]string{tt.name: tt.value}))
			if err == nil || !strings.Contains(err.Error(), tt.name) {
				t.Errorf("ConfigFromEnv = %v, want an error naming %s", err, tt.name)
			}
		})
	}
}

// TestClinicTimeZone: intake reads CLINIC_TIMEZONE, and New's validator
// counts the 18-or-older rule on the clinic's date. Kiritimati (UTC+14)
// and Pago Pago (UTC-11) are never on the same date, so someone whose
// 18th birthday is today in Kiritimati is 18 there and still 17 there.
func TestClinicTimeZone(t *testing.T) {
	if _, err := ConfigFromEnv(env(map[string]string{"CLINIC_TIMEZONE": "New York"})); err == nil || !strings.Contains(err.Error(), "CLINIC_TIMEZONE") {
		t.Errorf("a bad zone: %v, want an error naming CLINIC_TIMEZONE", err)
	}
	c, err := ConfigFromEnv(env(nil))
	if err != nil || c.TimeZone != nil {
		t.Errorf("unset: %v, %v; want no zone (UTC)", c.TimeZone, err)
	}
	ahead, err := time.LoadLocation("Pacific/Kiritimati")
	if err != nil {
		t.Fatal(err)
	}
	validates := func(zone string) bool {
		t.Helper()
		c, err := ConfigFromEnv(env(map[string]string{"CLINIC_TIMEZONE": " " + zone + " "}))
		if err != nil || c.TimeZone == nil || c.TimeZone.String() != zone {
			t.Fatalf("CLINIC_TIMEZONE=%s: %v, %v", zone, c.TimeZone, err)
		}
		h, err := New(c, func() lead.Form { return new(lead.Consultation) })
		if err != nil {
			t.Fatal(err)
		}
		// Retried once, in case Kiritimati's midnight passes in between.
		for range 2 {
			today := time.Now().In(ahead)
			if today.Month() == time.February && today.Day() == 29 {
				t.Skip("18 years before 29 February is not a birthday to test with")
			}
			f := validConsultationForm()
			f.DateOfBirth = today.AddDate(-18, 0, 0).Format(time.DateOnly)
			f.Normalize()
			err = h.Service.Validator.Validate(f)
			if time.Now().In(ahead).YearDay() == today.YearDay() {
				break
			}
		}
		return err == nil
	}
	if !validates("Pacific/Kiritimati") {
		t.Error("18 today in the clinic's zone: refused")
	}
	if validates("Pacific/Pago_Pago") {
		t.Error("17 until tomorrow in the clinic's zone: accepted")
	}
}

// validConsultationForm is a consultation that passes validation.
func validConsultationForm() *lead.Consultation {
	return &lead.Consultation{
		FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Phone: "410-555-0134",
		DateOfBirth: "1985-12-10", State: "MD", Concerns: []string{"depression"},
		ConsentToContact: true, AcknowledgedPrivacy: true,
	}
}
