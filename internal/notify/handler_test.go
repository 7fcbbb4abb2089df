package notify

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sesmail"
)

func TestInsertSendsOneStaffEmail(t *testing.T) {
	for _, c := range []struct {
		file    string
		to      []string
		subject string
	}{
		{"stream-insert-consultation.json", consultationStaff, "New consultation request "},
		{"stream-insert-contact.json", contactStaff, "New contact message "},
	} {
		t.Run(c.file, func(t *testing.T) {
			r := newRig(t, sesmail.DetailContact, false)
			ev := loadEvent(t, c.file)
			l := leadOf(t, ev.Records[0])
			resp, err := r.h.Handle(context.Background(), ev)
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("handle = %+v, %v", resp, err)
			}
			sent := r.out.messages()
			if len(sent) != 1 {
				t.Fatalf("%d emails, want 1", len(sent))
			}
			m := sent[0]
			if !reflect.DeepEqual(m.To, c.to) || m.Subject != c.subject+lead.ShortID(l.ID) ||
				!reflect.DeepEqual(m.ReplyTo, []string{l.Email()}) || m.From != `"Harbor Ketamine Clinic" <notify@clinic.example>` {
				t.Errorf("email to %q reply-to %q from %q subject %q", m.To, m.ReplyTo, m.From, m.Subject)
			}
			if !strings.Contains(m.Text, l.ID) || !strings.Contains(m.HTML, l.ID) {
				t.Error("body lacks the lead id")
			}
			if got := r.ledger.get(l.ID).NotifiedAt; !got.Equal(testNow) {
				t.Errorf("notifiedAt = %v, want %v", got, testNow)
			}
			if !r.ledger.get(l.ID).ConfirmedAt.IsZero() {
				t.Error("confirmedAt set with confirmations off")
			}
		})
	}
}

func TestRedeliverySendsNothing(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, true)
	ev := loadEvent(t, "stream-insert-consultation.json")
	for i := 0; i < 3; i++ {
		resp, err := r.h.Handle(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("delivery %d: %+v, %v", i+1, resp, err)
		}
	}
	if n := len(r.out.messages()); n != 2 {
		t.Errorf("%d emails after three deliveries, want 2 (staff and confirmation, once)", n)
	}
}

func TestMixedBatch(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, true)
	ev := loadEvent(t, "stream-batch-mixed.json")
	resp, err := r.h.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("handle = %+v, %v", resp, err)
	}
	var want []string // staff subjects then confirmation, per new lead in order
	for _, rec := range ev.Records {
		if rec.EventName != "INSERT" || !dynamo.IsLeadImage(rec.Change.NewImage) {
			continue
		}
		l := leadOf(t, rec)
		if l.Status != lead.StatusNew {
			continue
		}
		want = append(want, sesmail.StaffSubject(l)+" -> "+strings.Join(r.h.staff[l.Kind], ","),
			"We received your request - Harbor Ketamine Clinic -> "+l.Email())
	}
	var got []string
	for _, m := range r.out.messages() {
		got = append(got, m.Subject+" -> "+strings.Join(m.To, ","))
	}
	if len(want) != 6 || !reflect.DeepEqual(got, want) {
		t.Errorf("sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(got[4], "URGENT (in crisis): New consultation request ") {
		t.Errorf("crisis lead's subject %q", got[4])
	}
	for _, m := range r.out.messages() {
		if strings.Contains(m.Subject+strings.Join(m.To, ""), "spam.example") {
			t.Errorf("spam lead emailed: %q", m.Subject)
		}
	}
}

