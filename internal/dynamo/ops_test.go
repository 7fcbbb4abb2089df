package dynamo_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/dynamo/dynamotest"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// opsLead is a lead of kind at t0+offset with status and address.
func opsLead(kind lead.Kind, offset time.Duration, status lead.Status, email string) lead.Lead {
	at := t0.Add(offset)
	var l lead.Lead
	if kind == lead.KindContact {
		l = sampleContact(lead.NewID(at), at)
		l.Contact.Email = email
	} else {
		l = sampleConsultation(lead.NewID(at))
		l.CreatedAt, l.ExpiresAt, l.Consent.At = at, at.Add(365*24*time.Hour), at
		l.Consultation.Email = email
	}
	l.Status = status
	return l
}

func putAll(t *testing.T, st *dynamo.Store, leads ...lead.Lead) {
	t.Helper()
	for _, l := range leads {
		if err := st.Put(context.Background(), l); err != nil {
			t.Fatal(err)
		}
	}
}

func exportIDs(t *testing.T, ops *dynamo.Ops, q dynamo.ExportQuery) ([]string, []dynamo.Exported) {
	t.Helper()
	var ids []string
	var all []dynamo.Exported
	err := ops.Export(context.Background(), q, func(e dynamo.Exported) error {
		ids = append(ids, e.Lead.ID)
		all = append(all, e)
		return nil
	})
	if err != nil {
		t.Fatalf("Export(%+v): %v", q, err)
	}
	return ids, all
}

func TestOpsExport(t *testing.T) {
	tbl := dynamotest.New(t)
	st := dynamo.New(tbl.Client, tbl.Name)
	ctx := context.Background()
	c1 := opsLead(lead.KindContact, time.Hour, lead.StatusNew, "a@example.com")
	c2 := opsLead(lead.KindContact, 2*time.Hour, lead.Status("contacted"), "b@example.com")
	k1 := opsLead(lead.KindConsultation, 90*time.Minute, lead.StatusNew, "c@example.com")
	k2 := opsLead(lead.KindConsultation, 3*time.Hour, lead.StatusSpam, "d@example.com")
	before := opsLead(lead.KindContact, -time.Hour, lead.StatusNew, "e@example.com")
	after := opsLead(lead.KindConsultation, 5*time.Hour, lead.StatusNew, "f@example.com")
	putAll(t, st, c1, c2, k1, k2, before, after)
	if err := st.MarkNotified(ctx, c1.ID, t0.Add(61*time.Minute)); err != nil {
		t.Fatal(err)
	}

	ops := dynamo.NewOps(tbl.Client, tbl.Name)
	ops.PageSize = 1 // every lead its own page: the paging is what is tested
	window := dynamo.ExportQuery{Since: t0, Until: t0.Add(5 * time.Hour)}
	for _, tt := range []struct {
		name   string
		kind   lead.Kind
		status lead.Status
		want   []string
	}{
		{"everything, contact first, each oldest first", "", "", []string{c1.ID, c2.ID, k1.ID, k2.ID}},
		{"one kind", lead.KindConsultation, "", []string{k1.ID, k2.ID}},
		{"one status across kinds, by date", "", lead.StatusNew, []string{c1.ID, k1.ID}},
		{"kind and status", lead.KindConsultation, lead.StatusSpam, []string{k2.ID}},
		{"kind and status with nothing", lead.KindContact, lead.StatusSpam, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := window
			q.Kind, q.Status = tt.kind, tt.status
			got, _ := exportIDs(t, ops, q)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ids = %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("until is exclusive, since inclusive", func(t *testing.T) {
		got, _ := exportIDs(t, ops, dynamo.ExportQuery{Since: c1.CreatedAt, Until: k1.CreatedAt})
		if !reflect.DeepEqual(got, []string{c1.ID}) {
			t.Errorf("ids = %v, want only %s", got, c1.ID)
		}
	})

	t.Run("whole leads with their marks", func(t *testing.T) {
		_, all := exportIDs(t, ops, dynamo.ExportQuery{Since: t0, Until: t0.Add(5 * time.Hour), Kind: lead.KindContact})
		if len(all) != 2 || all[0].Lead.Contact == nil || all[0].Lead.Contact.Email != "a@example.com" {
			t.Fatalf("exported = %+v", all)
		}
		if !all[0].Marks.NotifiedAt.Equal(t0.Add(61*time.Minute)) || !all[1].Marks.NotifiedAt.IsZero() {
			t.Errorf("marks = %v, %v; want the first notified only", all[0].Marks, all[1].Marks)
		}
	})

	// The indexes project no answers: an exported lead is the table's
	// whole item, by either index, equal to what Get reads.
	t.Run("health answers read from the table", func(t *testing.T) {
		for _, q := range []dynamo.ExportQuery{
			{Since: t0, Until: t0.Add(5 * time.Hour), Kind: lead.KindConsultation, Status: lead.StatusNew}, // ByKindDate
			{Since: t0, Until: t0.Add(5 * time.Hour), Status: lead.StatusNew},                              // ByStatusDate
		} {
			_, all := exportIDs(t, ops, q)
			want, err := st.Get(ctx, k1.ID)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(all, func(e dynamo.Exported) bool { return e.Lead.ID == k1.ID })
			if i < 0 || all[i].Lead.Consultation == nil || all[i].Lead.Consultation.CurrentMedications == "" || !reflect.DeepEqual(all[i].Lead, want) {
				t.Errorf("Export(%+v) gave %+v, want the whole lead %+v", q, all, want)
			}
		}
	})

	t.Run("each's error stops the export", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		err := ops.Export(ctx, window, func(dynamo.Exported) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("Export = %v after %d leads; want stop after 1", err, n)
		}
	})

	t.Run("bad queries", func(t *testing.T) {
		for _, q := range []dynamo.ExportQuery{
			{Since: t0, Until: t0},
			{Since: t0},
			{Since: t0, Until: t0.Add(time.Hour), Kind: "letter"},
			{Since: t0, Until: t0.Add(time.Hour), Status: "lost"},
		} {
			if err := ops.Export(ctx, q, func(dynamo.Exported) error { return nil }); err == nil {
				t.Errorf("Export(%+v) = nil, want an error", q)
			}
		}
	})

	t.Run("an unreadable lead stops it, named by key", func(t *testing.T) {
		bad := dynamo.LeadItem(opsLead(lead.KindContact, 4*time.Hour, lead.StatusNew, "g@example.com"))
		bad["createdAt"] = &types.AttributeValueMemberS{Value: t0.Add(4 * time.Hour).Format("2006-01-02T15:04:05.000Z")}
		bad["version"] = &types.AttributeValueMemberN{Value: "-3"}
		if _, err := tbl.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &tbl.Name, Item: bad}); err != nil {
			t.Fatal(err)
		}
		err := ops.Export(ctx, window, func(dynamo.Exported) error { return nil })
		pk := bad["pk"].(*types.AttributeValueMemberS).Value
		if err == nil || !strings.Contains(err.Error(), pk) {
			t.Errorf("Export = %v, want an error naming %s", err, pk)
		}
	})
}

