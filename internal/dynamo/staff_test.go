package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// staffFixture is a leads table with the staff store on it, through the
// transaction shim, counting calls.
type staffFixture struct {
	tbl   *dynamotest.Table
	calls *dynamotest.Counter
	st    *dynamo.Staff
	leads *dynamo.Store
}

func newStaffFixture(t *testing.T) *staffFixture {
	t.Helper()
	tbl := dynamotest.New(t)
	calls := &dynamotest.Counter{API: dynamo.StaffClientAPI(tbl.Transactional(t))}
	return &staffFixture{tbl: tbl, calls: calls, st: dynamo.NewStaff(calls, tbl.Name), leads: dynamo.New(calls, tbl.Name)}
}

func (f *staffFixture) put(t *testing.T, l lead.Lead) lead.Lead {
	t.Helper()
	if err := f.leads.Put(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	return l
}

func sampleContact(id string, at time.Time) lead.Lead {
	return lead.Lead{
		ID: id, Kind: lead.KindContact, Status: lead.StatusNew, CreatedAt: at, ExpiresAt: at.Add(365 * 24 * time.Hour),
		Contact: &lead.Contact{Name: "Jordan Avery", Email: "jordan@example.com", Phone: "+14105550100", Message: "Please call me."},
		Consent: lead.Consent{ConsentToContact: true, At: at, ClientIP: "203.0.113.9", UserAgent: "ua"},
	}
}

var actor = lead.Actor{Subject: "sub-1", Email: "staff@clinic.test"}

func TestListIndexMatchesTemplate(t *testing.T) {
	tmpl, err := samtemplate.Load()
	if err != nil {
		t.Fatal(err)
	}
	in, err := tmpl.CreateTableInput(samtemplate.LeadsTable, "x")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]types.GlobalSecondaryIndex{}
	for _, g := range in.GlobalSecondaryIndexes {
		found[aws.ToString(g.IndexName)] = g
	}
	q, ok := found["ByStatusQueue"]
	if !ok {
		t.Fatal("template has no ByStatusQueue index")
	}
	got, want := slices.Sorted(slices.Values(q.Projection.NonKeyAttributes)), slices.Sorted(slices.Values(dynamo.RowAttributes()))
	if q.Projection.ProjectionType != types.ProjectionTypeInclude || !reflect.DeepEqual(got, want) {
		t.Errorf("ByStatusQueue projection = %s %v, want INCLUDE %v", q.Projection.ProjectionType, got, want)
	}
	for _, health := range []string{"email", "phone", "message", "currentMedications", "medicalHistory", "dateOfBirth", "concerns", "consent"} {
		if slices.Contains(q.Projection.NonKeyAttributes, health) {
			t.Errorf("ByStatusQueue projects %q", health)
		}
	}
	a, ok := found["AuditByLead"]
	if !ok || len(a.KeySchema) != 2 || aws.ToString(a.KeySchema[0].AttributeName) != "leadId" || aws.ToString(a.KeySchema[1].AttributeName) != "auditAt" {
		t.Errorf("AuditByLead = %+v, want leadId HASH, auditAt RANGE", a)
	}
}

