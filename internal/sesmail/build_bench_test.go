package sesmail_test

import (
	"context"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dev/benchdata"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sesmail"
)

func benchBuilder(b *testing.B, d sesmail.Detail) *sesmail.Builder {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		b.Fatal(err)
	}
	builder, err := sesmail.NewBuilder(sesmail.Config{
		Sender: "notify@clinic.example",
		Clinic: sesmail.Clinic{
			Name: "Example Ketamine Therapy Clinic", Phone: "+1 410 555 0100", Address: "1 Harbor St, Baltimore, MD",
			CallbackPromise: "within one business day",
		},
		Detail:     d,
		TimeZone:   loc,
		LeadsTable: "Leads",
	})
	if err != nil {
		b.Fatal(err)
	}
	return builder
}

var benchLeads = []struct {
	name string
	lead func() (lead.Lead, error)
}{
	{"contact", benchdata.ContactLead},
	{"consultation", benchdata.ConsultationLead},
}

// BenchmarkBuildStaff is rendering the staff email (text and HTML) at the
// default detail level and at full detail.
func BenchmarkBuildStaff(b *testing.B) {
	for _, d := range []sesmail.Detail{sesmail.DetailContact, sesmail.DetailFull} {
		builder := benchBuilder(b, d)
		for _, c := range benchLeads {
			b.Run(c.name+"/"+string(d), func(b *testing.B) {
				l, err := c.lead()
				if err != nil {
					b.Fatal(err)
				}
				to := []string{"frontdesk@clinic.example"}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := builder.BuildStaff(l, to); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkBuildConfirmation is rendering the submitter's confirmation.
func BenchmarkBuildConfirmation(b *testing.B) {
	builder := benchBuilder(b, sesmail.DetailContact)
	l, err := benchdata.ConsultationLead()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := builder.BuildConfirmation(l); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSend is the Sender's own work for one email (checks and the
// SendEmail input) against a client that does nothing.
func BenchmarkSend(b *testing.B) {
	l, err := benchdata.ConsultationLead()
	if err != nil {
		b.Fatal(err)
	}
	m, err := benchBuilder(b, sesmail.DetailContact).BuildStaff(l, []string{"frontdesk@clinic.example"})
	if err != nil {
		b.Fatal(err)
	}
	s := &sesmail.Sender{Client: benchdata.NopSES{}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}
