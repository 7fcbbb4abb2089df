package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// OpsAPI is the part of the DynamoDB client the operations store uses:
// the staff store's calls, deletes, and DescribeTable to see which indexes
// the table has. *dynamodb.Client has it; no function links this.
type OpsAPI interface {
	StaffAPI
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// Ops is the leads table as the operations command (leadctl) uses it:
// exports by date, finding and erasing a person's leads and claims, and
// the audit entries both leave. It reads only through indexes (Query,
// never Scan), one page at a time.
type Ops struct {
	api   OpsAPI
	table string
	// CallTimeout bounds one call (one page of a Query), retries included.
	CallTimeout time.Duration
	// PageSize is the Limit of an export's Query pages; 0 lets DynamoDB
	// fill 1 MB pages.
	PageSize int32

	hasClaimsIndex *bool // DescribeTable's answer, read once
}

// DefaultOpsCallTimeout is Ops.CallTimeout unless changed: a page of an
// export is up to 1 MB, and an operator's link may be slow.
const DefaultOpsCallTimeout = 30 * time.Second

// NewOps returns the operations store on table.
func NewOps(api OpsAPI, table string) *Ops {
	return &Ops{api: api, table: table, CallTimeout: DefaultOpsCallTimeout, PageSize: 100}
}

// Audit actions of operations. They are not lead.AuditAction values the
// inbox shows: the inbox never lists them.
const (
	AuditErased   lead.AuditAction = "erased"
	AuditExported lead.AuditAction = "exported"
)

// ExportsLeadID is the leadId under which export records are kept in the
// audit trail (AuditByLead): Query it to list every export.
const ExportsLeadID = "export"

// ExportQuery selects leads by when they arrived (createdAt in [Since,
// Until)), optionally of one kind and in one status.
type ExportQuery struct {
	Since, Until time.Time
	Kind         lead.Kind   // "" for both forms
	Status       lead.Status // "" for every status
}

func (q ExportQuery) check() error {
	switch {
	case q.Since.IsZero() || q.Until.IsZero() || !q.Since.Before(q.Until):
		return fmt.Errorf("export: the time range [%v, %v) is empty", q.Since, q.Until)
	case q.Kind != "" && q.Kind != lead.KindContact && q.Kind != lead.KindConsultation:
		return fmt.Errorf("export: unknown kind %q", q.Kind)
	case q.Status != "" && !q.Status.Valid():
		return fmt.Errorf("export: unknown status %q", q.Status)
	}
	return nil
}

// Exported is one lead of an export, with the notifier's marks.
type Exported struct {
	Lead  lead.Lead
	Marks Marks
}

// Export calls each for every lead q selects, page by page, so memory
// does not grow with the number of leads. With a status and no kind it
// reads ByStatusDate; otherwise ByKindDate, one kind after the other
// (contact leads first), each oldest first. An item that cannot be read
// as a lead stops the export with an error naming its key, rather than
// being left out of a file that looks complete. The indexes give only
// keys: each lead is read whole from the table (GetItem, ConsistentRead);
// one erased in between is left out. An error from each stops
// the export and is returned as it is.
func (o *Ops) Export(ctx context.Context, q ExportQuery, each func(Exported) error) error {
	if err := q.check(); err != nil {
		return err
	}
	values := map[string]types.AttributeValue{
		":from": sval(q.Since.UTC().Format(timeLayout)),
		":to":   sval(q.Until.UTC().Add(-time.Millisecond).Format(timeLayout)),
	}
	names := map[string]string{"#c": attrCreatedAt}
	var queries []*dynamodb.QueryInput
	if q.Status != "" && q.Kind == "" {
		names["#s"] = attrStatus
		values[":s"] = sval(string(q.Status))
		queries = append(queries, &dynamodb.QueryInput{
			IndexName:              aws.String(indexByStatus),
			KeyConditionExpression: aws.String("#s = :s AND #c BETWEEN :from AND :to"),
		})
	} else {
		kinds := []lead.Kind{lead.KindContact, lead.KindConsultation}
		if q.Kind != "" {
			kinds = []lead.Kind{q.Kind}
		}
		names["#k"] = attrKind
		for _, k := range kinds {
			in := &dynamodb.QueryInput{
				IndexName:              aws.String(indexByKind),
				KeyConditionExpression: aws.String("#k = :" + string(k) + " AND #c BETWEEN :from AND :to"),
			}
			values[":"+string(k)] = sval(string(k))
			if q.Status != "" {
				names["#s"] = attrStatus
				values[":s"] = sval(string(q.Status))
				in.FilterExpression = aws.String("#s = :s")
			}
			queries = append(queries, in)
		}
	}
	for _, in := range queries {
		in.TableName = &o.table
		in.ExpressionAttributeNames = names
		in.ExpressionAttributeValues = onlyUsed(values, in)
		if o.PageSize > 0 {
			in.Limit = aws.Int32(o.PageSize)
		}
		// The index projects no answers: it gives the keys, and each lead
		// is read whole from the table, so an export is never partial.
		in.ProjectionExpression = aws.String(attrPK)
		err := o.pages(ctx, in, "export leads", func(key map[string]types.AttributeValue) error {
			pk := str(key[attrPK])
			item, err := getWhole(ctx, o.api, o.table, o.CallTimeout, pk)
			if errors.Is(err, ErrNotFound) {
				return nil // erased since the index listed it
			}
			if err != nil {
				return err
			}
			l, err := leadFromItem(item)
			if err != nil {
				return fmt.Errorf("export leads: item %s cannot be read: %w", str(item[attrPK]), err)
			}
			return each(Exported{Lead: l, Marks: marksFromItem(item)})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// onlyUsed returns the values in's expressions name: DynamoDB refuses an
// expression value that no expression uses.
func onlyUsed(values map[string]types.AttributeValue, in *dynamodb.QueryInput) map[string]types.AttributeValue {
	expr := aws.ToString(in.KeyConditionExpression) + " " + aws.ToString(in.FilterExpression)
	out := map[string]types.AttributeValue{}
	for k, v := range values {
		if containsToken(expr, k) {
			out[k] = v
		}
	}
	return out
}

// containsToken reports whether expr names the placeholder tok (":s" is
// not found in ":status").
func containsToken(expr, tok string) bool {
	for i := 0; i+len(tok) <= len(expr); i++ {
		if expr[i:i+len(tok)] != tok {
			continue
		}
		end := i + len(tok)
		if end == len(expr) || !isNameByte(expr[end]) {
			return true
		}
	}
	return false
}

func isNameByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// pages runs in page by page, each page in a context of its own
// CallTimeout, and calls each for every item. It keeps nothing between
// pages but the start key.
func (o *Ops) pages(ctx context.Context, in *dynamodb.QueryInput, op string, each func(map[string]types.AttributeValue) error) error {
	for {
		out, err := o.query(ctx, in)
		if err != nil {
			return classify(op, err)
		}
		for _, item := range out.Items {
			if err := each(item); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func (o *Ops) query(ctx context.Context, in *dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
	defer cancel()
	return o.api.Query(ctx, in)
}

func marksFromItem(item map[string]types.AttributeValue) Marks {
	var m Marks
	m.NotifiedAt, _ = time.Parse(timeLayout, str(item[attrNotifiedAt]))
	m.ConfirmedAt, _ = time.Parse(timeLayout, str(item[attrConfirmedAt]))
	m.ConfirmRefusedAt, _ = time.Parse(timeLayout, str(item[attrConfirmRefusedAt]))
	return m
}

// Match is a lead found for erasure, as much of it as may be shown: ids,
// kind, status and dates, never an answer.
type Match struct {
	ID        string
	Kind      lead.Kind
	Status    lead.Status
	CreatedAt time.Time
}

// matchProjection reads only what a Match shows.
const matchProjection = "pk, id, #k, #s, #c"

func matchNames() map[string]string {
	return map[string]string{"#k": attrKind, "#s": attrStatus, "#c": attrCreatedAt}
}

func matchFromItem(item map[string]types.AttributeValue) (Match, error) {
	m := Match{ID: str(item[attrID]), Kind: lead.Kind(str(item[attrKind])), Status: lead.Status(str(item[attrStatus]))}
	var err error
	if m.CreatedAt, err = time.Parse(timeLayout, str(item[attrCreatedAt])); err != nil || m.ID == "" {
		return Match{}, fmt.Errorf("lead item %s has no id or createdAt", str(item[attrPK]))
	}
	return m, nil
}

// FindByEmail returns every lead whose address is email, compared
// without regard to the case of ASCII letters (people type their address
// differently from one form to the next), oldest first per kind.
//
// Leads have no index on their address, so it reads ByKindDate whole, one
// Query per kind, page by page, with a filter on the address's domain
// (stored in lower case): DynamoDB reads every lead (its cost grows with
// the table) but returns only those at the person's domain, and of them
// only the id, kind, status, date and address, which are compared here
// and not kept. No answers leave DynamoDB. README, "Operations", says why
// this is the choice for a clinic's volumes.
func (o *Ops) FindByEmail(ctx context.Context, email string) ([]Match, error) {
	email = lead.NormalizeEmail(email)
	at := strings.LastIndexByte(email, '@')
	if !lead.IsEmail(email) || at < 0 {
		return nil, fmt.Errorf("find leads: %q is not an email address", email)
	}
	names := matchNames()
	names["#e"] = "email"
	want := asciiLower(email)
	var found []Match
	for _, k := range []lead.Kind{lead.KindContact, lead.KindConsultation} {
		in := &dynamodb.QueryInput{
			TableName:                &o.table,
			IndexName:                aws.String(indexByKind),
			KeyConditionExpression:   aws.String("#k = :k"),
			FilterExpression:         aws.String("contains(#e, :domain)"),
			ProjectionExpression:     aws.String(matchProjection + ", #e"),
			ExpressionAttributeNames: names,
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":k": sval(string(k)), ":domain": sval(email[at:]),
			},
		}
		err := o.pages(ctx, in, "find leads by email", func(item map[string]types.AttributeValue) error {
			if asciiLower(str(item["email"])) != want {
				return nil // same domain, someone else
			}
			m, err := matchFromItem(item)
			if err != nil {
				return fmt.Errorf("find leads by email: %w", err)
			}
			found = append(found, m)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return found, nil
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// FindByID returns lead id as a Match (ErrNotFound if there is none).
func (o *Ops) FindByID(ctx context.Context, id string) (Match, error) {
	if !IsLeadID(id) {
		return Match{}, fmt.Errorf("find lead: %q is not a lead id", id)
	}
	ctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
	defer cancel()
	out, err := o.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &o.table, Key: leadKey(id), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String(matchProjection), ExpressionAttributeNames: matchNames(),
	})
	if err != nil {
		return Match{}, classify("find lead "+id, err)
	}
	if out.Item == nil {
		return Match{}, ErrNotFound
	}
	return matchFromItem(out.Item)
}

// ErrNoClaimsIndex: the table has no ClaimsByLead index, so a lead's
// idempotency claims cannot be found without a Scan.
var ErrNoClaimsIndex = errors.New("the table has no " + indexClaimsByLead + " index")

// ClaimsOf returns the keys (pk) of the idempotency claims that point at
// lead id, through the ClaimsByLead index; ErrNoClaimsIndex when the
// table has none. Claims hold no answers (a key, the lead's id, a hash of
// the submission and times) and expire within a day.
func (o *Ops) ClaimsOf(ctx context.Context, id string) ([]string, error) {
	ok, err := o.claimsIndex(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNoClaimsIndex
	}
	var keys []string
	err = o.pages(ctx, &dynamodb.QueryInput{
		TableName:                 &o.table,
		IndexName:                 aws.String(indexClaimsByLead),
		KeyConditionExpression:    aws.String("leadId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": sval(id)},
	}, "find claims of lead "+id, func(item map[string]types.AttributeValue) error {
		// The index projects keys only; its keys make it hold claims
		// only, and the prefix says so again.
		if pk := str(item[attrPK]); strings.HasPrefix(pk, "CLAIM#") {
			keys = append(keys, pk)
		}
		return nil
	})
	return keys, err
}

func (o *Ops) claimsIndex(ctx context.Context) (bool, error) {
	if o.hasClaimsIndex != nil {
		return *o.hasClaimsIndex, nil
	}
	ctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
	defer cancel()
	out, err := o.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &o.table})
	if err != nil {
		return false, classify("describe table "+o.table, err)
	}
	has := false
	for _, g := range out.Table.GlobalSecondaryIndexes {
		has = has || aws.ToString(g.IndexName) == indexClaimsByLead
	}
	o.hasClaimsIndex = &has
	return has, nil
}

// Erasure is one lead to erase with its claims: who asked, when and why.
type Erasure struct {
	LeadID string
	// Claims are the keys (pk) of its claims (ClaimsOf).
	Claims []string
	At     time.Time
	// Actor is who erased it: the caller's IAM identity, or "local".
	Actor lead.Actor
	// Reason is why, as ops gave it (a ticket number, "request by
	// phone"); it is stored, so it must not name the person.
	Reason string
	// Request ties together the tombstones of one erasure request.
	Request string
}

// maxTransactItems is DynamoDB's limit on one transaction.
const maxTransactItems = 100

// Erase deletes the lead and its claims and writes its tombstone (an
// audit entry, action "erased", with who, when, why and how many claims;
// no personal data), in one transaction: all of it happens or none.
// ErrNotFound: the lead is not there (erased before?). A claim that now
// points at another lead (its key was claimed again) cancels the whole
// transaction, with an error.
func (o *Ops) Erase(ctx context.Context, e Erasure) error {
	if !IsLeadID(e.LeadID) {
		return fmt.Errorf("erase: %q is not a lead id", e.LeadID)
	}
	if len(e.Claims)+2 > maxTransactItems {
		return fmt.Errorf("erase lead %s: %d claims are more than one transaction holds", e.LeadID, len(e.Claims))
	}
	ctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
	defer cancel()
	items := []types.TransactWriteItem{{Delete: &types.Delete{
		TableName:           &o.table,
		Key:                 leadKey(e.LeadID),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	}}}
	for _, pk := range e.Claims {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName:                 &o.table,
			Key:                       map[string]types.AttributeValue{attrPK: sval(pk)},
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR leadId = :id"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": sval(e.LeadID)},
		}})
	}
	tomb := auditItem(lead.AuditEntry{LeadID: e.LeadID, At: e.At, Actor: e.Actor, Action: AuditErased}, auditToken())
	tomb[attrReason] = sval(e.Reason)
	tomb[attrRequest] = sval(e.Request)
	tomb[attrClaims] = nval(len(e.Claims))
	items = append(items, types.TransactWriteItem{Put: &types.Put{
		TableName: &o.table, Item: tomb, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}})
	_, err := o.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		reasons := tce.CancellationReasons
		if len(reasons) > 0 && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
			return ErrNotFound
		}
		return fmt.Errorf("erase lead %s: nothing was erased; transaction cancelled: %s", e.LeadID, reasonCodes(reasons))
	}
	return classify("erase lead "+e.LeadID, err)
}

// Tombstone is an erased lead's audit entry.
type Tombstone struct {
	LeadID  string
	At      time.Time
	Actor   lead.Actor
	Reason  string
	Request string
	Claims  int
}

// Tombstones returns the tombstones of lead id (normally one), through
// AuditByLead.
func (o *Ops) Tombstones(ctx context.Context, id string) ([]Tombstone, error) {
	var out []Tombstone
	err := o.pages(ctx, &dynamodb.QueryInput{
		TableName:                 &o.table,
		IndexName:                 aws.String(indexAuditByLead),
		KeyConditionExpression:    aws.String("leadId = :id"),
		FilterExpression:          aws.String("#a = :erased"),
		ExpressionAttributeNames:  map[string]string{"#a": attrAction},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": sval(id), ":erased": sval(string(AuditErased))},
	}, "read tombstones of lead "+id, func(item map[string]types.AttributeValue) error {
		e, err := auditFromItem(item)
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(numval(item[attrClaims]))
		out = append(out, Tombstone{LeadID: e.LeadID, At: e.At, Actor: e.Actor, Reason: str(item[attrReason]),
			Request: str(item[attrRequest]), Claims: n})
		return nil
	})
	return out, err
}

func numval(v types.AttributeValue) string {
	if n, ok := v.(*types.AttributeValueMemberN); ok {
		return n.Value
	}
	return ""
}

// ExportRecord is the audit entry of one export: who exported which
// selection, in which format, and, once it is done, how many leads.
type ExportRecord struct {
	At            time.Time
	Actor         lead.Actor
	Query         ExportQuery
	Format        string
	IncludeHealth bool
}

// RecordExport writes r to the audit trail before the export reads a
// lead, so no export goes unrecorded, and returns its key for
// FinishExport.
func (o *Ops) RecordExport(ctx context.Context, r ExportRecord) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
	defer cancel()
	item := auditItem(lead.AuditEntry{LeadID: ExportsLeadID, At: r.At, Actor: r.Actor, Action: AuditExported}, auditToken())
	item[attrFilter] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"since":         sval(r.Query.Since.UTC().Format(timeLayout)),
		"until":         sval(r.Query.Until.UTC().Format(timeLayout)),
		"kind":          sval(string(r.Query.Kind)),
		"status":        sval(string(r.Query.Status)),
		"format":        sval(r.Format),
		"includeHealth": &types.AttributeValueMemberBOOL{Value: r.IncludeHealth},
	}}
	_, err := o.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &o.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil {
		return "", classify("record export", err)
	}
	return str(item[attrPK]), nil
}

