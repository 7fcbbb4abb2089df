package lead

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestChoiceMessages pins the words a person reads when a fixed-choice
// answer is not one the form offers: every allowed value, in form order.
func TestChoiceMessages(t *testing.T) {
	c := validConsultation()
	c.PreferredContact = "fax"
	c.PreferredTimes = []string{"night"}
	c.Concerns = []string{"grief"}
	c.PreviousTreatments = []string{"lsd"}
	c.HearAbout = "tv"
	k := validContact()
	k.PreferredContact = "fax"
	want := map[string]string{
		"preferredContact":   "must be one of: email, phone, text",
		"preferredTimes":     "must be one of: morning, afternoon, evening",
		"concerns":           "must be one of: depression, treatment_resistant_depression, anxiety, ptsd, ocd, bipolar_depression, chronic_pain, other",
		"previousTreatments": "must be one of: ssri, snri, bupropion, tricyclic, maoi, antipsychotic_augmentation, psychotherapy, tms, ect, esketamine, ketamine, other, none",
		"hearAbout":          "must be one of: search, social, referral_provider, friend_family, advertisement, other",
	}
	for name, form := range map[string]interface{ Normalize() }{"consultation": c, "contact": k} {
		form.Normalize()
		var e *Error
		if err := testValidator().Validate(form); !errors.As(err, &e) {
			t.Fatalf("%s: error = %v, want *Error", name, err)
		}
		got := map[string]string{}
		for _, f := range e.Fields {
			got[f.Field] = f.Message
		}
		for field, msg := range want {
			if name == "contact" && field != "preferredContact" {
				continue
			}
			if got[field] != msg {
				t.Errorf("%s %s: message %q, want %q", name, field, got[field], msg)
			}
		}
		if name == "contact" && len(got) != 1 || name == "consultation" && len(got) != len(want) {
			t.Errorf("%s: failing fields %v, want only the choice fields", name, got)
		}
	}
}

// TestChoiceTags holds each form's choice=<list> tags to the lists: the
// name is one choiceLists knows, every value of the list is accepted, and
// a list field may hold every value at once (its max= is the list's
// length, so a value added to a list cannot be refused by a stale max).
func TestChoiceTags(t *testing.T) {
	seen := map[string]bool{}
	for _, newForm := range []func() any{func() any { return validContact() }, func() any { return validConsultation() }} {
		typ := reflect.TypeOf(newForm()).Elem()
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name := strings.Split(f.Tag.Get("validate"), "choice=")
			if len(name) != 2 {
				continue
			}
			listName := strings.Split(name[1], ",")[0]
			list, ok := choiceLists[listName]
			if !ok || len(list) == 0 {
				t.Errorf("%s.%s: choice=%s names no list", typ.Name(), f.Name, listName)
				continue
			}
			seen[listName] = true
			values := make([]string, len(list))
			for j, c := range list {
				values[j] = c.Value
			}
			set := func(vs ...string) error {
				form := newForm()
				field := reflect.ValueOf(form).Elem().Field(i)
				if field.Kind() == reflect.Slice {
					field.Set(reflect.ValueOf(vs))
				} else {
					field.SetString(vs[0])
				}
				if k, ok := form.(*Contact); ok && k.PreferredContact == "text" {
					k.SMSConsent = true
				}
				if c, ok := form.(*Consultation); ok && c.PreferredContact == "text" {
					c.SMSConsent = true
				}
				form.(interface{ Normalize() }).Normalize()
				return testValidator().Validate(form)
			}
			if f.Type.Kind() == reflect.Slice {
				if err := set(values...); err != nil {
					t.Errorf("%s.%s: every value at once refused: %v", typ.Name(), f.Name, err)
				}
				continue
			}
			for _, v := range values {
				if err := set(v); err != nil {
					t.Errorf("%s.%s = %q refused: %v", typ.Name(), f.Name, v, err)
				}
			}
		}
	}
	for name := range choiceLists {
		if !seen[name] {
			t.Errorf("list %s is used by no form field", name)
		}
	}
}
