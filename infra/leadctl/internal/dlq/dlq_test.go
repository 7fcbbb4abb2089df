package dlq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/notify"
)

// fakeQueue is an in-process SQS queue: a received message stays hidden
// until visibility ends (expire), as with a visibility timeout.
type fakeQueue struct {
	msgs    []Message
	hidden  map[string]bool
	deleted []string
	fail    error
}

func (q *fakeQueue) Receive(_ context.Context, max int) ([]Message, error) {
	if q.fail != nil {
		return nil, q.fail
	}
	var out []Message
	for _, m := range q.msgs {
		if len(out) == max {
			break
		}
		if !q.hidden[m.ID] {
			q.hidden[m.ID] = true
			out = append(out, m)
		}
	}
	return out, nil
}

func (q *fakeQueue) Delete(_ context.Context, handle string) error {
	for i, m := range q.msgs {
		if m.Handle == handle {
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			q.deleted = append(q.deleted, m.ID)
			return nil
		}
	}
	return errors.New("ReceiptHandleIsInvalid")
}

func (q *fakeQueue) expire() { q.hidden = map[string]bool{} }

// record is a stream failure record as Lambda writes it.
func record(first, last time.Time, size int) string {
	b, _ := json.Marshal(map[string]any{
		"requestContext":  map[string]any{"requestId": "r", "functionArn": "arn:aws:lambda:us-east-1:1:function:notify", "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"version":         "1.0",
		"timestamp":       last.Add(time.Hour).Format(time.RFC3339Nano),
		"DDBStreamBatchInfo": map[string]any{
			"shardId": "shardId-00000001573689847184-864758bb", "startSequenceNumber": "800000000003126276362",
			"endSequenceNumber": "800000000003126276370", "approximateArrivalOfFirstRecord": first.Format(time.RFC3339Nano),
			"approximateArrivalOfLastRecord": last.Format(time.RFC3339Nano), "batchSize": size,
			"streamArn": "arn:aws:dynamodb:us-east-1:1:table/leads/stream/2026-11-01T00:00:00.000",
		},
	})
	return string(b)
}

func TestParse(t *testing.T) {
	first := time.Date(2026, 11, 14, 0, 13, 19, 0, time.UTC)
	p, err := Parse(record(first, first.Add(2*time.Second), 3))
	if err != nil {
		t.Fatal(err)
	}
	want := Pointer{Condition: "RetryAttemptsExhausted", Shard: "shardId-00000001573689847184-864758bb", StartSequence: "800000000003126276362",
		EndSequence: "800000000003126276370", First: first, Last: first.Add(2 * time.Second), BatchSize: 3}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Parse = %+v, want %+v", p, want)
	}
	from, to := p.Window()
	if !from.Equal(first.Add(-lead.KeyWindow-Slack)) || !to.Equal(first.Add(2*time.Second+Slack)) {
		t.Errorf("Window = %v .. %v", from, to)
	}
	for _, body := range []string{"", "{}", `{"DDBStreamBatchInfo":{"shardId":"x"}}`, "not json",
		record(first, first.Add(-time.Second), 1)} {
		if _, err := Parse(body); err == nil {
			t.Errorf("Parse(%q) = nil error", body)
		}
	}
}

type fixture struct {
	store   *dynamo.Store
	h       *notify.Handler
	sesURL  string
	unsent  lead.Lead // new, never emailed
	emailed lead.Lead // new, staff emailed
	worked  lead.Lead // contacted: not the sweep's, not ours
}

