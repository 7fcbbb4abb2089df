package sesmail

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/clinicleads/leadpipe/internal/lead"
)

// FuzzBuildStaff puts one arbitrary string into every field of both forms.
// Whatever it is, the headers stay the fixed ones and the HTML holds
// exactly the elements the template writes for a harmless lead.
func FuzzBuildStaff(f *testing.F) {
	for _, h := range hostile {
		f.Add(h)
	}
	for _, s := range []string{"", " ", "a@b.example", "x\r\nBcc: y@z.example", "<!--", "]]>", "\xff\xfe", "&lt;script&gt;", "<<a>>", "<\x00script>", "\u2028", "{{end}}"} {
		f.Add(s)
	}
	type variant struct {
		mk func() (lead.Lead, map[string]string)
		d  Detail
	}
	var variants []variant
	baseline := map[int]map[string]int{}
	builders := map[Detail]*Builder{}
	for _, d := range []Detail{DetailMinimal, DetailContact, DetailFull} {
		builders[d] = newTestBuilder(f, d)
		for _, mk := range []func() (lead.Lead, map[string]string){markedConsultation, markedContact} {
			l, _ := mk()
			m, err := builders[d].BuildStaff(l, testStaff)
			if err != nil {
				f.Fatal(err)
			}
			baseline[len(variants)] = tagCounts(m.HTML)
			baseline[len(variants)]["<"] = strings.Count(m.HTML, "<")
			variants = append(variants, variant{mk, d})
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, v := range variants {
			l, _ := v.mk()
			fillAll(&l, s)
			m, err := builders[v.d].BuildStaff(l, testStaff)
			if err != nil {
				t.Fatalf("%s/%s: %v", l.Kind, v.d, err)
			}
			if want := StaffSubject(lead.Lead{ID: testID, Kind: l.Kind}); m.Subject != want {
				t.Errorf("subject %q, want %q", m.Subject, want)
			}
			if !reflect.DeepEqual(m.To, testStaff) || m.From != `"Harbor Ketamine Clinic" <notify@clinic.example>` {
				t.Errorf("to %q from %q", m.To, m.From)
			}
			switch {
			case len(m.ReplyTo) == 0:
			case len(m.ReplyTo) == 1 && m.ReplyTo[0] == s && lead.IsEmail(s) && !strings.ContainsAny(s, "\r\n"):
			default:
				t.Errorf("reply-to %q", m.ReplyTo)
			}
			if err := m.Validate(); err != nil {
				t.Errorf("built message fails validation: %v", err)
			}
			got := tagCounts(m.HTML)
			got["<"] = strings.Count(m.HTML, "<")
			if !reflect.DeepEqual(got, baseline[i]) {
				t.Errorf("%s/%s: tags %v, want %v", l.Kind, v.d, got, baseline[i])
			}
			if !utf8.ValidString(m.Subject) {
				t.Errorf("subject is not UTF-8")
			}
		}
	})
}
