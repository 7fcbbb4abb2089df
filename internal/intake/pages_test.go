package intake

import (
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/clinicleads/leadpipe/internal/httpapi"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// text is what a person reads of a page fragment: tags dropped, entities decoded.
func text(s string) string {
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(s, ""))
}

func TestPagesCarryTheCrisisLine(t *testing.T) {
	pages := map[string]string{
		"thank you":          thankYouPage(false),
		"thank you, crisis":  thankYouPage(true),
		"error with fields":  errorPage(httpapi.ErrorBody{Error: "validation_failed", Fields: []lead.FieldError{{Field: "email", Message: "must be a valid email address"}}}),
		"error with message": errorPage(httpapi.ErrorBody{Error: "internal", Message: "something went wrong", RequestID: "req-1"}),
	}
	for name, p := range pages {
		if !strings.Contains(text(p), lead.Crisis.Reminder) {
			t.Errorf("%s: page lacks %q:\n%s", name, lead.Crisis.Reminder, p)
		}
		for _, n := range lead.Crisis.Numbers() {
			if !strings.Contains(p, "<strong>"+n+"</strong>") {
				t.Errorf("%s: %s is not in bold:\n%s", name, n, p)
			}
		}
	}
	urgent := lead.Crisis.UrgentHeading + "\n" + lead.Crisis.Urgent
	if !strings.Contains(text(pages["thank you, crisis"]), urgent) {
		t.Errorf("crisis thank-you page lacks the urgent notice %q", urgent)
	}
	if strings.Contains(text(pages["thank you"]), lead.Crisis.Urgent) {
		t.Error("the urgent notice is shown to someone who did not say they are in crisis")
	}
}

func TestCrisisHTML(t *testing.T) {
	for in, want := range map[string]string{
		"call 988 now":           "call <strong>988</strong> now",
		"988":                    "<strong>988</strong>",
		"born 1988, or 9880":     "born 1988, or 9880",
		"Suicide & Crisis, 911.": "Suicide &amp; Crisis, <strong>911</strong>.",
		"<b>911</b>":             "&lt;b&gt;<strong>911</strong>&lt;/b&gt;",
	} {
		if got := crisisHTML(in); got != want {
			t.Errorf("crisisHTML(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestErrorPageEscapes(t *testing.T) {
	p := errorPage(httpapi.ErrorBody{Error: "internal", Message: `<script>x</script> & "q"`, RequestID: `<img src=x>`})
	for _, bad := range []string{"<script", "<img"} {
		if strings.Contains(p, bad) {
			t.Errorf("page holds %q:\n%s", bad, p)
		}
	}
	if !strings.Contains(p, "Reference: &lt;img src=x&gt;") {
		t.Errorf("page lacks the escaped reference:\n%s", p)
	}
}

func TestFieldLabel(t *testing.T) {
	for in, want := range map[string]string{"dateOfBirth": "Date of birth", "email": "Email", "hearAbout": "How you heard about us", "cf-turnstile-response": "Cf-turnstile-response"} {
		if got := fieldLabel(in); got != want {
			t.Errorf("fieldLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