// FinishExport adds the number of leads written and the time to the
// export's record.
func (o *Ops) FinishExport(ctx context.Context, key string, count int, at time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
	defer cancel()
	_, err := o.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &o.table,
		Key:                      map[string]types.AttributeValue{attrPK: sval(key)},
		UpdateExpression:         aws.String("SET #n = :n, #f = :f"),
		ConditionExpression:      aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames: map[string]string{"#n": attrCount, "#f": attrFinished},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": nval(count), ":f": sval(at.UTC().Format(timeLayout)),
		},
	})
	return classify("finish export record", err)
}

// Exports lists the export records, newest first, at most limit.
func (o *Ops) Exports(ctx context.Context, limit int) ([]ExportRecord, error) {
	out, err := o.query(ctx, &dynamodb.QueryInput{
		TableName:                 &o.table,
		IndexName:                 aws.String(indexAuditByLead),
		KeyConditionExpression:    aws.String("leadId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": sval(ExportsLeadID)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(max(limit, 1))),
	})
	if err != nil {
		return nil, classify("list exports", err)
	}
	var recs []ExportRecord
	for _, item := range out.Items {
		e, err := auditFromItem(item)
		if err != nil {
			return nil, fmt.Errorf("list exports: %w", err)
		}
		r := ExportRecord{At: e.At, Actor: e.Actor}
		if f, ok := item[attrFilter].(*types.AttributeValueMemberM); ok {
			r.Query.Since, _ = time.Parse(timeLayout, str(f.Value["since"]))
			r.Query.Until, _ = time.Parse(timeLayout, str(f.Value["until"]))
			r.Query.Kind = lead.Kind(str(f.Value["kind"]))
			r.Query.Status = lead.Status(str(f.Value["status"]))
			r.Format = str(f.Value["format"])
			r.IncludeHealth = boolean(f.Value["includeHealth"])
		}
		recs = append(recs, r)
	}
	return recs, nil
}
