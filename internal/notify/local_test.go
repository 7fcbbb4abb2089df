package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// localEnv is the function's environment for the emulators.
func localEnv(table, dynamoURL, sesURL string) map[string]string {
	return map[string]string{
		"AWS_REGION":                "us-east-1",
		"AWS_ACCESS_KEY_ID":         "test",
		"AWS_SECRET_ACCESS_KEY":     "test",
		"AWS_ENDPOINT_URL_DYNAMODB": dynamoURL,
		"AWS_ENDPOINT_URL_SESV2":    sesURL,
		"LEADS_TABLE":               table,
		"SENDER_EMAIL":              "notify@clinic.example",
		"STAFF_EMAILS":              "frontdesk@clinic.example",
		"CONSULTATION_STAFF_EMAILS": "intake@clinic.example,nurse@clinic.example",
		"CLINIC_NAME":               "Harbor Ketamine Clinic",
		"CLINIC_PHONE":              "(410) 555-0100",
		"CLINIC_ADDRESS":            "1 Harbor St, Baltimore, MD 21201",
		"CALLBACK_PROMISE":          "within one business day",
		"CLINIC_TIMEZONE":           "America/New_York",
		"SEND_CONFIRMATION":         "true",
		"NOTIFY_DETAIL":             "contact",
		"INBOX_URL":                 localInbox,
	}
}

// localInbox is the staff inbox of a local run (`make dev`).
const localInbox = "http://127.0.0.1:3000/staff"

