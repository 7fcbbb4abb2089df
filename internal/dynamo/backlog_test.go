package dynamo_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// sweepFrom and sweepTo are a sweep's window at t0: a week back, up to
// an hour ago.
var sweepFrom, sweepTo = t0.Add(-7 * 24 * time.Hour), t0.Add(-time.Hour)

// backlogRig writes leads as intake and the notifier would.
type backlogRig struct {
	t   *testing.T
	tbl *dynamotest.Table
	st  *dynamo.Store
}

func newBacklogRig(t *testing.T) *backlogRig {
	tbl := dynamotest.New(t)
	return &backlogRig{t: t, tbl: tbl, st: dynamo.New(dynamo.ClientAPI(tbl.Client), tbl.Name)}
}

// put stores a lead created (claimed) at t0+created and written by Put at
// t0+stored, and returns its id.
func (r *backlogRig) put(created, stored time.Duration, status lead.Status) string {
	r.t.Helper()
	l := sampleConsultation(lead.NewID(t0.Add(created)))
	l.CreatedAt, l.Status = t0.Add(created), status
	r.st.Now = func() time.Time { return t0.Add(stored) }
	if err := r.st.Put(context.Background(), l); err != nil {
		r.t.Fatal(err)
	}
	return l.ID
}

func (r *backlogRig) mark(id string, marks ...func(*dynamo.Store, context.Context, string, time.Time) error) {
	r.t.Helper()
	for _, m := range marks {
		if err := m(r.st, context.Background(), id, t0); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *backlogRig) unsent(from, to time.Time, confirmations bool) ([]string, []string) {
	r.t.Helper()
	bl, err := r.st.Unsent(context.Background(), from, to, confirmations)
	if err != nil {
		r.t.Fatalf("Unsent: %v", err)
	}
	return ids(bl.Leads), bl.Unreadable
}

func ids(leads []lead.Lead) []string {
	out := []string{}
	for _, l := range leads {
		out = append(out, l.ID)
	}
	return out
}

var (
	notified     = (*dynamo.Store).MarkNotified
	confirmed    = (*dynamo.Store).MarkConfirmed
	refused      = (*dynamo.Store).MarkConfirmRefused
	hour, minute = time.Hour, time.Minute
)

func TestUnsent(t *testing.T) {
	r := newBacklogRig(t)
	waiting := r.put(-3*hour, -3*hour, lead.StatusNew)
	r.put(-30*24*hour, -30*24*hour, lead.StatusNew) // outside the window
	r.put(-10*minute, -10*minute, lead.StatusNew)   // too recent: the stream's job
	r.put(-2*hour, -2*hour, lead.StatusSpam)        // never emailed on purpose
	unconfirmed := r.put(-2*hour, -2*hour, lead.StatusNew)
	r.mark(unconfirmed, notified)
	done := r.put(-2*hour, -2*hour, lead.StatusNew)
	r.mark(done, notified, confirmed)
	refusedID := r.put(-2*hour, -2*hour, lead.StatusNew)
	r.mark(refusedID, notified, refused)

	t.Run("staff emails", func(t *testing.T) {
		got, bad := r.unsent(sweepFrom, sweepTo, false)
		if !reflect.DeepEqual(got, []string{waiting}) || len(bad) != 0 {
			t.Errorf("Unsent = %q (unreadable %q), want only %s", got, bad, waiting)
		}
	})
	t.Run("with confirmations", func(t *testing.T) {
		got, _ := r.unsent(sweepFrom, sweepTo, true)
		if want := []string{waiting, unconfirmed}; !reflect.DeepEqual(got, want) {
			t.Errorf("Unsent = %q, want %q: the lead without a staff email and the one without a confirmation, "+
				"not the confirmed nor the refused one", got, want)
		}
	})
	t.Run("fields", func(t *testing.T) {
		bl, err := r.st.Unsent(context.Background(), sweepFrom, sweepTo, false)
		if err != nil || len(bl.Leads) != 1 || bl.Leads[0].Consultation == nil || bl.Leads[0].Consultation.Email != "sam@example.com" {
			t.Errorf("Unsent = %+v, %v; want the lead with its fields", bl, err)
		}
	})
}

// TestUnsentGoesByTheWriteTime: a keyed retry writes the lead long after
// its claim, and the lead carries the claim's time. The sweep must leave
// it to the stream until the stream has had its hour, as for any lead.
func TestUnsentGoesByTheWriteTime(t *testing.T) {
	r := newBacklogRig(t)
	late := r.put(-5*hour, -10*minute, lead.StatusNew)
	if got, _ := r.unsent(sweepFrom, sweepTo, true); len(got) != 0 {
		t.Errorf("Unsent = %q: a lead written 10 minutes ago is listed because it was claimed 5 hours ago", got)
	}
	// An hour later the stream has given up on it: the sweep takes it.
	if got, _ := r.unsent(sweepFrom, sweepTo.Add(hour), true); !reflect.DeepEqual(got, []string{late}) {
		t.Errorf("Unsent an hour later = %q, want %s", got, late)
	}

	// A lead written before storedAt existed goes by its createdAt.
	old := sampleConsultation(lead.NewID(t0.Add(-3 * hour)))
	old.CreatedAt = t0.Add(-3 * hour)
	if _, err := r.tbl.Client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &r.tbl.Name, Item: dynamo.LeadItem(old)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.unsent(sweepFrom, sweepTo, false); !reflect.DeepEqual(got, []string{old.ID}) {
		t.Errorf("Unsent = %q, want the lead without storedAt (%s)", got, old.ID)
	}
}

func TestPutRecordsTheWriteTime(t *testing.T) {
	r := newBacklogRig(t)
	id := r.put(-5*hour, -10*minute, lead.StatusNew)
	item := r.tbl.Lead(t, id)
	stored, _ := item["storedAt"].(*types.AttributeValueMemberS)
	created, _ := item["createdAt"].(*types.AttributeValueMemberS)
	if stored == nil || stored.Value != "2026-11-28T13:53:21.123Z" || created == nil || created.Value != "2026-11-28T09:03:21.123Z" {
		t.Errorf("storedAt %v, createdAt %v; want the write's time and the claim's", stored, created)
	}
}

// TestUnsentSkipsUnreadable: one lead the schema cannot read is reported
// by its key and skipped; everyone else's email still goes out, on every
// page.
func TestUnsentSkipsUnreadable(t *testing.T) {
	r := newBacklogRig(t)
	before := r.put(-4*hour, -4*hour, lead.StatusNew)
	broken := lead.NewID(t0.Add(-3 * hour))
	item := dynamo.LeadItem(sampleConsultation(broken))
	item["createdAt"] = &types.AttributeValueMemberS{Value: "2026-11-28T11:03:21.123Z"}
	item["kind"] = &types.AttributeValueMemberS{Value: "telegram"} // no such form
	if _, err := r.tbl.Client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &r.tbl.Name, Item: item}); err != nil {
		t.Fatal(err)
	}
	after := r.put(-2*hour, -2*hour, lead.StatusNew)

	for _, pageSize := range []int32{0, 1} {
		api := &pagedAPI{API: dynamo.ClientAPI(r.tbl.Client), limit: pageSize}
		bl, err := dynamo.New(api, r.tbl.Name).Unsent(context.Background(), sweepFrom, sweepTo, true)
		if err != nil {
			t.Fatalf("page size %d: Unsent failed on one unreadable item: %v", pageSize, err)
		}
		if got := ids(bl.Leads); !reflect.DeepEqual(got, []string{before, after}) || !reflect.DeepEqual(bl.Unreadable, []string{"LEAD#" + broken}) {
			t.Errorf("page size %d: leads %q, unreadable %q; want %q and the broken lead's key", pageSize, got, bl.Unreadable, []string{before, after})
		}
	}
}

