package lead

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// testNow is the clock every validation test runs at: a fixed day, so age
// checks do not drift with the calendar.
var testNow = time.Date(2025, time.June, 15, 12, 0, 0, 0, time.UTC)

func testValidator() *Validator { return NewValidator(func() time.Time { return testNow }) }

// validContact returns a Contact that passes validation, for tests to break
// one field at a time.
func validContact() *Contact {
	return &Contact{
		Name:             "Ada Lovelace",
		Email:            "ada@example.com",
		Phone:            "(410) 555-0134",
		Message:          "I would like to know more about ketamine therapy.\nThank you.",
		PreferredContact: "email",
		Attribution: Attribution{
			UTMSource:   "google",
			UTMMedium:   "cpc",
			UTMCampaign: "spring",
			UTMTerm:     "ketamine clinic",
			UTMContent:  "ad-1",
			LandingPage: "https://clinic.example/ketamine?x=1",
			Referrer:    "https://www.google.com/",
		},
	}
}

// validConsultation returns a Consultation that passes validation.
func validConsultation() *Consultation {
	return &Consultation{
		FirstName:           "Ada",
		LastName:            "Lovelace",
		Email:               "ada@example.com",
		Phone:               "410-555-0134",
		DateOfBirth:         "1985-12-10",
		State:               "MD",
		Concerns:            []string{"depression", "anxiety"},
		PreviousTreatments:  []string{"ssri", "psychotherapy"},
		CurrentMedications:  "sertraline 50 mg",
		MedicalHistory:      "none of note",
		PreferredContact:    "phone",
		PreferredTimes:      []string{"morning"},
		HearAbout:           "search",
		ReferringProvider:   "Dr. Grace Hopper",
		Message:             "Looking forward to hearing from you.",
		ConsentToContact:    true,
		AcknowledgedPrivacy: true,
		Attribution:         Attribution{UTMSource: "newsletter", LandingPage: "https://clinic.example/consult"},
	}
}

// fieldsOf returns the failing JSON field names of a validation error, or
// nil for a nil error. Any other error fails the test.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalid {
		t.Fatalf("error = %v, want *Error with code %s", err, CodeInvalid)
	}
	names := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		names[i] = f.Field
	}
	return names
}

// validate normalises form and validates it, returning the failing fields.
func validate(t *testing.T, form interface {
	Normalize()
}) []string {
	t.Helper()
	form.Normalize()
	err := testValidator().Validate(form)
	assertNoLeak(t, err)
	return fieldsOf(t, err)
}

// leakMarker is embedded in submitted values; no error text may contain it.
const leakMarker = "MRKzq"

// assertNoLeak fails if any text of err contains leakMarker.
func assertNoLeak(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if strings.Contains(err.Error(), leakMarker) {
		t.Errorf("Error() = %q contains the submitted marker", err.Error())
	}
	var e *Error
	if errors.As(err, &e) {
		for _, f := range e.Fields {
			if strings.Contains(f.Message, leakMarker) || strings.Contains(f.Field, leakMarker) {
				t.Errorf("field error %+v contains the submitted marker", f)
			}
		}
		if strings.Contains(e.Message, leakMarker) || strings.Contains(e.Field, leakMarker) {
			t.Errorf("error %+v contains the submitted marker", e)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