func TestFailingRecordInTheMiddleIsTheOnlyOneReported(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, false)
	ev := loadEvent(t, "stream-batch-mixed.json")
	// The contact lead (the fifth record) fails with a retryable error.
	bad := leadOf(t, ev.Records[4])
	r.out.fail = func(m sesmail.Message) error {
		if strings.HasSuffix(m.Subject, lead.ShortID(bad.ID)) {
			return errors.New("ses send email: 503")
		}
		return nil
	}
	resp, err := r.h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := failedSeqs(resp), []string{ev.Records[4].Change.SequenceNumber}; !reflect.DeepEqual(got, want) {
		t.Errorf("failed %q, want %q", got, want)
	}
	if n := len(r.out.messages()); n != 2 {
		t.Errorf("%d emails, want the two other new leads'", n)
	}
	if !r.ledger.get(bad.ID).NotifiedAt.IsZero() {
		t.Error("failed lead marked notified")
	}
	if r.metrics.Len() != 0 {
		t.Errorf("a retryable failure was counted as permanent: %s", r.metrics)
	}

	// The stream retries from the failed record: only it is sent now.
	r.out.fail = nil
	resp, err = r.h.Handle(context.Background(), events.DynamoDBEvent{Records: ev.Records[4:]})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("retry: %+v, %v", resp, err)
	}
	if sent := r.out.messages(); len(sent) != 3 || !strings.HasSuffix(sent[2].Subject, lead.ShortID(bad.ID)) {
		t.Errorf("after the retry: %d emails", len(sent))
	}
}

func TestUnreadableLeadIsReported(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, false)
	ev := loadEvent(t, "stream-batch-mixed.json")
	broken := ev.Records[1]
	img := map[string]events.DynamoDBAttributeValue{}
	for k, v := range broken.Change.NewImage {
		img[k] = v
	}
	img["kind"] = events.NewStringAttribute("newsletter")
	broken.Change.NewImage = img
	ev.Records = []events.DynamoDBEventRecord{ev.Records[0], broken, ev.Records[4]}

	resp, err := r.h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := failedSeqs(resp), []string{broken.Change.SequenceNumber}; !reflect.DeepEqual(got, want) {
		t.Errorf("failed %q, want %q", got, want)
	}
	if n := len(r.out.messages()); n != 1 {
		t.Errorf("%d emails, want 1 (the readable lead)", n)
	}
}

func TestInsertWithoutImageIsReported(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, false)
	ev := loadEvent(t, "stream-insert-contact.json")
	ev.Records[0].Change.NewImage = nil
	ev.Records[0].Change.StreamViewType = "KEYS_ONLY"
	resp, err := r.h.Handle(context.Background(), ev)
	if err != nil || !reflect.DeepEqual(failedSeqs(resp), []string{ev.Records[0].Change.SequenceNumber}) {
		t.Errorf("handle = %+v, %v; want the record reported", resp, err)
	}
}

func TestEmptySequenceNumber(t *testing.T) {
	t.Run("failed record fails the batch", func(t *testing.T) {
		r := newRig(t, sesmail.DetailContact, false)
		ev := loadEvent(t, "stream-insert-consultation.json")
		ev.Records[0].Change.SequenceNumber = ""
		r.out.fail = func(sesmail.Message) error { return errors.New("ses send email: timeout") }
		resp, err := r.h.Handle(context.Background(), ev)
		if err == nil {
			t.Fatalf("handle = %+v, nil; want an error for the whole batch", resp)
		}
		if len(resp.BatchItemFailures) != 0 {
			t.Errorf("reported %q", failedSeqs(resp))
		}
	})
	t.Run("successful record is fine", func(t *testing.T) {
		r := newRig(t, sesmail.DetailContact, false)
		ev := loadEvent(t, "stream-insert-consultation.json")
		ev.Records[0].Change.SequenceNumber = ""
		if resp, err := r.h.Handle(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Errorf("handle = %+v, %v", resp, err)
		}
	})
}

