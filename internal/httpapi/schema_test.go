package httpapi

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/clinicleads/leadpipe/internal/lead"
)

// TestSchemaMatchesEncodingJSON: the schema names exactly the keys
// encoding/json writes, so what the API accepts is what it would send.
func TestSchemaMatchesEncodingJSON(t *testing.T) {
	for _, form := range []any{lead.Contact{}, lead.Consultation{}} {
		t.Run(reflect.TypeOf(form).Name(), func(t *testing.T) {
			b, err := json.Marshal(form)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			s, err := schemaFor(reflect.TypeOf(form))
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for k := range s.fields {
				got = append(got, k)
			}
			for k := range m {
				want = append(want, k)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("schema keys\n got  %q\n want %q", got, want)
			}
		})
	}
}

func TestSchemaKinds(t *testing.T) {
	s, err := schemaFor(reflect.TypeOf(lead.Consultation{}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]kind{
		"email": kindString, "concerns": kindStrings, "inCrisis": kindBool,
		"utmSource": kindString, "cf-turnstile-response": kindString,
	}
	for name, k := range want {
		if got := s.fields[name].kind; got != k {
			t.Errorf("%s: kind %v, want %v", name, got, k)
		}
	}
}

type Inner struct {
	Note  string `json:"note"`
	Shade string `json:"shade"`
}

type shadowing struct {
	Inner
	Shade string `json:"shade"` // hides Inner.Shade, as in encoding/json
	Skip  string `json:"-"`
	Plain string
	Dash  string `json:"-,"`
	small string
}

type Other struct {
	Note string `json:"note"`
}

func TestSchemaNaming(t *testing.T) {
	s, err := schemaFor(reflect.TypeOf(shadowing{}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range s.fields {
		got = append(got, k)
	}
	slices.Sort(got)
	if want := []string{"-", "Plain", "note", "shade"}; !slices.Equal(got, want) {
		t.Errorf("fields %q, want %q", got, want)
	}
	if got := s.fields["shade"].index; !slices.Equal(got, []int{1}) {
		t.Errorf("shade index %v, want the outer field [1]", got)
	}
	var form shadowing
	if _, err := Decode(request(ctJSON, `{"note":"n","shade":"outer"}`), &form); err != nil {
		t.Fatal(err)
	}
	if form.Note != "n" || form.Shade != "outer" || form.Inner.Shade != "" {
		t.Errorf("got %+v", form)
	}
	// Built at run time, since vet rightly refuses it in source: two
	// "note" fields at one depth, which encoding/json would drop silently.
	clash := reflect.StructOf([]reflect.StructField{
		{Name: "Inner", Type: reflect.TypeOf(Inner{}), Anonymous: true},
		{Name: "Other", Type: reflect.TypeOf(Other{}), Anonymous: true},
	})
	if _, err := schemaFor(clash); err == nil {
		t.Error("two fields of one name at one depth: no error")
	}
}