// pagedAPI is the real table with Query cut to limit items a page (0: no
// limit), and a fault on the page numbered failOn (0: none).
type pagedAPI struct {
	dynamo.API
	limit  int32
	failOn int
	pages  int
}

func (p *pagedAPI) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	p.pages++
	if p.pages == p.failOn {
		return nil, errors.New("connection reset")
	}
	if p.limit > 0 {
		in.Limit = aws.Int32(p.limit)
	}
	return p.API.Query(ctx, in, opts...)
}

func TestUnsentPages(t *testing.T) {
	r := newBacklogRig(t)
	var want []string
	for i := range 3 {
		want = append(want, r.put(time.Duration(i)*minute, time.Duration(i)*minute, lead.StatusNew))
	}
	from, to := t0.Add(-hour), t0.Add(hour)
	real := dynamo.ClientAPI(r.tbl.Client)

	t.Run("all pages", func(t *testing.T) {
		api := &pagedAPI{API: real, limit: 1}
		bl, err := dynamo.New(api, r.tbl.Name).Unsent(context.Background(), from, to, false)
		if err != nil {
			t.Fatalf("Unsent: %v", err)
		}
		if got := ids(bl.Leads); !reflect.DeepEqual(got, want) || api.pages < len(want) {
			t.Errorf("Unsent = %q in %d pages, want %q (oldest first) in at least %d", got, api.pages, want, len(want))
		}
	})
	t.Run("a failed page returns nothing", func(t *testing.T) {
		bl, err := dynamo.New(&pagedAPI{API: real, limit: 1, failOn: 2}, r.tbl.Name).Unsent(context.Background(), from, to, false)
		if err == nil || bl.Leads != nil || bl.Unreadable != nil {
			t.Errorf("Unsent = %+v, %v; want nothing and the error (a partial list looks like the whole backlog)", bl, err)
		}
	})
}

func TestMarkConfirmRefused(t *testing.T) {
	r := newBacklogRig(t)
	id := r.put(-2*hour, -2*hour, lead.StatusNew)
	ctx := context.Background()
	if err := r.st.MarkConfirmRefused(ctx, id, t0); err != nil {
		t.Fatal(err)
	}
	if err := r.st.MarkConfirmRefused(ctx, id, t0.Add(minute)); !errors.Is(err, dynamo.ErrAlreadyMarked) {
		t.Errorf("second MarkConfirmRefused = %v, want ErrAlreadyMarked", err)
	}
	m, err := r.st.Marks(ctx, id)
	if err != nil || !m.ConfirmRefusedAt.Equal(t0) || !m.ConfirmedAt.IsZero() || !m.NotifiedAt.IsZero() {
		t.Errorf("Marks = %+v, %v; want only the refusal, at %v", m, err, t0)
	}
	if err := r.st.MarkConfirmRefused(ctx, "no-such-lead", t0); !errors.Is(err, dynamo.ErrNotFound) {
		t.Errorf("MarkConfirmRefused(missing) = %v, want ErrNotFound", err)
	}
}
