package localstream_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/dev/localstream"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// recorder is a fake function: it keeps every batch it is given and
// answers with decide (nil: success).
type recorder struct {
	mu      sync.Mutex
	batches [][]events.DynamoDBEventRecord
	decide  func(call int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error)
}

func (r *recorder) deliver(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	r.mu.Lock()
	call := len(r.batches)
	r.batches = append(r.batches, ev.Records)
	decide := r.decide
	r.mu.Unlock()
	if decide == nil {
		return events.DynamoDBEventResponse{}, nil
	}
	return decide(call, ev)
}

func (r *recorder) got() [][]events.DynamoDBEventRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]events.DynamoDBEventRecord(nil), r.batches...)
}

type fixture struct {
	stream *localstream.Stream
	db     *dynamodb.Client // through the stream proxy, as the functions use it
	direct *dynamodb.Client // straight to dynalite
	store  *dynamo.Store    // the real lead store, through the proxy
	table  string
	rec    *recorder
	logs   *awstest.Buffer
	tmpl   *samtemplate.Template
}

// newFixture starts dynalite with a leads table made from the template and
// a stream in front of it, configured from the template's NotifyFunction
// event; tune adjusts the config.
func newFixture(t *testing.T, rec *recorder, tune func(*localstream.Config)) *fixture {
	t.Helper()
	emu := awstest.Dynamo(t)
	tmpl, err := samtemplate.Load()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{direct: awstest.DynamoClient(t, emu.Endpoint), table: "leads", rec: rec, logs: &awstest.Buffer{}, tmpl: tmpl}
	in, err := tmpl.CreateTableInput(samtemplate.LeadsTable, f.table)
	if err != nil {
		t.Fatal(err)
	}
	createTable(t, f.direct, in)
	cfg, err := localstream.ConfigFromTemplate(tmpl, samtemplate.LeadsTable, samtemplate.NotifyFunction, f.table)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Target = emu.Endpoint
	cfg.Deliver = rec.deliver
	cfg.Backoff, cfg.MaxBackoff = time.Millisecond, 5*time.Millisecond
	cfg.Log = slog.New(slog.NewJSONHandler(f.logs, nil))
	if tune != nil {
		tune(&cfg)
	}
	if f.stream, err = localstream.Start(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.stream.Close(); err != nil {
			t.Error(err)
		}
	})
	f.db = awstest.DynamoClient(t, f.stream.Endpoint())
	f.store = dynamo.New(f.db, f.table)
	return f
}

// createTable creates a table and waits until it is ACTIVE: dynalite
// answers CreateTable before the table takes writes.
func createTable(t *testing.T, db *dynamodb.Client, in *dynamodb.CreateTableInput) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.CreateTable(ctx, in); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
		if err == nil && out.Table.TableStatus == types.TableStatusActive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("table %s not ACTIVE after 10 s: %v", *in.TableName, err)
		}
	}
}

func (f *fixture) wait(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.stream.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) put(t *testing.T, l lead.Lead) lead.Lead {
	t.Helper()
	if err := f.store.Put(context.Background(), l); err != nil {
		t.Fatalf("put lead: %v", err)
	}
	return l
}

func newLead(status lead.Status) lead.Lead {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return lead.Lead{
		ID: lead.NewID(now), Kind: lead.KindContact, Status: status, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour),
		Contact: &lead.Contact{Name: "Jordan Avery", Email: "jordan.avery@example.com", Message: "Please call me."},
		Consent: lead.Consent{ConsentToContact: true, At: now, ClientIP: "203.0.113.7", UserAgent: "test-agent"},
	}
}

func leadID(t *testing.T, r events.DynamoDBEventRecord) string {
	t.Helper()
	l, err := dynamo.LeadFromImage(r.Change.NewImage)
	if err != nil {
		t.Fatalf("record %s: %v", r.Change.SequenceNumber, err)
	}
	return l.ID
}