func setUp(t *testing.T) fixture {
	t.Helper()
	tbl := dynamotest.New(t)
	ses := awstest.SES(t)
	ctx := context.Background()
	env := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_ENDPOINT_URL_DYNAMODB": tbl.Emulator.Endpoint, "AWS_ENDPOINT_URL_SESV2": ses.Endpoint,
		"LEADS_TABLE": tbl.Name, "SENDER_EMAIL": "notify@clinic.example", "STAFF_EMAILS": "frontdesk@clinic.example",
		"CLINIC_NAME": "Harbor Ketamine Clinic", "NOTIFY_DETAIL": "minimal", "LOG_LEVEL": "error",
	}
	cfg, err := notify.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	h, err := notify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{store: dynamo.New(tbl.Client, tbl.Name), h: h, sesURL: ses.Endpoint}
	now := time.Now().UTC().Truncate(time.Millisecond)
	mk := func(status lead.Status, offset time.Duration) lead.Lead {
		at := now.Add(offset)
		l := lead.Lead{ID: lead.NewID(at), Kind: lead.KindContact, Status: status, CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour),
			Contact: &lead.Contact{Name: "Jordan Avery", Email: "jordan@example.com", Message: "Please call."},
			Consent: lead.Consent{ConsentToContact: true, At: at}}
		if err := f.store.Put(ctx, l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	f.unsent, f.emailed, f.worked = mk(lead.StatusNew, -time.Second), mk(lead.StatusNew, -2*time.Second), mk("contacted", -3*time.Second)
	if err := f.store.MarkNotified(ctx, f.emailed.ID, now); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDrainThenReplay(t *testing.T) {
	f := setUp(t)
	ctx := context.Background()
	now := time.Now().UTC()
	q := &fakeQueue{hidden: map[string]bool{}, msgs: []Message{
		{ID: "m-now", Handle: "h1", Body: record(now.Add(-10*time.Second), now, 3)},
		{ID: "m-junk", Handle: "h2", Body: `{"hello":"world"}`},
		{ID: "m-old", Handle: "h3", Body: record(now.Add(-72*time.Hour), now.Add(-72*time.Hour), 1)},
	}}

	rep, err := Run(ctx, q, f.store, nil, false, false, 100)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 1 || rep.Kept != 2 || !reflect.DeepEqual(q.deleted, []string{"m-old"}) {
		t.Fatalf("drain: %+v, deleted %v; want only m-old deleted", rep, q.deleted)
	}
	byID := map[string]MessageResult{}
	for _, m := range rep.Messages {
		byID[m.ID] = m
	}
	if got := byID["m-now"]; len(got.Leads) != 1 || got.Leads[0].ID != f.unsent.ID || got.Leads[0].Outcome != "unsent" || !strings.Contains(got.Note, "dlq replay") {
		t.Errorf("drain of m-now = %+v, want the unsent lead listed and the message kept", got)
	}
	if got := byID["m-junk"]; got.Pointer != nil || got.Deleted || !strings.Contains(got.Note, "not a stream failure record") {
		t.Errorf("drain of m-junk = %+v", got)
	}
	if n := len(awstest.SESStore(t, f.sesURL)); n != 0 {
		t.Fatalf("drain sent %d emails", n)
	}

	q.expire()
	rep, err = Run(ctx, q, f.store, f.h, true, false, 100)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 1 || rep.Kept != 1 || !reflect.DeepEqual(q.deleted, []string{"m-old", "m-now"}) {
		t.Fatalf("replay: %+v, deleted %v", rep, q.deleted)
	}
	for _, m := range rep.Messages {
		if m.ID == "m-now" {
			if len(m.Leads) != 1 || m.Leads[0].Outcome != notify.ResendSent || !reflect.DeepEqual(m.Leads[0].Sent, []string{"staff"}) {
				t.Errorf("replay of m-now = %+v", m)
			}
		}
	}
	mails := awstest.SESStore(t, f.sesURL)
	if len(mails) != 1 || !reflect.DeepEqual(mails[0].Destination.To, []string{"frontdesk@clinic.example"}) {
		t.Fatalf("replay sent %+v, want one staff email", mails)
	}
	if m, _ := f.store.Marks(ctx, f.unsent.ID); m.NotifiedAt.IsZero() {
		t.Error("the replayed lead has no notifiedAt")
	}
	if m, _ := f.store.Marks(ctx, f.worked.ID); !m.NotifiedAt.IsZero() {
		t.Error("a lead staff already work on was emailed")
	}
	if !reflect.DeepEqual(q.msgs, []Message{{ID: "m-junk", Handle: "h2", Body: `{"hello":"world"}`}}) {
		t.Errorf("left in the queue: %+v", q.msgs)
	}
}

// failingResender stands in for a notify function that cannot send.
type failingResender struct{ calls int }

func (r *failingResender) Resend(_ context.Context, req notify.ResendRequest) (notify.ResendResult, error) {
	r.calls++
	if !req.Missing {
		return notify.ResendResult{}, fmt.Errorf("replay must ask for the missing emails only, got %+v", req)
	}
	return notify.ResendResult{ID: req.ID, Outcome: notify.ResendFailed, Message: "SES did not take the staff email: Throttling"}, nil
}

func TestReplayKeepsWhatFailed(t *testing.T) {
	f := setUp(t)
	now := time.Now().UTC()
	q := &fakeQueue{hidden: map[string]bool{}, msgs: []Message{{ID: "m", Handle: "h", Body: record(now.Add(-time.Minute), now, 2)}}}
	r := &failingResender{}
	rep, err := Run(context.Background(), q, f.store, r, true, false, 100)
	if err != nil {
		t.Fatal(err)
	}
	if r.calls != 1 || rep.Deleted != 0 || len(q.msgs) != 1 || !strings.Contains(rep.Messages[0].Note, "still not sent") {
		t.Errorf("report %+v after %d calls; want the message kept", rep, r.calls)
	}

	q.expire()
	q.fail = errors.New("AWS.SimpleQueueService.NonExistentQueue")
	if _, err := Run(context.Background(), q, f.store, r, true, false, 100); err == nil || !strings.Contains(err.Error(), "NonExistentQueue") {
		t.Errorf("Run on a failing queue = %v", err)
	}
	if _, err := Run(context.Background(), q, f.store, nil, true, false, 100); err == nil {
		t.Error("replay without a resender = nil error")
	}
}

func TestMaxBoundsTheRun(t *testing.T) {
	f := setUp(t)
	old := time.Now().UTC().Add(-72 * time.Hour)
	q := &fakeQueue{hidden: map[string]bool{}}
	for i := range 25 {
		q.msgs = append(q.msgs, Message{ID: fmt.Sprint(i), Handle: fmt.Sprint("h", i), Body: record(old, old, 1)})
	}
	rep, err := Run(context.Background(), q, f.store, nil, false, false, 12)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Messages) != 12 || rep.Deleted != 12 || len(q.msgs) != 13 {
		t.Errorf("%d messages handled, %d deleted, %d left; want 12, 12, 13", len(rep.Messages), rep.Deleted, len(q.msgs))
	}
}
