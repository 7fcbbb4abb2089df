package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sesmail"
)

// fakeBacklog answers Unsent from a list and records what was asked.
type fakeBacklog struct {
	leads         []lead.Lead
	unreadable    []string
	err           error
	from, to      time.Time
	confirmations bool
}

func (f *fakeBacklog) Unsent(_ context.Context, from, to time.Time, confirmations bool) (dynamo.Backlog, error) {
	f.from, f.to, f.confirmations = from, to, confirmations
	if f.err != nil {
		return dynamo.Backlog{}, f.err
	}
	return dynamo.Backlog{Leads: f.leads, Unreadable: f.unreadable}, nil
}

func TestSweepSendsOnlyUnmarkedLeads(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, false)
	ev := loadEvent(t, "stream-batch-mixed.json")
	var leads []lead.Lead
	for _, rec := range ev.Records {
		if rec.EventName == "INSERT" && rec.Change.NewImage["type"].String() == "lead" && rec.Change.NewImage["status"].String() == "new" {
			leads = append(leads, leadOf(t, rec))
		}
	}
	if len(leads) < 2 {
		t.Fatalf("sample batch has %d new leads, want at least 2", len(leads))
	}
	// The first was emailed already (its mark is in the table; the index
	// lagged behind it).
	if err := r.fake.MarkNotified(context.Background(), leads[0].ID, testNow); err != nil {
		t.Fatal(err)
	}
	bl := &fakeBacklog{leads: leads}
	r.h.backlog = bl

	res, err := r.h.Sweep(context.Background())
	if err != nil || res.Found != len(leads) || res.Failed != 0 {
		t.Fatalf("Sweep = %+v, %v; want %d found, none failed", res, err, len(leads))
	}
	if got := len(r.out.messages()); got != len(leads)-1 {
		t.Errorf("emails = %d, want %d (the marked lead is not sent again)", got, len(leads)-1)
	}
	for _, l := range leads {
		if r.ledger.get(l.ID).NotifiedAt.IsZero() {
			t.Errorf("lead %s not marked after the sweep", l.ID)
		}
	}
	if want := testNow.Add(-sweepDelay); !bl.to.Equal(want) || !bl.from.Equal(testNow.Add(-sweepWindow)) {
		t.Errorf("window [%v, %v), want [%v, %v)", bl.from, bl.to, testNow.Add(-sweepWindow), want)
	}
	// A second sweep over the same backlog sends nothing more.
	if _, err := r.h.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(r.out.messages()); got != len(leads)-1 {
		t.Errorf("emails after a second sweep = %d, want %d", got, len(leads)-1)
	}
}

func TestSweepFailuresFailTheInvocation(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, false)
	r.h.backlog = &fakeBacklog{leads: []lead.Lead{leadOf(t, loadEvent(t, "stream-insert-contact.json").Records[0])}}
	r.h.mailer = &fakeMailer{send: func(context.Context, sesmail.Message) error { return errors.New("ses: 503") }}
	res, err := r.h.Sweep(context.Background())
	if !errors.Is(err, errSweepFailures) || res.Failed != 1 {
		t.Fatalf("Sweep = %+v, %v; want one failure reported as an error (for the alarm)", res, err)
	}
	// The failed lead is logged once, by the sweep, naming the lead.
	if lines := failureLines(t, r.logs.String()); len(lines) != 1 || lines[0]["leadId"] == nil {
		t.Errorf("failure log lines %v, want one naming the lead", lines)
	}
	r.logs.Reset()
	r.h.backlog = &fakeBacklog{err: errors.New("dynamodb down")}
	if _, err := r.h.Sweep(context.Background()); err == nil {
		t.Fatal("Sweep with the table down returned no error")
	}
	// Returned to the Lambda runtime, which logs it: not logged here too.
	if lines := failureLines(t, r.logs.String()); len(lines) != 0 {
		t.Errorf("the returned error was logged too: %v", lines)
	}
}

func TestInvokeDispatches(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, false)
	r.h.backlog = &fakeBacklog{}
	stream, err := os.ReadFile(filepath.Join("..", "..", "events", "stream-insert-contact.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.h.Invoke(context.Background(), stream)
	if _, ok := out.(events.DynamoDBEventResponse); err != nil || !ok {
		t.Fatalf("stream batch: %T %v, want a DynamoDBEventResponse", out, err)
	}
	if len(r.out.messages()) != 1 {
		t.Errorf("stream batch sent %d emails, want 1", len(r.out.messages()))
	}
	for _, scheduled := range []string{
		`{"source":"aws.scheduler","detail-type":"leadpipe sweep"}`, // template.yaml's ScheduleV2 input
		`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","time":"2026-11-28T14:00:00Z","detail":{}}`,
	} {
		out, err = r.h.Invoke(context.Background(), json.RawMessage(scheduled))
		if _, ok := out.(SweepResult); err != nil || !ok {
			t.Fatalf("scheduled event %s: %T %v, want a SweepResult", scheduled, out, err)
		}
	}
	if _, err := r.h.Invoke(context.Background(), json.RawMessage(`{"hello":"world"}`)); err == nil {
		t.Error("an unknown event was accepted")
	}
}

// TestSweepReportsUnreadableLeads: an item the listing could not read is
// logged as an error by its key, counted, and the other leads are sent.
func TestSweepReportsUnreadableLeads(t *testing.T) {
	r := newRig(t, sesmail.DetailContact, false)
	l := leadOf(t, loadEvent(t, "stream-insert-contact.json").Records[0])
	r.h.backlog = &fakeBacklog{leads: []lead.Lead{l}, unreadable: []string{"LEAD#01a221d2-broken"}}
	res, err := r.h.Sweep(context.Background())
	if err != nil || res.Found != 1 || res.Unreadable != 1 || len(r.out.messages()) != 1 {
		t.Fatalf("Sweep = %+v, %v, %d emails; want the readable lead sent and the other counted", res, err, len(r.out.messages()))
	}
	var logged bool
	for _, line := range logLines(t, r.logs.String()) {
		if line["pk"] == "LEAD#01a221d2-broken" && line["level"] == "ERROR" {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no error log naming the key:\n%s", r.logs)
	}
	r.assertTotal(t, metricUnreadable, 1)
}

// logLines parses every JSON log line.
func logLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		out = append(out, m)
	}
	return out
}

// assertTotal checks that the rig's metrics hold exactly one EMF line for
// metric, with value want and no dimension but the empty set.
func (r *rig) assertTotal(t *testing.T, metric string, want int) {
	t.Helper()
	out := r.metrics.String()
	var found []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err == nil {
			if _, ok := m[metric]; ok {
				found = append(found, m)
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s lines in:\n%s", len(found), metric, out)
	}
	m := found[0]
	aws, _ := json.Marshal(m["_aws"])
	wantAWS := fmt.Sprintf(`{"CloudWatchMetrics":[{"Dimensions":[[]],"Metrics":[{"Name":%q,"Unit":"Count"}],"Namespace":"LeadPipeline"}],"Timestamp":%d}`, metric, r.h.now().UnixMilli())
	if m[metric] != float64(want) || len(m) != 2 || string(aws) != wantAWS {
		t.Errorf("EMF line %v, want %s=%d with %s", m, metric, want, wantAWS)
	}
}