func seqs(recs []events.DynamoDBEventRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Change.SequenceNumber)
	}
	return out
}

var seqPattern = regexp.MustCompile(`^[0-9]{21}$`)

func TestInsertDeliveredOnce(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, rec, nil)
	want := f.put(t, newLead(lead.StatusNew))
	f.wait(t)

	// The item reached dynalite unchanged.
	out, err := f.direct.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: &f.table, Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "LEAD#" + want.ID}},
	})
	if err != nil || out.Item == nil {
		t.Fatalf("lead not in dynalite: %v", err)
	}

	time.Sleep(300 * time.Millisecond) // long enough for a wrong second delivery to show
	batches := rec.got()
	if len(batches) != 1 || len(batches[0]) != 1 {
		t.Fatalf("got batches %v, want one batch with one record", batches)
	}
	r := batches[0][0]
	if r.EventName != "INSERT" || r.EventSource != "aws:dynamodb" || r.AWSRegion != "us-east-1" || r.EventID == "" ||
		r.EventSourceArn != f.stream.StreamARN() || !strings.HasPrefix(r.EventSourceArn, "arn:aws:dynamodb:us-east-1:") ||
		!strings.Contains(r.EventSourceArn, ":table/leads/stream/") {
		t.Errorf("record metadata = %+v", r)
	}
	c := r.Change
	if c.StreamViewType != "NEW_IMAGE" || !seqPattern.MatchString(c.SequenceNumber) || c.OldImage != nil || c.SizeBytes <= 0 {
		t.Errorf("change = view %s seq %q old %v size %d", c.StreamViewType, c.SequenceNumber, c.OldImage, c.SizeBytes)
	}
	if age := time.Since(c.ApproximateCreationDateTime.Time); age < 0 || age > time.Minute {
		t.Errorf("ApproximateCreationDateTime = %v", c.ApproximateCreationDateTime.Time)
	}
	if len(c.Keys) != 1 || c.Keys["pk"].String() != "LEAD#"+want.ID {
		t.Errorf("Keys = %v, want pk only", c.Keys)
	}
	got, err := dynamo.LeadFromImage(c.NewImage)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != want.ID || got.Email() != want.Email() || got.Status != lead.StatusNew || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("NewImage holds %+v, want the stored lead %+v", got, want)
	}
	if dl := f.stream.DeadLetters(); len(dl) != 0 {
		t.Errorf("dead letters = %v", dl)
	}
}

// The proxy changes nothing a client sees: its own ReturnValues, the
// x-amz-crc32 the SDK checks, conditional failures, other tables, reads.
func TestProxyAnswersAsDynamoDB(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, rec, func(c *localstream.Config) { c.Event.Patterns = nil }) // every record
	ctx := context.Background()
	key := func(v string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: v}}
	}
	item := func(v string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "X#1"}, "v": &types.AttributeValueMemberS{Value: v}}
	}

	out, err := f.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &f.table, Item: item("one")})
	if err != nil || out.Attributes != nil {
		t.Fatalf("first put: %v, Attributes %v; want no Attributes", err, out)
	}
	out, err = f.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &f.table, Item: item("two")})
	if err != nil || out.Attributes != nil {
		t.Fatalf("overwrite: %v, Attributes %v; want none (the client did not ask)", err, out)
	}
	out, err = f.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &f.table, Item: item("three"), ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := out.Attributes["v"].(*types.AttributeValueMemberS); v == nil || v.Value != "two" {
		t.Fatalf("ALL_OLD asked by the client: Attributes = %v, want v=two", out.Attributes)
	}
	_, err = f.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &f.table, Item: item("four"), ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("conditional put = %v, want ConditionalCheckFailedException", err)
	}

	// Another table in the same dynalite is proxied but not recorded.
	other, err := f.tmpl.CreateTableInput(samtemplate.LeadsTable, "other")
	if err != nil {
		t.Fatal(err)
	}
	createTable(t, f.db, other)
	if _, err := f.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("other"), Item: item("elsewhere")}); err != nil {
		t.Fatal(err)
	}
	get, err := f.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &f.table, Key: key("X#1"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := get.Item["v"].(*types.AttributeValueMemberS); v == nil || v.Value != "three" {
		t.Fatalf("GetItem through the proxy = %v, want v=three", get.Item)
	}

	f.wait(t)
	var all []events.DynamoDBEventRecord
	for _, b := range rec.got() {
		all = append(all, b...)
	}
	var names, values []string
	for _, r := range all {
		names = append(names, r.EventName)
		values = append(values, r.Change.NewImage["v"].String())
	}
	if got, want := strings.Join(names, ","), "INSERT,MODIFY,MODIFY"; got != want {
		t.Errorf("event names = %s, want %s", got, want)
	}
	if got, want := strings.Join(values, ","), "one,two,three"; got != want {
		t.Errorf("new images = %s, want %s (the failed conditional put and the other table record nothing)", got, want)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Change.SequenceNumber <= all[i-1].Change.SequenceNumber {
			t.Errorf("sequence numbers not increasing: %v", seqs(all))
		}
	}
}

