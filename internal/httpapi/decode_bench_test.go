package httpapi_test

import (
	"encoding/json"
	"testing"

	"github.com/clinicleads/leadpipe/internal/dev/benchdata"
	"github.com/clinicleads/leadpipe/internal/httpapi"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// BenchmarkDecode is the first step of every submission: the sample
// events' bodies (JSON, and base64 form posts) into a form.
func BenchmarkDecode(b *testing.B) {
	for _, c := range []struct {
		name, event string
		form        func() any
	}{
		{"contact-json", benchdata.ContactEvent, func() any { return new(lead.Contact) }},
		{"consultation-json", benchdata.ConsultationEvent, func() any { return new(lead.Consultation) }},
		{"contact-form", benchdata.ContactForm, func() any { return new(lead.Contact) }},
		{"consultation-form", benchdata.ConsultationForm, func() any { return new(lead.Consultation) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			req, err := benchdata.Request(c.event)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := httpapi.Decode(req, c.form()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnmarshalReference is not the project's decoding: it is
// encoding/json's plain Unmarshal of the same JSON bodies, the yardstick
// for what Decode's strictness (unknown, duplicate and differently cased
// keys refused, token by token) costs.
func BenchmarkUnmarshalReference(b *testing.B) {
	for _, c := range []struct {
		name, event string
		form        func() any
	}{
		{"contact-json", benchdata.ContactEvent, func() any { return new(lead.Contact) }},
		{"consultation-json", benchdata.ConsultationEvent, func() any { return new(lead.Consultation) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			req, err := benchdata.Request(c.event)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := json.Unmarshal([]byte(req.Body), c.form()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