func TestMarksErrors(t *testing.T) {
	t.Run("marks unreadable: retried, nothing sent", func(t *testing.T) {
		r := newRig(t, sesmail.DetailContact, false)
		r.fake.marks = func(context.Context, string) (dynamo.Marks, error) {
			return dynamo.Marks{}, lead.Unavailable(errors.New("throttled"))
		}
		ev := loadEvent(t, "stream-insert-contact.json")
		resp, _ := r.h.Handle(context.Background(), ev)
		if len(resp.BatchItemFailures) != 1 || len(r.out.messages()) != 0 {
			t.Errorf("failed %q, %d emails", failedSeqs(resp), len(r.out.messages()))
		}
	})
	t.Run("mark fails after send: success, not resent", func(t *testing.T) {
		r := newRig(t, sesmail.DetailContact, false)
		r.fake.markNotified = func(context.Context, string, time.Time) error { return lead.Unavailable(errors.New("throttled")) }
		ev := loadEvent(t, "stream-insert-contact.json")
		resp, err := r.h.Handle(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) != 0 || len(r.out.messages()) != 1 {
			t.Errorf("handle = %+v, %v; %d emails", resp, err, len(r.out.messages()))
		}
		if !strings.Contains(r.logs.String(), "the mark was not written") {
			t.Error("the missing mark is not logged")
		}
	})
	t.Run("lead not in the table: still sent", func(t *testing.T) {
		r := newRig(t, sesmail.DetailContact, false)
		r.fake.marks = func(context.Context, string) (dynamo.Marks, error) { return dynamo.Marks{}, dynamo.ErrNotFound }
		r.fake.markNotified = func(context.Context, string, time.Time) error { return dynamo.ErrNotFound }
		resp, err := r.h.Handle(context.Background(), loadEvent(t, "stream-insert-contact.json"))
		if err != nil || len(resp.BatchItemFailures) != 0 || len(r.out.messages()) != 1 {
			t.Errorf("handle = %+v, %v; %d emails", resp, err, len(r.out.messages()))
		}
	})
	t.Run("already marked by a concurrent invocation", func(t *testing.T) {
		r := newRig(t, sesmail.DetailContact, false)
		r.fake.markNotified = func(context.Context, string, time.Time) error { return dynamo.ErrAlreadyMarked }
		resp, err := r.h.Handle(context.Background(), loadEvent(t, "stream-insert-contact.json"))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Errorf("handle = %+v, %v", resp, err)
		}
	})
}

// permanentErr is what the SDK returns for a modeled SES rejection.
func permanentErr() error {
	return &types.MessageRejected{Message: aws.String("Email address is not verified.")}
}

func TestPermanentStaffFailure(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, true)
	calls := 0
	r.out.fail = func(sesmail.Message) error { calls++; return errors.Join(errors.New("ses send email"), permanentErr()) }
	ev := loadEvent(t, "stream-insert-consultation.json")
	resp, err := r.h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got := failedSeqs(resp); !reflect.DeepEqual(got, []string{ev.Records[0].Change.SequenceNumber}) {
		t.Errorf("failed %q", got)
	}
	if calls != 1 {
		t.Errorf("%d send attempts, want 1 (no retry in the function, no confirmation)", calls)
	}
	assertMetric(t, r.metrics.String(), metricPermanentEmail, "consultation")
}

func assertMetric(t *testing.T, out, metric, kind string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("metric lines:\n%s", out)
	}
	var line struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	var flat map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &flat)
	cw := line.AWS.CloudWatchMetrics
	if line.AWS.Timestamp != testNow.UnixMilli() || len(cw) != 1 || cw[0].Namespace != "LeadPipeline" ||
		!reflect.DeepEqual(cw[0].Dimensions, [][]string{{}, {"Kind"}}) || len(cw[0].Metrics) != 1 ||
		cw[0].Metrics[0].Name != metric || cw[0].Metrics[0].Unit != "Count" {
		t.Errorf("EMF line %s", lines[0])
	}
	if len(flat) != 3 || flat["Kind"] != kind || flat[metric] != 1.0 {
		t.Errorf("EMF values %s: want only _aws, Kind=%s and %s=1", lines[0], kind, metric)
	}
}