// dynalite keeps only the INCLUDE projection in the index, as DynamoDB
// does: a query on ByStatusQueue never sees a health answer or an address.
func TestListIndexHoldsOnlyRowFields(t *testing.T) {
	f := newStaffFixture(t)
	l := f.put(t, sampleConsultation(lead.NewID(t0)))
	out, err := f.tbl.Client.Query(context.Background(), &dynamodb.QueryInput{
		TableName: &f.tbl.Name, IndexName: aws.String("ByStatusQueue"),
		KeyConditionExpression:    aws.String("#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: "new"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 {
		t.Fatalf("index holds %d items, want 1", len(out.Items))
	}
	var names []string
	for k := range out.Items[0] {
		names = append(names, k)
	}
	slices.Sort(names)
	want := slices.Sorted(slices.Values(append(dynamo.RowAttributes(), "pk", "status", "queue")))
	want = slices.DeleteFunc(want, func(s string) bool { return s == "name" || s == "notifiedAt" }) // a consultation has no name; not notified
	if !reflect.DeepEqual(names, want) {
		t.Errorf("index item attributes = %v, want %v", names, want)
	}
	if q := out.Items[0]["queue"].(*types.AttributeValueMemberS).Value; q != "1#"+l.CreatedAt.Format("2006-01-02T15:04:05.000Z") {
		t.Errorf("queue = %q, want 1#<createdAt> for a lead in crisis", q)
	}
}

func TestNewLeadIsVersionOne(t *testing.T) {
	f := newStaffFixture(t)
	ctx := context.Background()
	l := f.put(t, sampleContact(lead.NewID(t0), t0))
	raw := f.tbl.Lead(t, l.ID)
	if v, _ := raw["version"].(*types.AttributeValueMemberN); v == nil || v.Value != "1" {
		t.Errorf("stored version = %v, want N 1", raw["version"])
	}
	if q, _ := raw["queue"].(*types.AttributeValueMemberS); q == nil || q.Value != "0#2026-11-28T14:03:21.123Z" {
		t.Errorf("stored queue = %v, want 0#<createdAt>", raw["queue"])
	}
	// An item written before versions existed reads as version 1, and can
	// be changed at version 1.
	if _, err := f.tbl.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &f.tbl.Name, Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "LEAD#" + l.ID}},
		UpdateExpression: aws.String("REMOVE version"),
	}); err != nil {
		t.Fatal(err)
	}
	got, _, err := f.st.LeadForStaff(ctx, l.ID)
	if err != nil || got.Version != 1 {
		t.Fatalf("LeadForStaff = version %d, %v; want 1", got.Version, err)
	}
	v, err := f.st.Change(ctx, dynamo.Change{LeadID: l.ID, Seen: 1, From: lead.StatusNew, To: lead.StatusContacted, At: t0, Actor: actor})
	if err != nil || v != 2 {
		t.Fatalf("Change at version 1 of an unversioned lead = %d, %v; want 2", v, err)
	}
}

func TestListLeads(t *testing.T) {
	f := newStaffFixture(t)
	ctx := context.Background()
	type want struct {
		id     string
		crisis bool
		at     time.Time
		kind   lead.Kind
	}
	byStatus := map[lead.Status][]want{}
	for i := range 30 {
		at := t0.Add(time.Duration(i) * time.Minute)
		var l lead.Lead
		if i%3 == 0 {
			l = sampleContact(lead.NewID(at), at)
		} else {
			l = sampleConsultation(lead.NewID(at))
			l.CreatedAt = at
			l.Consultation.InCrisis = i%4 == 0
		}
		switch {
		case i%5 == 0:
			l.Status = lead.StatusSpam
		case i%7 == 0:
			l.Status = lead.StatusContacted
		}
		f.put(t, l)
		byStatus[l.Status] = append(byStatus[l.Status], want{l.ID, l.InCrisis(), at, l.Kind})
	}
	if err := f.leads.MarkNotified(ctx, byStatus[lead.StatusNew][0].id, t0); err != nil {
		t.Fatal(err)
	}
	for status, leads := range byStatus {
		for _, kind := range []lead.Kind{"", lead.KindContact, lead.KindConsultation} {
			t.Run(fmt.Sprintf("%s/%s", status, kind), func(t *testing.T) {
				// Expected order: crisis first, then newest first.
				var expect []string
				sorted := slices.Clone(leads)
				slices.SortFunc(sorted, func(a, b want) int {
					if a.crisis != b.crisis {
						if a.crisis {
							return -1
						}
						return 1
					}
					return b.at.Compare(a.at)
				})
				for _, w := range sorted {
					if kind == "" || w.kind == kind {
						expect = append(expect, w.id)
					}
				}
				var got []string
				var start *dynamo.ListKey
				for page := 0; ; page++ {
					if page > 20 {
						t.Fatal("more than 20 pages")
					}
					before := f.calls.Total()
					p, err := f.st.ListLeads(ctx, status, kind, 4, start)
					if err != nil {
						t.Fatal(err)
					}
					if n := f.calls.Total() - before; n != 1 {
						t.Errorf("page %d made %d DynamoDB calls, want 1", page, n)
					}
					if len(p.Rows) > 4 {
						t.Fatalf("page %d has %d rows, limit 4", page, len(p.Rows))
					}
					for _, r := range p.Rows {
						if r.Status != status || (kind != "" && r.Kind != kind) || r.Version != 1 || r.CreatedAt.IsZero() {
							t.Errorf("row %+v does not match status %s kind %q", r, status, kind)
						}
						if (r.Kind == lead.KindContact) != (r.Name != "") || (r.Kind == lead.KindConsultation) != (r.FirstName != "") {
							t.Errorf("row %+v lacks its name", r)
						}
						got = append(got, r.ID)
					}
					if p.Next == nil {
						break
					}
					start = p.Next
				}
				if !reflect.DeepEqual(got, expect) {
					t.Errorf("listed\n%v\nwant\n%v", got, expect)
				}
			})
		}
	}
	// Without a kind the last page holds rows: no empty page at the end.
	p, err := f.st.ListLeads(ctx, lead.StatusNew, "", len(byStatus[lead.StatusNew]), nil)
	if err != nil || p.Next != nil || len(p.Rows) != len(byStatus[lead.StatusNew]) {
		t.Errorf("one page of exactly all new leads = %d rows, next %v, %v; want all and no next", len(p.Rows), p.Next, err)
	}
	notified := 0
	for _, r := range p.Rows {
		if !r.NotifiedAt.IsZero() {
			notified++
		}
	}
	if notified != 1 {
		t.Errorf("%d rows notified, want 1", notified)
	}
}