func TestTemplateFilterDropsSpamAndClaims(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, rec, nil)
	ctx := context.Background()
	f.put(t, newLead(lead.StatusSpam))
	now := time.Now().UTC()
	if _, err := f.store.Claim(ctx, lead.Claim{Key: "key-1", LeadID: lead.NewID(now), BodyHash: "h", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	good := f.put(t, newLead(lead.StatusNew))
	// An overwrite of a lead is a MODIFY, which the filter drops too.
	item, err := f.direct.GetItem(ctx, &dynamodb.GetItemInput{TableName: &f.table,
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "LEAD#" + good.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &f.table, Item: item.Item}); err != nil {
		t.Fatal(err)
	}
	f.wait(t)

	var ids []string
	for _, b := range rec.got() {
		for _, r := range b {
			ids = append(ids, leadID(t, r))
		}
	}
	if len(ids) != 1 || ids[0] != good.ID {
		t.Fatalf("delivered leads %v, want only %s (spam, claim and MODIFY filtered out)", ids, good.ID)
	}
}

func TestPartialFailureRetriedFromFailedRecord(t *testing.T) {
	rec := &recorder{}
	rec.decide = func(call int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		if call == 0 {
			return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{
				{ItemIdentifier: ev.Records[1].Change.SequenceNumber}}}, nil
		}
		return events.DynamoDBEventResponse{}, nil
	}
	f := newFixture(t, rec, func(c *localstream.Config) { c.Event.BatchSize, c.Window = 3, 10*time.Second })
	for range 3 {
		f.put(t, newLead(lead.StatusNew))
	}
	f.wait(t)
	batches := rec.got()
	if len(batches) != 2 {
		t.Fatalf("got %d batches %v, want 2", len(batches), batches)
	}
	first := seqs(batches[0])
	if got, want := strings.Join(seqs(batches[1]), ","), strings.Join(first[1:], ","); got != want {
		t.Errorf("retried %s, want %s: from the failed record on, not the record before it", got, want)
	}
	if dl := f.stream.DeadLetters(); len(dl) != 0 {
		t.Errorf("dead letters = %v, want none", seqs(dl))
	}
}

func TestInvalidFailureListRetriesWholeBatch(t *testing.T) {
	rec := &recorder{}
	rec.decide = func(call int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		if call == 0 {
			return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: ""}}}, nil
		}
		return events.DynamoDBEventResponse{}, nil
	}
	f := newFixture(t, rec, func(c *localstream.Config) { c.Event.BatchSize, c.Window = 2, 10*time.Second })
	f.put(t, newLead(lead.StatusNew))
	f.put(t, newLead(lead.StatusNew))
	f.wait(t)
	b := rec.got()
	// The batch is bisected on retry (BisectBatchOnFunctionError), so it
	// comes back as two halves.
	if len(b) != 3 || len(b[0]) != 2 || strings.Join(seqs(b[1]), ",")+","+strings.Join(seqs(b[2]), ",") != strings.Join(seqs(b[0]), ",") {
		t.Fatalf("batches %v, want the whole batch again, bisected", b)
	}
}

