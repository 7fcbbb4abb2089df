package sesmail

import (
	"html"
	"strings"
	"testing"

	"github.com/clinicleads/leadpipe/internal/lead"
)

func values(cl lead.ChoiceList) []string {
	out := make([]string, len(cl))
	for i, c := range cl {
		out[i] = c.Value
	}
	return out
}

// TestStaffEmailShowsChoiceLabels: staff read the lead's choices by the
// labels of lead's lists, never as the stored values.
func TestStaffEmailShowsChoiceLabels(t *testing.T) {
	lists := map[string]lead.ChoiceList{"concerns": lead.Concerns, "treatments": lead.Treatments, "times": lead.PreferredTimes}
	for _, method := range lead.ContactMethods {
		for _, heard := range lead.HearAbout {
			l, _ := markedConsultation()
			c := l.Consultation
			c.Concerns, c.PreviousTreatments, c.PreferredTimes = values(lead.Concerns), values(lead.Treatments), values(lead.PreferredTimes)
			c.PreferredContact, c.HearAbout = method.Value, heard.Value
			m, err := newTestBuilder(t, DetailFull).BuildStaff(l, testStaff)
			if err != nil {
				t.Fatal(err)
			}
			for part, body := range map[string]string{"text": m.Text, "html": html.UnescapeString(m.HTML)} {
				for name, cl := range lists {
					if want := strings.Join(cl.Labels(values(cl)), ", "); !strings.Contains(body, want) {
						t.Errorf("%s part lacks the %s labels %q", part, name, want)
					}
				}
				want := []string{"Preferred contact: " + method.Label, "Heard about us: " + heard.Label}
				if part == "html" { // a table: the label's own cell
					want = []string{">" + method.Label + "</td>", ">" + heard.Label + "</td>"}
				}
				for _, w := range want {
					if !strings.Contains(body, w) {
						t.Errorf("%s part lacks %q", part, w)
					}
				}
				for _, raw := range []string{"treatment_resistant_depression", "antipsychotic_augmentation", "referral_provider", "friend_family"} {
					if strings.Contains(body, raw) {
						t.Errorf("%s part shows the stored value %q", part, raw)
					}
				}
			}
		}
	}
}