// storeSamples writes the sample events' leads to the table, as intake
// would have before the stream delivered them.
func storeSamples(t *testing.T, store *dynamo.Store, ev events.DynamoDBEvent) {
	t.Helper()
	for _, r := range ev.Records {
		if r.EventName == "INSERT" && dynamo.IsLeadImage(r.Change.NewImage) {
			if err := store.Put(context.Background(), leadOf(t, r)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// emulatorHandler is the production wiring (ConfigFromEnv, New, the
// awsconf endpoints) on tbl and ses, its logs and metrics captured.
// Each change is applied to the environment first.
func emulatorHandler(t *testing.T, tbl *dynamotest.Table, ses *localaws.Emulator, changes ...func(map[string]string)) (*Handler, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	vars := localEnv(tbl.Name, tbl.Emulator.Endpoint, ses.Endpoint)
	for _, c := range changes {
		c(vars)
	}
	cfg, err := ConfigFromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logs, metrics bytes.Buffer
	h.log = slog.New(slog.NewJSONHandler(&logs, nil))
	h.metrics = &metrics
	return h, &logs, &metrics
}

// TestAgainstEmulators runs the production wiring (ConfigFromEnv, New,
// the awsconf endpoints) against dynalite and aws-ses-v2-local.
func TestAgainstEmulators(t *testing.T) {
	tbl, ses := dynamotest.New(t), awstest.SES(t)
	h, logs, metrics := emulatorHandler(t, tbl, ses)
	store := dynamo.New(tbl.Client, tbl.Name)

	ev := loadEvent(t, "stream-batch-mixed.json")
	storeSamples(t, store, ev)
	for i := 0; i < 2; i++ { // the second delivery must send nothing
		resp, err := h.Handle(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("delivery %d: %+v, %v\n%s", i+1, resp, err, logs.String())
		}
	}

	mails := awstest.SESStore(t, ses.Endpoint)
	var newLeads []lead.Lead
	for _, r := range ev.Records {
		if r.EventName == "INSERT" && dynamo.IsLeadImage(r.Change.NewImage) {
			if l := leadOf(t, r); l.Status == lead.StatusNew {
				newLeads = append(newLeads, l)
			}
		}
	}
	if len(mails) != 2*len(newLeads) {
		t.Fatalf("%d mails for %d new leads, want a staff email and a confirmation each", len(mails), len(newLeads))
	}
	for i, l := range newLeads {
		staff, conf := mails[2*i], mails[2*i+1]
		wantTo := []string{"frontdesk@clinic.example"}
		subject := "New contact message " + lead.ShortID(l.ID)
		if l.Kind == lead.KindConsultation {
			wantTo = []string{"intake@clinic.example", "nurse@clinic.example"}
			subject = "New consultation request " + lead.ShortID(l.ID)
			if l.InCrisis() {
				subject = "URGENT (in crisis): " + subject
			}
		}
		if staff.From != `"Harbor Ketamine Clinic" <notify@clinic.example>` || !reflect.DeepEqual(staff.Destination.To, wantTo) ||
			!reflect.DeepEqual(staff.ReplyTo, []string{l.Email()}) || staff.Subject != subject {
			t.Errorf("staff mail from %q to %q reply-to %q subject %q", staff.From, staff.Destination.To, staff.ReplyTo, staff.Subject)
		}
		if !strings.Contains(staff.Body.Text, l.ID) || !strings.Contains(staff.Body.HTML, l.ID) || !strings.Contains(staff.Body.Text, "EST") {
			t.Errorf("staff mail body:\n%s", staff.Body.Text)
		}
		if link := localInbox + "#/leads/" + l.ID; !strings.Contains(staff.Body.Text, "Open in the staff inbox: "+link) ||
			!strings.Contains(staff.Body.HTML, `href="`+link+`"`) {
			t.Errorf("staff mail lacks the inbox link %s:\n%s", link, staff.Body.Text)
		}
		if c := l.Consultation; c != nil && strings.Contains(staff.Body.Text+staff.Body.HTML, "Sertraline") {
			t.Error("health answer in a contact-level staff email")
		}
		if !reflect.DeepEqual(conf.Destination.To, []string{l.Email()}) || len(conf.ReplyTo) != 0 ||
			!strings.Contains(conf.Body.Text, "call or text 988") || !strings.Contains(conf.Body.HTML, "911") {
			t.Errorf("confirmation to %q:\n%s", conf.Destination.To, conf.Body.Text)
		}
		marks, err := store.Marks(context.Background(), l.ID)
		if err != nil || marks.NotifiedAt.IsZero() || marks.ConfirmedAt.IsZero() {
			t.Errorf("marks of %s: %+v, %v", l.ID, marks, err)
		}
	}
	if metrics.Len() != 0 {
		t.Errorf("metrics: %s", metrics.String())
	}
}

// TestBinaryUnderRIE builds the deployed binary and runs it in the Lambda
// Runtime Interface Emulator against the emulators: the whole of main.
func TestBinaryUnderRIE(t *testing.T) {
	tbl := dynamotest.New(t)
	ses := awstest.SES(t)
	bootstrap := awstest.Bootstrap(t, "./functions/notify")
	var env []string
	for k, v := range localEnv(tbl.Name, tbl.Emulator.Endpoint, ses.Endpoint) {
		env = append(env, k+"="+v)
	}
	env = append(env, "AWS_LAMBDA_FUNCTION_TIMEOUT=10")
	rie := awstest.RIE(t, localaws.RIEOptions{Binary: bootstrap, Env: env})

	ev := loadEvent(t, "stream-insert-consultation.json")
	storeSamples(t, dynamo.New(tbl.Client, tbl.Name), ev)
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := rie.Invoke(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.DynamoDBEventResponse
	if err := json.Unmarshal(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("response %s (%v)", out, err)
	}
	mails := awstest.SESStore(t, ses.Endpoint)
	if len(mails) != 2 || mails[0].Subject != "New consultation request "+lead.ShortID(leadOf(t, ev.Records[0]).ID) {
		t.Fatalf("%d mails: %+v", len(mails), mails)
	}
	if link := localInbox + "#/leads/" + leadOf(t, ev.Records[0]).ID; !strings.Contains(mails[0].Body.Text, link) {
		t.Errorf("the deployed binary's staff email lacks the inbox link %s:\n%s", link, mails[0].Body.Text)
	}

	// A broken configuration fails at start, naming the variable.
	t.Run("missing configuration", func(t *testing.T) {
		var bad []string
		for _, kv := range env {
			if !strings.HasPrefix(kv, "SENDER_EMAIL=") {
				bad = append(bad, kv)
			}
		}
		var log awstest.Buffer
		rie := awstest.RIE(t, localaws.RIEOptions{Binary: bootstrap, Env: bad, Log: &log})
		out, _ := rie.Invoke(ctx, payload)
		// The runtime's stderr reaches the log a moment after the invoke fails.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if strings.Contains(log.String(), "missing environment variable SENDER_EMAIL") {
				break
			}
		}
		if !strings.Contains(log.String()+string(out), "missing environment variable SENDER_EMAIL") {
			t.Errorf("response %s\nlog:\n%s", out, log.String())
		}
	})
}

// TestSweepAgainstEmulators runs the production wiring's sweep over a
// table in dynalite that holds what the stream can leave behind: a lead
// nobody was told about, a confirmation the stream gave up on, a lead
// item nobody can read, a lead a keyed retry wrote long after its claim
// (the stream's, not yet the sweep's), and a confirmation SES refused.
func TestSweepAgainstEmulators(t *testing.T) {
	tbl, ses := dynamotest.New(t), awstest.SES(t)
	h, logs, metrics := emulatorHandler(t, tbl, ses)
	// aws-ses-v2-local has no suppression list; the check has its own
	// tests, and so have escalation and the digest (escalate_local_test.go).
	h.suppressions, h.watch = nil, nil
	now := time.Now().UTC()
	h.now = func() time.Time { return now }

	store := dynamo.New(tbl.Client, tbl.Name)
	ctx := context.Background()
	sample := leadOf(t, loadEvent(t, "stream-insert-contact.json").Records[0])
	put := func(created, stored time.Duration) lead.Lead {
		t.Helper()
		l := sample
		l.CreatedAt = now.Add(-created).Truncate(time.Millisecond)
		l.ID, l.ExpiresAt = lead.NewID(l.CreatedAt), l.CreatedAt.Add(365*24*time.Hour)
		store.Now = func() time.Time { return now.Add(-stored) }
		if err := store.Put(ctx, l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	mark := func(l lead.Lead, marks ...func(*dynamo.Store, context.Context, string, time.Time) error) {
		t.Helper()
		for _, m := range marks {
			if err := m(store, ctx, l.ID, now.Add(-2*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	untold := put(3*time.Hour+time.Minute, 3*time.Hour+time.Minute) // oldest first
	unconfirmed := put(3*time.Hour, 3*time.Hour)
	mark(unconfirmed, (*dynamo.Store).MarkNotified)
	late := put(5*time.Hour, 10*time.Minute) // claimed 5 hours ago, written 10 minutes ago
	refused := put(3*time.Hour, 3*time.Hour)
	mark(refused, (*dynamo.Store).MarkNotified, (*dynamo.Store).MarkConfirmRefused)
	broken := dynamo.LeadItem(sample)
	brokenID := lead.NewID(now.Add(-4 * time.Hour))
	broken["pk"] = &types.AttributeValueMemberS{Value: "LEAD#" + brokenID}
	broken["id"] = &types.AttributeValueMemberS{Value: brokenID}
	broken["createdAt"] = &types.AttributeValueMemberS{Value: now.Add(-4 * time.Hour).Format("2006-01-02T15:04:05.000Z")}
	broken["kind"] = &types.AttributeValueMemberS{Value: "fax"} // no such form
	if _, err := tbl.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &tbl.Name, Item: broken}); err != nil {
		t.Fatal(err)
	}

	for i := range 2 { // the second sweep must send nothing
		res, err := h.Sweep(ctx)
		if want := 2 * (1 - i); err != nil || res.Found != want || res.Unreadable != 1 {
			t.Fatalf("sweep %d = %+v, %v; want %d leads found and the broken one skipped\n%s", i+1, res, err, want, logs.String())
		}
	}
	mails := awstest.SESStore(t, ses.Endpoint)
	var got []string
	for _, m := range mails {
		got = append(got, strings.Join(m.Destination.To, ",")+" "+m.Subject)
	}
	staff, confirmation := "frontdesk@clinic.example New contact message ", sample.Email()+" We received your request - Harbor Ketamine Clinic"
	want := []string{staff + lead.ShortID(untold.ID), confirmation, confirmation}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("emails %q, want %q (the untold lead's staff email and confirmation, the other confirmation; nothing for the late or refused lead)", got, want)
	}
	for _, l := range []lead.Lead{untold, unconfirmed} {
		if m, err := store.Marks(ctx, l.ID); err != nil || m.NotifiedAt.IsZero() || m.ConfirmedAt.IsZero() {
			t.Errorf("marks of %s: %+v, %v", l.ID, m, err)
		}
	}
	if m, _ := store.Marks(ctx, late.ID); !m.NotifiedAt.IsZero() {
		t.Error("the late-written lead was sent by the sweep while the stream still has it")
	}
	if !strings.Contains(logs.String(), `"pk":"LEAD#`+brokenID+`"`) || strings.Contains(logs.String(), sample.Email()) {
		t.Errorf("logs want the broken item's key and no lead data:\n%s", logs.String())
	}
	if n := strings.Count(metrics.String(), `"UnreadableLeads":1`); n != 2 {
		t.Errorf("UnreadableLeads lines = %d, want one per sweep:\n%s", n, metrics.String())
	}
}

// TestSweepSendsTheWholeLead: ByStatusDate projects no answers, so a lead
// the sweep finds there must be read whole from the table before it is
// sent. At full detail the staff email carries the medications, which
// the index item does not have.
func TestSweepSendsTheWholeLead(t *testing.T) {
	tbl, ses := dynamotest.New(t), awstest.SES(t)
	h, logs, _ := emulatorHandler(t, tbl, ses, func(v map[string]string) {
		v["NOTIFY_DETAIL"], v["SEND_CONFIRMATION"] = "full", "false"
	})
	h.suppressions, h.watch = nil, nil
	now := time.Now().UTC()
	h.now = func() time.Time { return now }

	store := dynamo.New(tbl.Client, tbl.Name)
	ctx := context.Background()
	l := leadOf(t, loadEvent(t, "stream-insert-consultation.json").Records[0])
	l.CreatedAt = now.Add(-3 * time.Hour).Truncate(time.Millisecond)
	l.ID, l.ExpiresAt = lead.NewID(l.CreatedAt), l.CreatedAt.Add(365*24*time.Hour)
	store.Now = func() time.Time { return l.CreatedAt }
	if err := store.Put(ctx, l); err != nil {
		t.Fatal(err)
	}
	meds, _, _ := strings.Cut(l.Consultation.CurrentMedications, "\n") // the email indents the next lines
	if meds == "" {
		t.Fatal("the sample consultation has no medications")
	}

	// The index item is narrow: what the sweep finds there has no answers.
	out, err := tbl.Client.Query(ctx, &dynamodb.QueryInput{
		TableName: &tbl.Name, IndexName: aws.String("ByStatusDate"),
		KeyConditionExpression:    aws.String("#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: "new"}},
	})
	if err != nil || len(out.Items) != 1 {
		t.Fatalf("ByStatusDate query: %d items, %v", len(out.Items), err)
	}
	for _, a := range []string{"currentMedications", "medicalHistory", "firstName", "phone", "email"} {
		if _, ok := out.Items[0][a]; ok {
			t.Errorf("the ByStatusDate item holds %q", a)
		}
	}

	res, err := h.Sweep(ctx)
	if err != nil || res.Found != 1 {
		t.Fatalf("sweep = %+v, %v; want the lead found\n%s", res, err, logs.String())
	}
	mails := awstest.SESStore(t, ses.Endpoint)
	if len(mails) != 1 {
		t.Fatalf("%d emails, want the staff email", len(mails))
	}
	body := mails[0].Body.Text
	for _, want := range []string{meds, l.Consultation.MedicalHistory, l.Consultation.FirstName, l.Consultation.ReferringProvider} {
		if !strings.Contains(body, want) {
			t.Errorf("the staff email at full detail lacks %q:\n%s", want, body)
		}
	}
}