func TestConfirmation(t *testing.T) {
	t.Run("sent after the staff email", func(t *testing.T) {
		r := newRig(t, sesmail.DetailContact, true)
		ev := loadEvent(t, "stream-insert-consultation.json")
		l := leadOf(t, ev.Records[0])
		if _, err := r.h.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		sent := r.out.messages()
		if len(sent) != 2 || !reflect.DeepEqual(sent[1].To, []string{l.Email()}) {
			t.Fatalf("sent %d: %+v", len(sent), sent)
		}
		if mk := r.ledger.get(l.ID); mk.NotifiedAt.IsZero() || mk.ConfirmedAt.IsZero() {
			t.Errorf("marks %+v", mk)
		}
		for _, s := range []string{l.Consultation.MedicalHistory, l.Consultation.CurrentMedications, l.Consultation.FirstName, "Sertraline"} {
			if strings.Contains(sent[1].Text+sent[1].HTML, s) {
				t.Errorf("confirmation holds %q", s)
			}
		}
	})
	t.Run("transient failure retries only the confirmation", func(t *testing.T) {
		r := newRig(t, sesmail.DetailContact, true)
		ev := loadEvent(t, "stream-insert-consultation.json")
		l := leadOf(t, ev.Records[0])
		r.out.fail = func(m sesmail.Message) error {
			if m.To[0] == l.Email() {
				return errors.New("ses send email: throttled")
			}
			return nil
		}
		resp, _ := r.h.Handle(context.Background(), ev)
		if len(resp.BatchItemFailures) != 1 {
			t.Fatalf("failed %q, want the record", failedSeqs(resp))
		}
		r.out.fail = nil
		resp, _ = r.h.Handle(context.Background(), ev)
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("retry failed %q", failedSeqs(resp))
		}
		sent := r.out.messages()
		if len(sent) != 2 || !reflect.DeepEqual(sent[0].To, consultationStaff) || sent[1].To[0] != l.Email() {
			t.Errorf("sent %d emails; want the staff email once, then the confirmation", len(sent))
		}
	})
	t.Run("permanent failure is counted, not retried", func(t *testing.T) {
		r := newRig(t, sesmail.DetailContact, true)
		ev := loadEvent(t, "stream-insert-contact.json")
		r.out.fail = func(m sesmail.Message) error {
			if m.To[0] != contactStaff[0] {
				return permanentErr()
			}
			return nil
		}
		resp, err := r.h.Handle(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Errorf("handle = %+v, %v", resp, err)
		}
		assertMetric(t, r.metrics.String(), metricPermanentConfirmation, "contact")
		if n := len(r.out.messages()); n != 1 {
			t.Errorf("%d emails, want the staff email", n)
		}
	})
	t.Run("never for spam", func(t *testing.T) {
		r := newRig(t, sesmail.DetailContact, true)
		ev := loadEvent(t, "stream-batch-mixed.json")
		ev.Records = ev.Records[2:3] // the spam lead
		if leadOf(t, ev.Records[0]).Status != lead.StatusSpam {
			t.Fatal("sample changed: record 3 is not spam")
		}
		if _, err := r.h.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if n := len(r.out.messages()); n != 0 {
			t.Errorf("%d emails for spam", n)
		}
	})
}

func TestDeadline(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, false)
	r.h.reserve = 200 * time.Millisecond
	r.h.mailer = &fakeMailer{send: func(ctx context.Context, m sesmail.Message) error {
		<-ctx.Done() // SES hangs
		return ctx.Err()
	}}
	ev := loadEvent(t, "stream-batch-mixed.json")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	dl, _ := ctx.Deadline()
	resp, err := r.h.Handle(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(dl); left < 100*time.Millisecond {
		t.Errorf("returned %v before the deadline, want about the reserve", left)
	}
	want := []string{ev.Records[1].Change.SequenceNumber, ev.Records[4].Change.SequenceNumber, ev.Records[6].Change.SequenceNumber}
	if got := failedSeqs(resp); !reflect.DeepEqual(got, want) {
		t.Errorf("failed %q, want the three new leads %q", got, want)
	}
}

