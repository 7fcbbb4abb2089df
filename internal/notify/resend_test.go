package notify_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/notify"
)

// resendHandler is notify as functions/notify builds it, on dynalite and
// aws-ses-v2-local.
func resendHandler(t *testing.T, table, dynamoURL, sesURL, confirmations string) *notify.Handler {
	t.Helper()
	env := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_ENDPOINT_URL_DYNAMODB": dynamoURL, "AWS_ENDPOINT_URL_SESV2": sesURL,
		"LEADS_TABLE": table, "SENDER_EMAIL": "notify@clinic.example", "STAFF_EMAILS": "frontdesk@clinic.example",
		"CLINIC_NAME": "Harbor Ketamine Clinic", "CLINIC_PHONE": "(410) 555-0100",
		"CALLBACK_PROMISE": "within one business day", "SEND_CONFIRMATION": confirmations,
		"NOTIFY_DETAIL": "minimal", "LOG_LEVEL": "error",
	}
	cfg, err := notify.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	h, err := notify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func invokeResend(t *testing.T, h *notify.Handler, req notify.ResendRequest) notify.ResendResult {
	t.Helper()
	req.Leadpipe = notify.ResendEvent
	payload, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke(%s) error: %v", payload, err)
	}
	res, ok := out.(notify.ResendResult)
	if !ok {
		t.Fatalf("Invoke(%s) = %T, want a ResendResult", payload, out)
	}
	return res
}

func TestResend(t *testing.T) {
	tbl := dynamotest.New(t)
	ses := awstest.SES(t)
	store := dynamo.New(tbl.Client, tbl.Name)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	newLead := func(status lead.Status) lead.Lead {
		l := lead.Lead{ID: lead.NewID(now), Kind: lead.KindContact, Status: status, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour),
			Contact: &lead.Contact{Name: "Jordan Avery", Email: "jordan@example.com", Message: "Please call."},
			Consent: lead.Consent{ConsentToContact: true, At: now}}
		if err := store.Put(ctx, l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	mails := func() []awstest.SentEmail {
		t.Helper()
		m := awstest.SESStore(t, ses.Endpoint)
		awstest.ClearSES(t, ses.Endpoint)
		return m
	}

	h := resendHandler(t, tbl.Name, tbl.Emulator.Endpoint, ses.Endpoint, "true")

	t.Run("staff email again, whatever the mark", func(t *testing.T) {
		l := newLead(lead.StatusNew)
		first := now.Add(-time.Hour)
		if err := store.MarkNotified(ctx, l.ID, first); err != nil {
			t.Fatal(err)
		}
		res := invokeResend(t, h, notify.ResendRequest{ID: l.ID})
		if res.Outcome != notify.ResendSent || !reflect.DeepEqual(res.Sent, []string{"staff"}) || res.ID != l.ID {
			t.Fatalf("result = %+v", res)
		}
		got := mails()
		if len(got) != 1 || !reflect.DeepEqual(got[0].Destination.To, []string{"frontdesk@clinic.example"}) {
			t.Fatalf("sent = %+v, want one staff email", got)
		}
		if m, _ := store.Marks(ctx, l.ID); !m.NotifiedAt.After(first) {
			t.Errorf("notifiedAt = %v, want the resend's time", m.NotifiedAt)
		}
	})

	t.Run("confirmation again", func(t *testing.T) {
		l := newLead(lead.StatusNew)
		res := invokeResend(t, h, notify.ResendRequest{ID: l.ID, Confirmation: true})
		if res.Outcome != notify.ResendSent || !reflect.DeepEqual(res.Sent, []string{"confirmation"}) {
			t.Fatalf("result = %+v", res)
		}
		got := mails()
		if len(got) != 1 || !reflect.DeepEqual(got[0].Destination.To, []string{"jordan@example.com"}) {
			t.Fatalf("sent = %+v, want the confirmation", got)
		}
		if m, _ := store.Marks(ctx, l.ID); m.ConfirmedAt.IsZero() || !m.NotifiedAt.IsZero() {
			t.Errorf("marks = %+v, want confirmedAt only", m)
		}
	})

	t.Run("missing sends only what has no mark", func(t *testing.T) {
		l := newLead(lead.StatusNew)
		res := invokeResend(t, h, notify.ResendRequest{ID: l.ID, Missing: true})
		if res.Outcome != notify.ResendSent || !reflect.DeepEqual(res.Sent, []string{"staff", "confirmation"}) {
			t.Fatalf("first result = %+v", res)
		}
		if n := len(mails()); n != 2 {
			t.Fatalf("%d emails, want staff email and confirmation", n)
		}
		res = invokeResend(t, h, notify.ResendRequest{ID: l.ID, Missing: true})
		if res.Outcome != notify.ResendNothing || len(res.Sent) != 0 {
			t.Errorf("second result = %+v, want nothing_to_send", res)
		}
		if n := len(mails()); n != 0 {
			t.Errorf("%d emails sent for a lead with every mark", n)
		}
	})

	for _, tt := range []struct {
		name    string
		req     func() notify.ResendRequest
		outcome string
	}{
		{"unknown id", func() notify.ResendRequest { return notify.ResendRequest{ID: lead.NewID(now)} }, notify.ResendMissing},
		{"not an id", func() notify.ResendRequest { return notify.ResendRequest{ID: "LEAD#../x"} }, notify.ResendRefused},
		{"spam", func() notify.ResendRequest { return notify.ResendRequest{ID: newLead(lead.StatusSpam).ID} }, notify.ResendRefused},
		{"no confirmation for a lead staff work on", func() notify.ResendRequest {
			return notify.ResendRequest{ID: newLead(lead.Status("contacted")).ID, Confirmation: true}
		}, notify.ResendRefused},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if res := invokeResend(t, h, tt.req()); res.Outcome != tt.outcome {
				t.Errorf("result = %+v, want %s", res, tt.outcome)
			}
			if n := len(mails()); n != 0 {
				t.Errorf("%d emails sent", n)
			}
		})
	}

	t.Run("confirmations off", func(t *testing.T) {
		off := resendHandler(t, tbl.Name, tbl.Emulator.Endpoint, ses.Endpoint, "false")
		l := newLead(lead.StatusNew)
		if res := invokeResend(t, off, notify.ResendRequest{ID: l.ID, Confirmation: true}); res.Outcome != notify.ResendRefused {
			t.Errorf("result = %+v, want refused", res)
		}
		if n := len(mails()); n != 0 {
			t.Errorf("%d emails sent", n)
		}
	})

	t.Run("another leadpipe event is not a resend", func(t *testing.T) {
		if _, err := h.Invoke(ctx, json.RawMessage(`{"leadpipe":"purge","id":"x"}`)); err == nil {
			t.Error("Invoke of an unknown leadpipe event = nil error")
		}
	})
}
