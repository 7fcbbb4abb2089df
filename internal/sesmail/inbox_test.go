package sesmail

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/lead"
)

const testInbox = "https://abc123.execute-api.us-east-1.amazonaws.com/prod/staff"

var urlRE = regexp.MustCompile(`https?://[^\s"<>]+`)

// TestStaffInboxLink: with an inbox URL every staff email, at every detail
// level, links to the lead by its id and nothing else, in both parts, and
// no longer sends staff to the table.
func TestStaffInboxLink(t *testing.T) {
	want := testInbox + "#/leads/" + testID
	for name, mk := range map[string]func() (lead.Lead, map[string]string){"consultation": markedConsultation, "contact": markedContact} {
		for _, d := range []Detail{DetailMinimal, DetailContact, DetailFull} {
			t.Run(name+"/"+string(d), func(t *testing.T) {
				l, _ := mk()
				m, err := newInboxBuilder(t, d, testInbox).BuildStaff(l, testStaff)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(m.Text, "\nOpen in the staff inbox: "+want+"\n") {
					t.Errorf("text part lacks the link line:\n%s", m.Text)
				}
				if !strings.Contains(m.HTML, `<a href="`+want+`"`) || !strings.Contains(m.HTML, ">Open in the staff inbox</a>") {
					t.Errorf("HTML part lacks the link:\n%s", m.HTML)
				}
				for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
					// Only the link: every URL in the body is the inbox's.
					for _, u := range urlRE.FindAllString(body, -1) {
						if u != want {
							t.Errorf("%s part holds the URL %q, want only %q", part, u, want)
						}
					}
					if strings.Contains(body, "look it up there") || strings.Contains(body, "LeadsTable") {
						t.Errorf("%s part still sends staff to the table:\n%s", part, body)
					}
				}
			})
		}
	}
	t.Run("without an inbox URL", func(t *testing.T) {
		l, _ := markedConsultation()
		m, err := newTestBuilder(t, DetailMinimal).BuildStaff(l, testStaff)
		if err != nil {
			t.Fatal(err)
		}
		for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
			if strings.Contains(body, "staff inbox") || strings.Contains(body, "#/leads/") {
				t.Errorf("%s part links to an inbox that is not configured:\n%s", part, body)
			}
			if !strings.Contains(body, "in the table LeadsTable; look it up there.") {
				t.Errorf("%s part lacks the table line:\n%s", part, body)
			}
		}
	})
}

func TestCheckInboxURL(t *testing.T) {
	for _, ok := range []string{
		testInbox,
		"https://inbox.clinic.example/staff/",
		"https://inbox.clinic.example",
		"http://127.0.0.1:3000/staff",
		"http://localhost:3000/staff",
	} {
		if err := CheckInboxURL(ok); err != nil {
			t.Errorf("CheckInboxURL(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{
		"",
		"http://inbox.clinic.example/staff",   // no TLS off this machine
		"http://127.0.0.1.evil.example/staff", // looks local, is not
		"javascript:alert(1)",
		"mailto:staff@clinic.example",
		"/staff",
		"inbox.clinic.example/staff",
		"https:///staff",
		"https://user:pw@inbox.clinic.example/staff",
		"https://inbox.clinic.example/staff?x=1",
		"https://inbox.clinic.example/staff?",
		"https://inbox.clinic.example/staff#/leads/",
		"https://inbox.clinic.example/st aff",
		"https://inbox.clinic.example/staff\r\nX: y",
		"https://inbox.clínic.example/staff",
		"ftp://inbox.clinic.example/staff",
	} {
		if err := CheckInboxURL(bad); err == nil {
			t.Errorf("CheckInboxURL(%q) = nil, want an error", bad)
		}
		if _, err := NewBuilder(Config{Sender: testSender, Clinic: testClinic, Detail: DetailMinimal, InboxURL: bad}); bad != "" && err == nil {
			t.Errorf("NewBuilder accepted the inbox URL %q", bad)
		}
	}
}

func ExampleBuilder_BuildStaff_inbox() {
	b, _ := NewBuilder(Config{Sender: "notify@clinic.example", Clinic: Clinic{Name: "Harbor Clinic"}, Detail: DetailMinimal,
		InboxURL: "https://abc123.execute-api.us-east-1.amazonaws.com/prod/staff"})
	m, _ := b.BuildStaff(lead.Lead{
		ID: "01890a5d-ac96-774b-bcce-b302099a8057", Kind: lead.KindContact, Status: lead.StatusNew,
		CreatedAt: time.Date(2026, 3, 4, 15, 4, 5, 0, time.UTC),
		Contact:   &lead.Contact{Name: "Ann", Email: "ann@example.com"},
	}, []string{"staff@clinic.example"})
	fmt.Print(m.Text)
	// Output:
	// New contact message
	//
	// Lead id:  01890a5d-ac96-774b-bcce-b302099a8057
	// Received: Wed 4 Mar 2026 15:04 UTC
	// Open in the staff inbox: https://abc123.execute-api.us-east-1.amazonaws.com/prod/staff#/leads/01890a5d-ac96-774b-bcce-b302099a8057
	//
	// This email leaves out personal details on purpose. The whole lead, its status and notes are in the staff inbox (link above).
	//
	// Sent by the Harbor Clinic lead pipeline.
}
