package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sesmail"
)

// suppressingSES answers like SES v2 for an account whose suppression
// list holds some staff addresses: SendEmail is accepted for everyone (as
// SES does, delivering nothing to a suppressed address unless the
// configuration set says otherwise), and GetSuppressedDestination reports
// the listed addresses, NotFoundException for the others and a 500 for
// the broken ones.
type suppressingSES struct {
	*httptest.Server
	mu      sync.Mutex
	sent    []sentEmail
	lookups []string
}

type sentEmail struct {
	To               []string
	ConfigurationSet string
}

func newSuppressingSES(t *testing.T, listed map[string]string, broken ...string) *suppressingSES {
	t.Helper()
	f := &suppressingSES{}
	const lookup = "/v2/email/suppression/addresses/"
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v2/email/outbound-emails":
			var in struct {
				ConfigurationSetName string
				Destination          struct{ ToAddresses []string }
			}
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				t.Errorf("SendEmail body: %v", err)
			}
			f.sent = append(f.sent, sentEmail{To: in.Destination.ToAddresses, ConfigurationSet: in.ConfigurationSetName})
			_, _ = io.WriteString(w, `{"MessageId":"0100018e-test"}`)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.EscapedPath(), lookup):
			addr, _ := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), lookup))
			f.lookups = append(f.lookups, addr)
			if reason, ok := listed[addr]; ok {
				_, _ = io.WriteString(w, `{"SuppressedDestination":{"EmailAddress":"`+addr+`","Reason":"`+reason+`","LastUpdateTime":1764748800}}`)
				return
			}
			for _, b := range broken {
				if b == addr {
					w.Header().Set("X-Amzn-ErrorType", "InternalServiceErrorException")
					w.WriteHeader(http.StatusInternalServerError)
					_, _ = io.WriteString(w, `{"message":"internal error"}`)
					return
				}
			}
			w.Header().Set("X-Amzn-ErrorType", "NotFoundException:http://internal.amazon.com/coral/com.amazonaws.sesv2/")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"message":"Email address `+addr+` does not exist on your suppression list."}`)
		case r.Method == http.MethodGet && r.URL.Path == "/": // New's connection warm-up
			w.WriteHeader(http.StatusNotFound)
		default:
			t.Errorf("request %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *suppressingSES) state() ([]sentEmail, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentEmail(nil), f.sent...), append([]string(nil), f.lookups...)
}

// allStaff is what ConfigFromEnv makes of the rig's staff lists.
var allStaff = []string{"frontdesk@clinic.example", "intake@clinic.example", "nurse@clinic.example"}

// suppressionRig is a handler with confirmations on whose mailer and
// suppression list are the production ones on the production SES client,
// talking to f, sweeping at minute.
func suppressionRig(t *testing.T, f *suppressingSES, minute int) *rig {
	r := newRig(t, sesmail.DetailContact, true)
	ses := newSESClient(testAWS, aws.String(f.URL), noBackoff)
	r.h.mailer = &sesmail.Sender{Client: sesmail.SendEmailFunc(ses.SendEmail), ConfigurationSet: "leadpipe", StaffConfigurationSet: "leadpipe-staff", CallTimeout: sesCallTimeout}
	r.h.suppressions = &sesmail.SuppressionList{Client: sesmail.GetSuppressedDestinationFunc(ses.GetSuppressedDestination), CallTimeout: sesCallTimeout}
	r.h.staffAddresses = allStaff
	at := time.Date(2026, 3, 4, 16, minute, 0, 0, time.UTC)
	r.h.now = func() time.Time { return at }
	return r
}

// TestSweepFindsSuppressedStaff: SES accepts every email, and its
// suppression list says one staff address gets none of them. The hourly
// sweep says so: an error log with the address and SES's reason, and the
// StaffAddressSuppressed metric. A look-up that fails is counted and
// stops nothing. Staff mail goes through the staff configuration set,
// confirmations through the one that suppresses.
func TestSweepFindsSuppressedStaff(t *testing.T) {
	f := newSuppressingSES(t, map[string]string{"frontdesk@clinic.example": "BOUNCE"}, "nurse@clinic.example")
	r := suppressionRig(t, f, 5)
	l := leadOf(t, loadEvent(t, "stream-insert-contact.json").Records[0])
	r.h.backlog = &fakeBacklog{leads: []lead.Lead{l}}

	res, err := r.h.Sweep(context.Background())
	if err != nil || res.Found != 1 || res.Failed != 0 || res.StaffSuppressed != 1 {
		t.Fatalf("Sweep = %+v, %v; want the lead sent and one suppressed address", res, err)
	}
	sent, lookups := f.state()
	want := []sentEmail{{To: contactStaff, ConfigurationSet: "leadpipe-staff"}, {To: []string{l.Email()}, ConfigurationSet: "leadpipe"}}
	if len(sent) != 2 || !equalSent(sent, want) {
		t.Errorf("sent %+v, want %+v", sent, want)
	}
	// The nurse's look-up is retried by the client (three attempts).
	if want := append(allStaff, "nurse@clinic.example", "nurse@clinic.example"); strings.Join(lookups, ",") != strings.Join(want, ",") {
		t.Errorf("look-ups %q, want %q", lookups, want)
	}
	var listed, failed bool
	for _, line := range logLines(t, r.logs.String()) {
		switch {
		case line["level"] == "ERROR" && line["address"] == "frontdesk@clinic.example" && line["reason"] == "BOUNCE":
			listed = true
		case line["level"] == "ERROR" && line["address"] == "nurse@clinic.example" && line["error_code"] == "InternalServiceErrorException":
			failed = true
		case line["address"] == "intake@clinic.example":
			t.Errorf("an address that is not listed is logged: %v", line)
		}
	}
	if !listed || !failed {
		t.Errorf("logs lack the suppressed address with its reason (%v) or the failed look-up (%v):\n%s", listed, failed, r.logs)
	}
	r.assertTotal(t, metricStaffSuppressed, 1)
	r.assertTotal(t, metricSuppressionCheckFailures, 1)
}

func equalSent(got, want []sentEmail) bool {
	for i := range want {
		if strings.Join(got[i].To, ",") != strings.Join(want[i].To, ",") || got[i].ConfigurationSet != want[i].ConfigurationSet {
			return false
		}
	}
	return true
}

// TestStaffCheckEverySweep: each scheduled sweep looks every address up
// once (the alarm sums two checks per 30 minutes); with nobody listed the
// metric says 0, so the alarm clears.
func TestStaffCheckEverySweep(t *testing.T) {
	for _, minute := range []int{0, 15, 30, 45} {
		f := newSuppressingSES(t, nil)
		r := suppressionRig(t, f, minute)
		r.h.backlog = &fakeBacklog{}
		if _, err := r.h.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, lookups := f.state(); strings.Join(lookups, ",") != strings.Join(allStaff, ",") {
			t.Errorf("minute %d: look-ups %q, want each staff address once", minute, lookups)
		}
		r.assertTotal(t, metricStaffSuppressed, 0)
	}
}

// TestStaffCheckWithoutAnswers: when no look-up succeeds, the check counts
// the failures and does not report "0 suppressed", which would clear the
// alarm on no evidence; a failed listing does not stop the check.
func TestStaffCheckWithoutAnswers(t *testing.T) {
	f := newSuppressingSES(t, nil, allStaff...)
	r := suppressionRig(t, f, 0)
	r.h.backlog = &fakeBacklog{err: errors.New("dynamodb down")}
	if _, err := r.h.Sweep(context.Background()); err == nil {
		t.Fatal("Sweep with the table down returned no error")
	}
	r.assertTotal(t, metricSuppressionCheckFailures, len(allStaff))
	if strings.Contains(r.metrics.String(), metricStaffSuppressed) {
		t.Errorf("StaffAddressSuppressed reported with no look-up answered:\n%s", r.metrics)
	}
}

// TestNewWiresStaffMail: the production wiring (ConfigFromEnv, New) sends
// staff mail through STAFF_CONFIGURATION_SET, confirmations through
// SES_CONFIGURATION_SET, checks every staff address, and publishes the
// count with the Stack dimension the template's alarm reads.
func TestNewWiresStaffMail(t *testing.T) {
	f := newSuppressingSES(t, map[string]string{"intake@clinic.example": "COMPLAINT"})
	vars := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_ENDPOINT_URL_SESV2": f.URL, "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9", // the table is not used here
		"SES_CONFIGURATION_SET": "leadpipe", "STAFF_CONFIGURATION_SET": "leadpipe-staff",
		"SEND_CONFIRMATION": "true", "CLINIC_PHONE": "(410) 555-0100", "CALLBACK_PROMISE": "within one business day",
		"STAFF_EMAILS": "frontdesk@clinic.example", "CONSULTATION_STAFF_EMAILS": "intake@clinic.example",
		"STACK_NAME": "leadpipe-prod",
	}
	cfg, err := ConfigFromEnv(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logs, metrics strings.Builder
	h.log = slog.New(slog.NewJSONHandler(&logs, nil))
	h.metrics = &metrics
	h.now = func() time.Time { return time.Date(2026, 3, 4, 16, 0, 0, 0, time.UTC) }
	l := leadOf(t, loadEvent(t, "stream-insert-contact.json").Records[0])
	h.backlog = &fakeBacklog{leads: []lead.Lead{l}}
	mem, fake := newMemLedger()
	h.ledger = fake
	h.watch = nil // escalation and the digest have tests of their own

	res, err := h.Sweep(context.Background())
	if err != nil || res.Found != 1 || res.StaffSuppressed != 1 {
		t.Fatalf("Sweep = %+v, %v\n%s", res, err, logs.String())
	}
	sent, lookups := f.state()
	want := []sentEmail{{To: []string{"frontdesk@clinic.example"}, ConfigurationSet: "leadpipe-staff"}, {To: []string{l.Email()}, ConfigurationSet: "leadpipe"}}
	if len(sent) != 2 || !equalSent(sent, want) {
		t.Errorf("sent %+v, want %+v", sent, want)
	}
	if strings.Join(lookups, ",") != "frontdesk@clinic.example,intake@clinic.example" {
		t.Errorf("look-ups %q, want each staff address once", lookups)
	}
	if mk := mem.get(l.ID); mk.NotifiedAt.IsZero() || mk.ConfirmedAt.IsZero() {
		t.Errorf("marks %+v", mk)
	}
	wantLine := `{"Stack":"leadpipe-prod","StaffAddressSuppressed":1,"_aws":{"CloudWatchMetrics":[{"Dimensions":[[],["Stack"]],"Metrics":[{"Name":"StaffAddressSuppressed","Unit":"Count"}],"Namespace":"LeadPipeline"}],"Timestamp":1772640000000}}`
	if !strings.Contains(metrics.String(), wantLine+"\n") || !strings.Contains(logs.String(), `"address":"intake@clinic.example","reason":"COMPLAINT"`) {
		t.Errorf("metrics:\n%s\nlogs:\n%s", metrics.String(), logs.String())
	}
}