func TestListKeyValid(t *testing.T) {
	id := lead.NewID(t0)
	for _, tt := range []struct {
		key  dynamo.ListKey
		want bool
	}{
		{dynamo.ListKey{ID: id, Queue: "1#2026-11-28T14:03:21.123Z"}, true},
		{dynamo.ListKey{ID: id, Queue: "0#2026-11-28T14:03:21.123Z"}, true},
		{dynamo.ListKey{ID: id, Queue: "2#2026-11-28T14:03:21.123Z"}, false},
		{dynamo.ListKey{ID: id, Queue: "0#2026-13-28T14:03:21.123Z"}, false},
		{dynamo.ListKey{ID: id, Queue: "0#2026-11-28T14:03:21Z"}, false},
		{dynamo.ListKey{ID: "CLAIM#x", Queue: "0#2026-11-28T14:03:21.123Z"}, false},
		{dynamo.ListKey{ID: strings.ToUpper(id), Queue: "0#2026-11-28T14:03:21.123Z"}, false},
		{dynamo.ListKey{ID: id + "#", Queue: "0#2026-11-28T14:03:21.123Z"}, false},
		{dynamo.ListKey{}, false},
	} {
		if got := tt.key.Valid(); got != tt.want {
			t.Errorf("%+v.Valid() = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestAuditTrail(t *testing.T) {
	f := newStaffFixture(t)
	ctx := context.Background()
	l := f.put(t, sampleConsultation(lead.NewID(t0)))
	// A claim carries leadId too; it must stay out of the trail.
	if _, err := f.leads.Claim(ctx, lead.Claim{Key: "k", LeadID: l.ID, BodyHash: "h", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e := lead.AuditEntry{LeadID: l.ID, At: t0.Add(time.Duration(i) * time.Second), Actor: actor, Action: lead.AuditViewed,
			SourceIP: "198.51.100.4", UserAgent: "Firefox"}
		if err := f.st.RecordView(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// Two views in the same millisecond are two entries.
	if err := f.st.RecordView(ctx, lead.AuditEntry{LeadID: l.ID, At: t0, Actor: actor, Action: lead.AuditViewed}); err != nil {
		t.Fatal(err)
	}
	trail, err := f.st.Audit(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != 4 {
		t.Fatalf("trail has %d entries, want 4", len(trail))
	}
	if !trail[0].At.Equal(t0.Add(2*time.Second)) || trail[0].Actor != actor || trail[0].Action != lead.AuditViewed ||
		trail[0].SourceIP != "198.51.100.4" || trail[0].UserAgent != "Firefox" || trail[0].LeadID != l.ID {
		t.Errorf("newest entry = %+v", trail[0])
	}
	for i := 1; i < len(trail); i++ {
		if trail[i].At.After(trail[i-1].At) {
			t.Errorf("trail not newest first: %v after %v", trail[i].At, trail[i-1].At)
		}
	}
	for _, item := range f.tbl.Items(t, f.tbl.Name, "audit") {
		if _, ok := item["expiresAt"]; ok {
			t.Errorf("audit item %v has expiresAt: it would expire", item["pk"])
		}
	}
	if other, err := f.st.Audit(ctx, lead.NewID(t0)); err != nil || len(other) != 0 {
		t.Errorf("trail of another lead = %v, %v; want none", other, err)
	}
}

func TestChange(t *testing.T) {
	f := newStaffFixture(t)
	ctx := context.Background()
	l := f.put(t, sampleConsultation(lead.NewID(t0)))
	const note = "Called back; prefers mornings. Medication list checked."
	at := t0.Add(time.Hour)
	before := f.calls.Transactions.Load()
	v, err := f.st.Change(ctx, dynamo.Change{LeadID: l.ID, Seen: 1, From: lead.StatusNew, To: lead.StatusContacted, Note: note,
		At: at, Actor: actor, SourceIP: "198.51.100.4", UserAgent: "Firefox"})
	if err != nil || v != 2 {
		t.Fatalf("Change = %d, %v; want version 2", v, err)
	}
	if n := f.calls.Transactions.Load() - before; n != 1 {
		t.Errorf("Change made %d transactions, want 1", n)
	}
	got, _, err := f.st.LeadForStaff(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantHistory := []lead.StatusChange{{At: at, By: actor, From: lead.StatusNew, To: lead.StatusContacted}}
	wantNotes := []lead.Note{{At: at, By: actor, Text: note}}
	if got.Status != lead.StatusContacted || got.Version != 2 || !reflect.DeepEqual(got.History, wantHistory) || !reflect.DeepEqual(got.Notes, wantNotes) {
		t.Errorf("lead after Change = %s v%d %+v %+v", got.Status, got.Version, got.History, got.Notes)
	}
	if got.ExpiresAt.Unix() != l.ExpiresAt.Unix() {
		t.Errorf("expiresAt changed to %v without a rescue", got.ExpiresAt)
	}
	trail, err := f.st.Audit(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range trail {
		actions = append(actions, string(e.Action))
		if e.Action == lead.AuditStatusChanged && (e.From != lead.StatusNew || e.To != lead.StatusContacted) {
			t.Errorf("status_changed entry = %+v", e)
		}
	}
	slices.Sort(actions)
	if !reflect.DeepEqual(actions, []string{"note_added", "status_changed"}) {
		t.Errorf("audit actions = %v, want note_added and status_changed", actions)
	}
	auditItems := f.tbl.Items(t, f.tbl.Name, "audit")
	for _, item := range auditItems {
		for k, v := range item {
			if s, ok := v.(*types.AttributeValueMemberS); ok && (strings.Contains(s.Value, "mornings") || strings.Contains(s.Value, "Sertraline")) {
				t.Errorf("audit item attribute %s holds note text or a form answer", k)
			}
		}
		if _, ok := item["expiresAt"]; ok {
			t.Error("audit item has expiresAt")
		}
	}

	// A note alone, at the current version.
	if v, err := f.st.Change(ctx, dynamo.Change{LeadID: l.ID, Seen: 2, From: lead.StatusContacted, Note: "second", At: at, Actor: actor}); err != nil || v != 3 {
		t.Fatalf("note-only Change = %d, %v; want 3", v, err)
	}
	got, _, _ = f.st.LeadForStaff(ctx, l.ID)
	if got.Status != lead.StatusContacted || len(got.History) != 1 || len(got.Notes) != 2 || got.Notes[1].Text != "second" {
		t.Errorf("after a note: %s, %d history, notes %+v", got.Status, len(got.History), got.Notes)
	}
}

// A refused change leaves the lead and its audit trail exactly as they
// were, and says why.
func TestChangeRefused(t *testing.T) {
	f := newStaffFixture(t)
	ctx := context.Background()
	l := f.put(t, sampleConsultation(lead.NewID(t0)))
	if _, err := f.st.Change(ctx, dynamo.Change{LeadID: l.ID, Seen: 1, From: lead.StatusNew, To: lead.StatusContacted, At: t0, Actor: actor}); err != nil {
		t.Fatal(err)
	}
	before := f.tbl.Lead(t, l.ID)
	trailBefore := len(f.tbl.Items(t, f.tbl.Name, "audit"))

	tests := []struct {
		name  string
		c     dynamo.Change
		check func(error) bool
	}{
		{"stale version", dynamo.Change{LeadID: l.ID, Seen: 1, From: lead.StatusNew, To: lead.StatusSpam, Note: "x"},
			func(err error) bool {
				var se *dynamo.StaleError
				return errors.Is(err, dynamo.ErrStale) && errors.As(err, &se) && se.Version == 2
			}},
		{"stale version, note only", dynamo.Change{LeadID: l.ID, Seen: 3, From: lead.StatusContacted, Note: "x"},
			func(err error) bool { return errors.Is(err, dynamo.ErrStale) }},
		{"status moved under the same version", dynamo.Change{LeadID: l.ID, Seen: 2, From: lead.StatusNew, To: lead.StatusContacted},
			func(err error) bool { return errors.Is(err, dynamo.ErrConflict) }},
		{"unknown lead", dynamo.Change{LeadID: lead.NewID(t0), Seen: 1, From: lead.StatusNew, To: lead.StatusContacted},
			func(err error) bool { return errors.Is(err, dynamo.ErrNotFound) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.At, tt.c.Actor = t0, actor
			if _, err := f.st.Change(ctx, tt.c); !tt.check(err) {
				t.Fatalf("Change = %v", err)
			}
			if after := f.tbl.Lead(t, l.ID); !reflect.DeepEqual(after, before) {
				t.Errorf("lead changed by a refused change:\n%v\nwas\n%v", after, before)
			}
			if n := len(f.tbl.Items(t, f.tbl.Name, "audit")); n != trailBefore {
				t.Errorf("audit items = %d after a refused change, want %d", n, trailBefore)
			}
		})
	}
}

func TestChangeRescueRestoresRetention(t *testing.T) {
	f := newStaffFixture(t)
	ctx := context.Background()
	l := sampleContact(lead.NewID(t0), t0)
	l.Status, l.ExpiresAt = lead.StatusSpam, t0.Add(7*24*time.Hour)
	f.put(t, l)
	restored := t0.Add(365 * 24 * time.Hour)
	if _, err := f.st.Change(ctx, dynamo.Change{LeadID: l.ID, Seen: 1, From: lead.StatusSpam, To: lead.StatusNew, ExpiresAt: restored, At: t0, Actor: actor}); err != nil {
		t.Fatal(err)
	}
	got, _, err := f.st.LeadForStaff(ctx, l.ID)
	if err != nil || got.Status != lead.StatusNew || got.ExpiresAt.Unix() != restored.Unix() {
		t.Errorf("rescued lead = %s expires %v, %v; want new, %v", got.Status, got.ExpiresAt, err, restored)
	}
	// It is listed under new again.
	p, err := f.st.ListLeads(ctx, lead.StatusNew, "", 10, nil)
	if err != nil || len(p.Rows) != 1 || p.Rows[0].ID != l.ID || p.Rows[0].Version != 2 {
		t.Errorf("new leads after rescue = %+v, %v", p.Rows, err)
	}
}

// fakeAPI answers every call with err.
type fakeAPI struct{ err error }

func (f fakeAPI) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, f.err
}
func (f fakeAPI) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, f.err
}
func (f fakeAPI) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, f.err
}
func (f fakeAPI) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, f.err
}
func (f fakeAPI) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, f.err
}

func TestStaffFaultsAreUnavailable(t *testing.T) {
	ctx := context.Background()
	id := lead.NewID(t0)
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"throttled", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}},
		{"transaction conflict", &types.TransactionCanceledException{Message: aws.String("cancelled"),
			CancellationReasons: []types.CancellationReason{{Code: aws.String("TransactionConflict")}, {Code: aws.String("None")}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := dynamo.NewStaff(fakeAPI{tt.err}, "t")
			calls := map[string]error{}
			_, calls["ListLeads"] = st.ListLeads(ctx, lead.StatusNew, "", 10, nil)
			_, _, calls["LeadForStaff"] = st.LeadForStaff(ctx, id)
			_, calls["Audit"] = st.Audit(ctx, id)
			calls["RecordView"] = st.RecordView(ctx, lead.AuditEntry{LeadID: id, At: t0, Action: lead.AuditViewed})
			_, calls["Change"] = st.Change(ctx, dynamo.Change{LeadID: id, Seen: 1, From: lead.StatusNew, To: lead.StatusContacted, At: t0})
			for name, err := range calls {
				if _, isTCE := tt.err.(*types.TransactionCanceledException); isTCE && name != "Change" {
					continue
				}
				if lead.ErrorCode(err) != lead.CodeUnavailable {
					t.Errorf("%s error = %v, want code unavailable", name, err)
				}
			}
		})
	}
}