func TestRetriesExhaustedGoToDeadLetters(t *testing.T) {
	t.Run("function error", func(t *testing.T) {
		rec := &recorder{decide: func(int, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			return events.DynamoDBEventResponse{}, errors.New("SES unavailable")
		}}
		f := newFixture(t, rec, nil)
		l := f.put(t, newLead(lead.StatusNew))
		f.wait(t)
		ev, _ := f.tmpl.StreamEvent(samtemplate.NotifyFunction)
		if got, want := len(rec.got()), int(ev.MaximumRetryAttempts)+1; got != want {
			t.Errorf("attempts = %d, want %d (MaximumRetryAttempts %d, plus the first)", got, want, ev.MaximumRetryAttempts)
		}
		dl := f.stream.DeadLetters()
		if len(dl) != 1 || leadID(t, dl[0]) != l.ID {
			t.Fatalf("dead letters = %v, want the lead's record", seqs(dl))
		}
		logs := f.logs.String()
		if !strings.Contains(logs, "dead-letter") || !strings.Contains(logs, dl[0].Change.SequenceNumber) || !strings.Contains(logs, l.ID) {
			t.Errorf("no dead-letter line naming sequence number and lead id in:\n%s", logs)
		}
		for _, pii := range []string{"Jordan", "jordan.avery", "Please call", "203.0.113.7"} {
			if strings.Contains(logs, pii) {
				t.Errorf("logs hold personal data %q:\n%s", pii, logs)
			}
		}
	})

	t.Run("one record keeps failing", func(t *testing.T) {
		var bad string
		rec := &recorder{decide: func(_ int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			var resp events.DynamoDBEventResponse
			for _, r := range ev.Records {
				if r.Change.SequenceNumber == bad {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: bad})
				}
			}
			return resp, nil
		}}
		f := newFixture(t, rec, func(c *localstream.Config) { c.Event.BatchSize, c.Window = 3, 10*time.Second })
		bad = fmt.Sprintf("%021d", 2) // the second record of this fresh stream
		leads := []lead.Lead{f.put(t, newLead(lead.StatusNew)), f.put(t, newLead(lead.StatusNew)), f.put(t, newLead(lead.StatusNew))}
		f.wait(t)
		dl := f.stream.DeadLetters()
		if len(dl) != 1 || dl[0].Change.SequenceNumber != bad || leadID(t, dl[0]) != leads[1].ID {
			t.Fatalf("dead letters = %v, want only %s", seqs(dl), bad)
		}
		if n := len(rec.got()); n != 6 {
			t.Errorf("attempts = %d, want 6", n)
		}
	})

	t.Run("bisected until the bad record is alone", func(t *testing.T) {
		var bad string
		rec := &recorder{decide: func(_ int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			for _, r := range ev.Records {
				if r.Change.SequenceNumber == bad {
					return events.DynamoDBEventResponse{}, errors.New("handler crashed")
				}
			}
			return events.DynamoDBEventResponse{}, nil
		}}
		f := newFixture(t, rec, func(c *localstream.Config) { c.Event.BatchSize, c.Window = 4, 10*time.Second })
		bad = fmt.Sprintf("%021d", 3)
		for range 4 {
			f.put(t, newLead(lead.StatusNew))
		}
		f.wait(t)
		delivered := map[string]int{}
		for _, b := range rec.got() {
			if !containsSeq(b, bad) {
				for _, r := range b {
					delivered[r.Change.SequenceNumber]++
				}
			}
		}
		if len(delivered) != 3 || delivered[bad] != 0 {
			t.Errorf("successful deliveries %v, want each good record once", delivered)
		}
		for s, n := range delivered {
			if n != 1 {
				t.Errorf("record %s delivered successfully %d times", s, n)
			}
		}
		if dl := f.stream.DeadLetters(); len(dl) != 1 || dl[0].Change.SequenceNumber != bad {
			t.Errorf("dead letters = %v, want only %s", seqs(dl), bad)
		}
	})
}