// withClaimsIndex creates a leads table as template.yaml's plus the
// ClaimsByLead index the README proposes, and returns its name.
func withClaimsIndex(t *testing.T, tbl *dynamotest.Table) string {
	t.Helper()
	tmpl, err := samtemplate.Load()
	if err != nil {
		t.Fatal(err)
	}
	name := "leads-claims-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	in, err := tmpl.CreateTableInput(samtemplate.LeadsTable, name)
	if err != nil {
		t.Fatal(err)
	}
	in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
		IndexName: aws.String("ClaimsByLead"),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("leadId"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("createdAt"), KeyType: types.KeyTypeRange},
		},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
	})
	ctx := context.Background()
	if _, err := tbl.Client.CreateTable(ctx, in); err != nil {
		t.Fatal(err)
	}
	// dynalite can answer CreateTable a moment before the table is active
	// (the SDK's waiter first waits longer than this whole bound).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err := tbl.Client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
		if err == nil && out.Table.TableStatus == types.TableStatusActive {
			return name
		}
		if time.Now().After(deadline) {
			t.Fatalf("table %s not active after 10 s (%v)", name, err)
		}
	}
}

func TestOpsFindAndErase(t *testing.T) {
	tbl := dynamotest.New(t)
	ctx := context.Background()
	tbl.Name = withClaimsIndex(t, tbl)
	st := dynamo.New(tbl.Client, tbl.Name)

	mine1 := opsLead(lead.KindContact, time.Hour, lead.StatusNew, "Pat.Doe@example.com")
	mine2 := opsLead(lead.KindConsultation, 2*time.Hour, lead.Status("contacted"), "pat.doe@example.com")
	mine3 := opsLead(lead.KindContact, -400*24*time.Hour, lead.StatusSpam, "Pat.Doe@example.com")
	mine4 := opsLead(lead.KindConsultation, 5*time.Hour, lead.StatusNew, "PAT.DOE@example.com")
	otherDomain := opsLead(lead.KindContact, 3*time.Hour, lead.StatusNew, "pat.doe@example.org")
	longerDomain := opsLead(lead.KindContact, 3*time.Hour+time.Minute, lead.StatusNew, "pat.doe@example.community")
	other := opsLead(lead.KindConsultation, 4*time.Hour, lead.StatusNew, "someone@example.com")
	putAll(t, st, mine1, mine2, mine3, mine4, otherDomain, longerDomain, other)
	claim := func(key string, l lead.Lead) {
		t.Helper()
		c := lead.Claim{Key: key, LeadID: l.ID, BodyHash: "h-" + key, CreatedAt: l.CreatedAt, ExpiresAt: l.CreatedAt.Add(lead.KeyWindow)}
		if _, err := st.Claim(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	claim("key:contact:k1", mine1)
	claim("auto:h1", mine1)
	claim("key:consultation:k2", mine2)
	claim("key:consultation:k3", other)

	// Through the stream proxy, which gives dynalite transactions.
	ops := dynamo.NewOps(tbl.Transactional(t), tbl.Name)

	found, err := ops.FindByEmail(ctx, " Pat.Doe@EXAMPLE.com ")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range found {
		ids = append(ids, m.ID)
	}
	if want := []string{mine3.ID, mine1.ID, mine2.ID, mine4.ID}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("FindByEmail = %v, want %v (contact oldest first, then consultations)", ids, want)
	}
	if found[2].Kind != lead.KindConsultation || found[2].Status != "contacted" || !found[2].CreatedAt.Equal(mine2.CreatedAt) {
		t.Errorf("match = %+v", found[2])
	}
	if _, err := ops.FindByEmail(ctx, "not an address"); err == nil {
		t.Error("FindByEmail(bad address) = nil error")
	}

	claims, err := ops.ClaimsOf(ctx, mine1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"CLAIM#auto:h1", "CLAIM#key:contact:k1"}; !sameSet(claims, want) {
		t.Fatalf("ClaimsOf = %v, want %v", claims, want)
	}

	req := "req-1"
	for _, m := range found {
		cl, err := ops.ClaimsOf(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		e := dynamo.Erasure{LeadID: m.ID, Claims: cl, At: t0.Add(24 * time.Hour),
			Actor: lead.Actor{Subject: "arn:aws:iam::123456789012:user/ops"}, Reason: "ticket 42", Request: req}
		if err := ops.Erase(ctx, e); err != nil {
			t.Fatalf("Erase %s: %v", m.ID, err)
		}
	}

	for _, l := range []lead.Lead{mine1, mine2, mine3, mine4} {
		if tbl.Lead(t, l.ID) != nil {
			t.Errorf("lead %s still stored", l.ID)
		}
	}
	for _, l := range []lead.Lead{otherDomain, longerDomain, other} {
		if tbl.Lead(t, l.ID) == nil {
			t.Errorf("lead %s of someone else was erased", l.ID)
		}
	}
	var left []string
	for _, c := range tbl.Items(t, tbl.Name, "claim") {
		left = append(left, c["pk"].(*types.AttributeValueMemberS).Value)
	}
	if !reflect.DeepEqual(left, []string{"CLAIM#key:consultation:k3"}) {
		t.Errorf("claims left = %v, want only the other person's", left)
	}

	tombs := tbl.Items(t, tbl.Name, "audit")
	if len(tombs) != 4 {
		t.Fatalf("%d audit items, want 4 tombstones", len(tombs))
	}
	for _, item := range tombs {
		for k, v := range item {
			s, _ := v.(*types.AttributeValueMemberS)
			if s != nil && (strings.Contains(strings.ToLower(s.Value), "pat") || strings.Contains(s.Value, "example")) {
				t.Errorf("tombstone attribute %s = %q holds personal data", k, s.Value)
			}
		}
	}
	ts, err := ops.Tombstones(ctx, mine1.ID)
	if err != nil || len(ts) != 1 {
		t.Fatalf("Tombstones = %+v, %v", ts, err)
	}
	if got := ts[0]; got.Reason != "ticket 42" || got.Request != req || got.Claims != 2 ||
		got.Actor.Subject != "arn:aws:iam::123456789012:user/ops" || !got.At.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("tombstone = %+v", got)
	}

	if err := ops.Erase(ctx, dynamo.Erasure{LeadID: mine1.ID, At: t0, Reason: "again"}); !errors.Is(err, dynamo.ErrNotFound) {
		t.Errorf("second Erase = %v, want ErrNotFound", err)
	}
	if n := len(tbl.Items(t, tbl.Name, "audit")); n != 4 {
		t.Errorf("a refused erase wrote a tombstone: %d audit items", n)
	}
	if _, err := ops.FindByID(ctx, mine1.ID); !errors.Is(err, dynamo.ErrNotFound) {
		t.Errorf("FindByID(erased) = %v, want ErrNotFound", err)
	}
	if m, err := ops.FindByID(ctx, other.ID); err != nil || m.ID != other.ID || m.Kind != lead.KindConsultation {
		t.Errorf("FindByID(other) = %+v, %v", m, err)
	}
}

func TestOpsEraseRefusesAReclaimedClaim(t *testing.T) {
	tbl := dynamotest.New(t)
	ctx := context.Background()
	st := dynamo.New(tbl.Client, tbl.Name)
	l := opsLead(lead.KindContact, 0, lead.StatusNew, "x@example.com")
	putAll(t, st, l)
	// The claim's key now belongs to a later lead: deleting it would take
	// someone else's claim.
	c := lead.Claim{Key: "key:contact:z", LeadID: lead.NewID(t0), BodyHash: "h", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if _, err := st.Claim(ctx, c); err != nil {
		t.Fatal(err)
	}
	ops := dynamo.NewOps(tbl.Transactional(t), tbl.Name)
	err := ops.Erase(ctx, dynamo.Erasure{LeadID: l.ID, Claims: []string{"CLAIM#key:contact:z"}, At: t0, Reason: "r"})
	if err == nil || errors.Is(err, dynamo.ErrNotFound) {
		t.Fatalf("Erase = %v, want a cancelled transaction", err)
	}
	if tbl.Lead(t, l.ID) == nil || tbl.Count(t, tbl.Name, "claim") != 1 || tbl.Count(t, tbl.Name, "audit") != 0 {
		t.Error("a cancelled erase changed the table")
	}
}

func TestOpsClaimsWithoutIndex(t *testing.T) {
	tbl := dynamotest.New(t)
	ops := dynamo.NewOps(tbl.Client, tbl.Name)
	if _, err := ops.ClaimsOf(context.Background(), lead.NewID(t0)); !errors.Is(err, dynamo.ErrNoClaimsIndex) {
		t.Errorf("ClaimsOf on template.yaml's table = %v, want ErrNoClaimsIndex", err)
	}
}

func TestOpsExportRecords(t *testing.T) {
	tbl := dynamotest.New(t)
	ctx := context.Background()
	ops := dynamo.NewOps(tbl.Client, tbl.Name)
	q := dynamo.ExportQuery{Since: t0, Until: t0.Add(24 * time.Hour), Kind: lead.KindContact, Status: lead.StatusNew}
	who := lead.Actor{Subject: "arn:aws:sts::123456789012:assumed-role/ops/pat"}
	key, err := ops.RecordExport(ctx, dynamo.ExportRecord{At: t0, Actor: who, Query: q, Format: "csv", IncludeHealth: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ops.FinishExport(ctx, key, 17, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	recs, err := ops.Exports(ctx, 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("Exports = %+v, %v", recs, err)
	}
	r := recs[0]
	if r.Actor != who || r.Query != q || r.Format != "csv" || !r.IncludeHealth || !r.At.Equal(t0) {
		t.Errorf("record = %+v", r)
	}
	items := tbl.Items(t, tbl.Name, "audit")
	if n, _ := items[0]["leadCount"].(*types.AttributeValueMemberN); n == nil || n.Value != "17" {
		t.Errorf("leadCount = %v, want 17", items[0]["leadCount"])
	}
	if err := ops.FinishExport(ctx, "AUDIT#export#nothing", 1, t0); err == nil {
		t.Error("FinishExport of an unknown record = nil, want an error (it must not create one)")
	}
}

func TestRemark(t *testing.T) {
	tbl := dynamotest.New(t)
	st := dynamo.New(tbl.Client, tbl.Name)
	ctx := context.Background()
	l := sampleConsultation(lead.NewID(t0))
	putAll(t, st, l)
	first, again := t0.Add(time.Minute), t0.Add(time.Hour)
	if err := st.MarkNotified(ctx, l.ID, first); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkConfirmRefused(ctx, l.ID, first); err != nil {
		t.Fatal(err)
	}
	if err := st.Remark(ctx, l.ID, false, again); err != nil {
		t.Fatal(err)
	}
	m, _ := st.Marks(ctx, l.ID)
	if !m.NotifiedAt.Equal(again) || !m.ConfirmedAt.IsZero() || !m.ConfirmRefusedAt.Equal(first) {
		t.Errorf("after staff Remark: %+v", m)
	}
	if err := st.Remark(ctx, l.ID, true, again); err != nil {
		t.Fatal(err)
	}
	m, _ = st.Marks(ctx, l.ID)
	if !m.ConfirmedAt.Equal(again) || !m.ConfirmRefusedAt.IsZero() {
		t.Errorf("after confirmation Remark: %+v (want confirmedAt set, confirmRefusedAt cleared)", m)
	}
	missing := lead.NewID(t0)
	if err := st.Remark(ctx, missing, false, again); !errors.Is(err, dynamo.ErrNotFound) {
		t.Errorf("Remark(missing) = %v, want ErrNotFound", err)
	}
	if tbl.Lead(t, missing) != nil {
		t.Error("Remark created an item")
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		if seen[s]--; seen[s] < 0 {
			return false
		}
	}
	return true
}
