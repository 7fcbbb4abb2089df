package sesmail_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sesmail"
)

// TestStaffEmailThroughLocalSES sends a real staff email with the real SES
// v2 client to aws-ses-v2-local and checks what it captured.
func TestStaffEmailThroughLocalSES(t *testing.T) {
	ses := awstest.SES(t)
	b, err := sesmail.NewBuilder(sesmail.Config{
		Sender: "notify@clinic.example",
		Clinic: sesmail.Clinic{Name: "Harbor Ketamine Clinic", Phone: "(410) 555-0100", Address: "1 Harbor St", CallbackPromise: "today"},
		Detail: sesmail.DetailContact,
	})
	if err != nil {
		t.Fatal(err)
	}
	l := lead.Lead{
		ID: "019cb960-a703-73a1-b7c2-d9e4f5a6b7c8", Kind: lead.KindConsultation, Status: lead.StatusNew,
		CreatedAt: time.Date(2026, 3, 4, 15, 4, 5, 0, time.UTC),
		Consultation: &lead.Consultation{
			FirstName: "Jordan", LastName: `<script>alert("x")</script>`, Email: "jordan.rivera@example.com", Phone: "+14105550134",
			State: "MD", MedicalHistory: "HEALTH-MARKER", InCrisis: true,
		},
	}
	staff := []string{"intake@clinic.example", "nurse@clinic.example"}
	m, err := b.BuildStaff(l, staff)
	if err != nil {
		t.Fatal(err)
	}
	s := &sesmail.Sender{Client: awstest.SESClient(t, ses.Endpoint), ConfigurationSet: "leadpipe", CallTimeout: 5 * time.Second}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}

	mails := awstest.SESStore(t, ses.Endpoint)
	if len(mails) != 1 {
		t.Fatalf("%d mails captured, want 1", len(mails))
	}
	got := mails[0]
	if got.From != `"Harbor Ketamine Clinic" <notify@clinic.example>` {
		t.Errorf("from %q", got.From)
	}
	if !reflect.DeepEqual(got.Destination.To, staff) || len(got.Destination.Cc)+len(got.Destination.Bcc) != 0 {
		t.Errorf("destination %+v", got.Destination)
	}
	if !reflect.DeepEqual(got.ReplyTo, []string{"jordan.rivera@example.com"}) {
		t.Errorf("reply-to %q", got.ReplyTo)
	}
	if got.Subject != "URGENT (in crisis): New consultation request f5a6b7c8" {
		t.Errorf("subject %q", got.Subject)
	}
	if got.Body.Text != m.Text || got.Body.HTML != m.HTML {
		t.Error("captured bodies differ from the built ones")
	}
	for _, want := range []string{"Jordan", "+14105550134", "URGENT: this person said they are in crisis now", l.ID} {
		if !strings.Contains(got.Body.Text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if !strings.Contains(got.Body.HTML, "&lt;script&gt;") || strings.Contains(got.Body.HTML, "<script") {
		t.Error("HTML does not escape the name")
	}
	if strings.Contains(got.Body.Text+got.Body.HTML, "HEALTH-MARKER") {
		t.Error("health answer in a contact-level email")
	}
}
