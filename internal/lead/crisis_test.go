package lead

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"testing"
)

// TestCrisisJSON pins the API's "crisis" object (the README's
// Consultation example): websites read these keys.
func TestCrisisJSON(t *testing.T) {
	b, err := json.Marshal(Crisis)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"message":"You are not alone. If you are thinking about harming yourself, please reach out now; you do not have to wait for our call.",` +
		`"resources":[{"name":"988 Suicide \u0026 Crisis Lifeline","action":"Call or text 988","phone":"988","text":"988","url":"https://988lifeline.org"},` +
		`{"name":"Emergency services","action":"In an emergency, call 911","phone":"911"}]}`
	if string(b) != want {
		t.Errorf("crisis JSON\n got %s\nwant %s", b, want)
	}
}

// TestCrisisSentencesNameEveryNumber: the sentences pages and emails show
// must change with the resources, or someone reads a stale number.
func TestCrisisSentencesNameEveryNumber(t *testing.T) {
	if got := Crisis.Numbers(); !slices.Equal(got, []string{"988", "911"}) {
		t.Errorf("Numbers() = %q, want [988 911]", got)
	}
	number := regexp.MustCompile(`\d+`)
	for name, s := range map[string]string{"Reminder": Crisis.Reminder, "Urgent": Crisis.Urgent, "Message": Crisis.Message} {
		if s == "" {
			t.Errorf("%s is empty", name)
			continue
		}
		for _, n := range number.FindAllString(s, -1) {
			if !slices.Contains(Crisis.Numbers(), n) {
				t.Errorf("%s names %s, which no resource has", name, n)
			}
		}
		if name == "Message" {
			continue // it sends people to the resources listed after it
		}
		for _, n := range Crisis.Numbers() {
			if !regexp.MustCompile(`\b` + n + `\b`).MatchString(s) {
				t.Errorf("%s does not name %s", name, n)
			}
		}
	}
	for i, r := range Crisis.Resources {
		if r.Name == "" || r.Action == "" || r.Phone == "" {
			t.Errorf("resource %d lacks a name, action or phone: %+v", i, r)
		}
		if u, err := url.Parse(r.URL); r.URL != "" && (err != nil || u.Scheme != "https" || u.Host == "") {
			t.Errorf("resource %d: URL %q is not an https URL", i, r.URL)
		}
	}
}