func containsSeq(recs []events.DynamoDBEventRecord, seq string) bool {
	for _, r := range recs {
		if r.Change.SequenceNumber == seq {
			return true
		}
	}
	return false
}

func TestConcurrentPutsDeliveredExactlyOnce(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, rec, nil)
	// This is about the stream, not latency: dynalite, a single Node.js
	// process, may take longer than the store's budget under -race.
	f.store.CallTimeout = time.Minute
	const n = 200
	want := make(map[string]bool, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			l := newLead(lead.StatusNew)
			if err := f.store.Put(context.Background(), l); err != nil {
				errs <- err
				return
			}
			mu.Lock()
			want[l.ID] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	f.wait(t)

	ev, _ := f.tmpl.StreamEvent(samtemplate.NotifyFunction)
	seen := map[string]int{}
	last := ""
	for _, b := range rec.got() {
		if len(b) > int(ev.BatchSize) {
			t.Errorf("batch of %d records, over BatchSize %d", len(b), ev.BatchSize)
		}
		for _, r := range b {
			seen[leadID(t, r)]++
			if r.Change.SequenceNumber <= last {
				t.Errorf("sequence %s delivered after %s", r.Change.SequenceNumber, last)
			}
			last = r.Change.SequenceNumber
		}
	}
	if len(seen) != n {
		t.Errorf("delivered %d distinct leads, want %d", len(seen), n)
	}
	for id, c := range seen {
		if !want[id] || c != 1 {
			t.Errorf("lead %s delivered %d times (stored: %v)", id, c, want[id])
		}
	}
}

func TestCloseDrainsAndStops(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, rec, func(c *localstream.Config) { c.Window = time.Second })
	for range 3 {
		f.put(t, newLead(lead.StatusNew))
	}
	if err := f.stream.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range rec.got() {
		n += len(b)
	}
	if n != 3 {
		t.Errorf("delivered %d records before Close returned, want 3", n)
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(f.stream.Endpoint(), "http://"), time.Second); err == nil {
		c.Close()
		t.Error("proxy still accepts connections after Close")
	}
}

func TestViaInvoke(t *testing.T) {
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{EventName: "INSERT"}}}
	for _, tt := range []struct {
		name, payload string
		want          []string // failed item identifiers
		wantErr       string
	}{
		{"success", `{"batchItemFailures":[]}`, nil, ""},
		{"null response", `null`, nil, ""},
		{"partial failure", `{"batchItemFailures":[{"itemIdentifier":"000000000000000000002"}]}`, []string{"000000000000000000002"}, ""},
		{"function error", `{"errorMessage":"staff email for lead x: SES error Throttling","errorType":"errorString"}`, nil, "SES error Throttling"},
		{"timeout", `Task timed out after 60.00 seconds`, nil, "not a DynamoDBEventResponse"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var sent []byte
			deliver := localstream.ViaInvoke(func(_ context.Context, p []byte) ([]byte, error) {
				sent = p
				return []byte(tt.payload), nil
			})
			resp, err := deliver(context.Background(), ev)
			if !bytes.Contains(sent, []byte(`"Records":[{`)) || !bytes.Contains(sent, []byte(`"eventName":"INSERT"`)) {
				t.Errorf("sent %s, want the DynamoDBEvent JSON", sent)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range resp.BatchItemFailures {
				got = append(got, f.ItemIdentifier)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("failures = %v, want %v", got, tt.want)
			}
		})
	}
}