func TestLogsHoldNoPersonalData(t *testing.T) {
	r := newRig(t, sesmail.DetailFull, true)
	ev := loadEvent(t, "stream-batch-mixed.json")
	n := 0
	r.out.fail = func(m sesmail.Message) error {
		n++
		if n%2 == 0 {
			// SES error messages can quote addresses.
			return errors.Join(errors.New("ses send email: "+strings.Join(m.To, ",")), permanentErr())
		}
		return nil
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-7f3a"})
	if _, err := r.h.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	logs := r.logs.String() + r.metrics.String()
	var personal []string
	for _, rec := range ev.Records {
		if rec.Change.NewImage == nil || !dynamo.IsLeadImage(rec.Change.NewImage) {
			continue
		}
		l := leadOf(t, rec)
		personal = append(personal, l.Email(), strings.Split(l.Email(), "@")[0])
		if c := l.Consultation; c != nil {
			personal = append(personal, c.FirstName, c.LastName, c.Phone, c.DateOfBirth, c.CurrentMedications[:10], c.MedicalHistory[:10], c.ReferringProvider, c.Message[:10])
		}
		if c := l.Contact; c != nil {
			personal = append(personal, c.Name, c.Message[:10])
			if c.Phone != "" {
				personal = append(personal, c.Phone)
			}
		}
	}
	for _, s := range personal {
		if strings.Contains(logs, s) {
			t.Errorf("logs hold %q", s)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(r.logs.String()), "\n") {
		if !strings.Contains(line, `"requestId":"req-7f3a"`) {
			t.Errorf("log line without the request id: %s", line)
		}
	}
	if !strings.Contains(r.logs.String(), `"leadId":"`) {
		t.Error("no lead id in the logs")
	}
}

// failureLines are the log lines that carry an error, parsed.
func failureLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range logLines(t, logs) {
		if _, ok := m["error"]; ok {
			out = append(out, m)
		}
	}
	return out
}

// TestEachFailureIsLoggedOnce: a failed record is logged once, where it is
// reported, at a level that follows its cause (a busy SES is a warning, a
// rejection an error); a failure returned to the runtime is not logged.
func TestEachFailureIsLoggedOnce(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, false)
	ev := loadEvent(t, "stream-batch-mixed.json")
	busy, rejected := ev.Records[4], ev.Records[6]
	r.out.fail = func(m sesmail.Message) error {
		switch {
		case strings.HasSuffix(m.Subject, lead.ShortID(leadOf(t, busy).ID)):
			return errors.New("ses send email: 503")
		case strings.HasSuffix(m.Subject, lead.ShortID(leadOf(t, rejected).ID)):
			return permanentErr()
		}
		return nil
	}
	resp, err := r.h.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 2 {
		t.Fatalf("handle = %+v, %v; want two failed records", resp, err)
	}
	lines := failureLines(t, r.logs.String())
	if len(lines) != 2 {
		t.Fatalf("%d log lines with an error, want 2 (one a failed record)", len(lines))
	}
	for i, want := range []struct {
		rec   events.DynamoDBEventRecord
		level string
	}{{busy, "WARN"}, {rejected, "ERROR"}} {
		got := lines[i]
		if got["seq"] != want.rec.Change.SequenceNumber || got["level"] != want.level ||
			!strings.Contains(got["error"].(string), leadOf(t, want.rec).ID) {
			t.Errorf("failure line %d = %v; want seq %s at %s naming the lead", i, got, want.rec.Change.SequenceNumber, want.level)
		}
	}
	if n := strings.Count(r.metrics.String(), metricPermanentEmail); n != 2 { // the name and the count
		t.Errorf("metrics %s, want one PermanentEmailFailures", r.metrics)
	}

	t.Run("returned to the runtime", func(t *testing.T) {
		r := newRig(t, sesmail.DetailContact, false)
		ev := loadEvent(t, "stream-insert-contact.json")
		ev.Records[0].Change.SequenceNumber = ""
		r.out.fail = func(sesmail.Message) error { return errors.New("ses send email: 503") }
		if _, err := r.h.Handle(context.Background(), ev); err == nil {
			t.Fatal("no error for a failed record without a sequence number")
		}
		if lines := failureLines(t, r.logs.String()); len(lines) != 0 {
			t.Errorf("the returned error was logged too: %v", lines)
		}
	})
}
