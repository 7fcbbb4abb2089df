package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// StaffAPI is the part of the DynamoDB client the staff store uses: the
// lead store's calls and transactions.
type StaffAPI interface {
	API
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// StaffClientAPI is ClientAPI with transactions, for the staff function
// only (the other functions do not link TransactWriteItems).
func StaffClientAPI(c *dynamodb.Client) StaffAPI {
	return staffFuncs{clientFuncs: ClientAPI(c).(clientFuncs), transact: c.TransactWriteItems}
}

type staffFuncs struct {
	clientFuncs
	transact func(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

func (f staffFuncs) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return f.transact(ctx, in, opts...)
}

// Errors of the staff store. A refused Change wrote nothing: neither the
// lead nor its audit trail changed.
var (
	// ErrStale: the lead's version is not the one the change was made
	// against; errors.As finds a *StaleError with the current version.
	ErrStale = errors.New("lead changed since it was read")
	// ErrConflict: the lead is at the version the change names but not in
	// the status it was checked against (a writer that does not count
	// versions moved it).
	ErrConflict = errors.New("lead is not in the status the change was checked against")
)

// StaleError is ErrStale with the lead's current version.
type StaleError struct{ Version int }

func (e *StaleError) Error() string {
	return fmt.Sprintf("%v (now version %d)", ErrStale, e.Version)
}

// Is makes errors.Is(err, ErrStale) true.
func (e *StaleError) Is(target error) bool { return target == ErrStale }

// Staff is the leads table as the staff inbox uses it: listing, reading a
// lead with its audit trail, recording views, and changing a lead together
// with its audit entry in one transaction.
type Staff struct {
	api         StaffAPI
	table       string
	CallTimeout time.Duration
	// MaxAudit bounds the entries Audit returns (the newest).
	MaxAudit int
}

// DefaultMaxAudit is Staff.MaxAudit unless changed.
const DefaultMaxAudit = 500

// NewStaff returns the staff store on table.
func NewStaff(api StaffAPI, table string) *Staff {
	return &Staff{api: api, table: table, CallTimeout: DefaultCallTimeout, MaxAudit: DefaultMaxAudit}
}

// LeadRow is what the inbox's list shows of a lead: the attributes
// ByStatusQueue projects, nothing more.
type LeadRow struct {
	ID        string
	Kind      lead.Kind
	Status    lead.Status
	CreatedAt time.Time
	Name      string // contact form
	FirstName string // consultation form
	LastName  string
	InCrisis  bool
	// NotifiedAt is when the staff email went out; zero if it has not.
	NotifiedAt time.Time
	Version    int
}

// ListKey is where a page of ListLeads starts: the last lead of the page
// before, as the index orders it. The status is the query's own.
type ListKey struct {
	ID    string
	Queue string
}

var (
	leadIDShape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	queueShape  = regexp.MustCompile(`^[01]#[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$`)
)

// IsLeadID reports whether id is shaped like the ids intake gives leads
// (lead.NewID), so an id from a request that cannot name a lead never
// becomes a key.
func IsLeadID(id string) bool { return leadIDShape.MatchString(id) }

// Valid reports whether k is shaped like a key of ByStatusQueue: a lead id
// as intake makes them and a queue value as leadItem writes it. A key from
// a client is checked before it reaches DynamoDB.
func (k ListKey) Valid() bool {
	if !leadIDShape.MatchString(k.ID) || !queueShape.MatchString(k.Queue) {
		return false
	}
	_, err := time.Parse(timeLayout, k.Queue[2:])
	return err == nil
}

// Page is one page of ListLeads. Next is nil on the last page.
type Page struct {
	Rows []LeadRow
	Next *ListKey
}

// ListLeads returns up to limit leads in status, optionally only of kind,
// in crisis first, newest first, starting after start (nil: the first
// page). It makes exactly one Query on ByStatusQueue. With a kind, the
// filter applies after the read, so a page may hold fewer than limit rows
// (even none) and still have a Next.
func (s *Staff) ListLeads(ctx context.Context, status lead.Status, kind lead.Kind, limit int, start *ListKey) (Page, error) {
	if !status.Valid() || limit < 1 {
		return Page{}, fmt.Errorf("list leads: bad status %q or limit %d", status, limit)
	}
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	in := &dynamodb.QueryInput{
		TableName:                &s.table,
		IndexName:                aws.String(indexByStatusQueue),
		KeyConditionExpression:   aws.String("#status = :status"),
		ExpressionAttributeNames: map[string]string{"#status": attrStatus}, // a reserved word
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":status": sval(string(status)),
		},
		ScanIndexForward: aws.Bool(false),
		// One more than asked: if it comes back, there is a next page and
		// the last page never ends in an empty one.
		Limit: aws.Int32(int32(limit + 1)),
	}
	if kind != "" {
		in.FilterExpression = aws.String("#kind = :kind")
		in.ExpressionAttributeNames["#kind"] = attrKind
		in.ExpressionAttributeValues[":kind"] = sval(string(kind))
	}
	if start != nil {
		if !start.Valid() {
			return Page{}, errors.New("list leads: start key is not a key of the index")
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			attrPK:     sval("LEAD#" + start.ID),
			attrStatus: sval(string(status)),
			attrQueue:  sval(start.Queue),
		}
	}
	out, err := s.api.Query(ctx, in)
	if err != nil {
		return Page{}, classify("list leads", err)
	}
	var p Page
	for i, item := range out.Items {
		if i == limit {
			last := p.Rows[limit-1]
			p.Next = &ListKey{ID: last.ID, Queue: str(out.Items[limit-1][attrQueue])}
			return p, nil
		}
		r, err := rowFromItem(item)
		if err != nil {
			return Page{}, fmt.Errorf("list leads: %w", err)
		}
		p.Rows = append(p.Rows, r)
	}
	if lek := out.LastEvaluatedKey; len(lek) > 0 {
		id, ok := strCut(str(lek[attrPK]), "LEAD#")
		next := ListKey{ID: id, Queue: str(lek[attrQueue])}
		if !ok || !next.Valid() {
			return Page{}, errors.New("list leads: DynamoDB returned a start key that is not the index's")
		}
		p.Next = &next
	}
	return p, nil
}

func strCut(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || s[:len(prefix)] != prefix {
		return "", false
	}
	return s[len(prefix):], true
}

// LeadForStaff reads a whole lead with its version, history, notes and
// the notifier's marks, consistently (ErrNotFound if there is none).
func (s *Staff) LeadForStaff(ctx context.Context, id string) (lead.Lead, Marks, error) {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: leadKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return lead.Lead{}, Marks{}, classify("get lead "+id, err)
	}
	if out.Item == nil {
		return lead.Lead{}, Marks{}, ErrNotFound
	}
	l, err := leadFromItem(out.Item)
	if err != nil {
		return lead.Lead{}, Marks{}, err
	}
	var m Marks
	m.NotifiedAt, _ = time.Parse(timeLayout, str(out.Item[attrNotifiedAt]))
	m.ConfirmedAt, _ = time.Parse(timeLayout, str(out.Item[attrConfirmedAt]))
	return l, m, nil
}

// Audit returns a lead's audit trail, newest first, at most MaxAudit
// entries, in one Query on AuditByLead. The index is eventually
// consistent: an entry written a moment ago may be missing.
func (s *Staff) Audit(ctx context.Context, leadID string) ([]lead.AuditEntry, error) {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	out, err := s.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(indexAuditByLead),
		KeyConditionExpression:    aws.String("leadId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": sval(leadID)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(max(s.MaxAudit, 1))),
	})
	if err != nil {
		return nil, classify("read audit trail of lead "+leadID, err)
	}
	trail := make([]lead.AuditEntry, 0, len(out.Items))
	for _, item := range out.Items {
		e, err := auditFromItem(item)
		if err != nil {
			return nil, fmt.Errorf("read audit trail of lead %s: %w", leadID, err)
		}
		trail = append(trail, e)
	}
	return trail, nil
}

// RecordView writes an audit entry (a view of a lead's detail).
func (s *Staff) RecordView(ctx context.Context, e lead.AuditEntry) error {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           &s.table,
		Item:                auditItem(e, auditToken()),
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	return classify("record audit entry for lead "+e.LeadID, err)
}

// auditToken is 64 random bits for an audit entry's key.
func auditToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// Change is one staff change to a lead: a status move, a note, or both.
type Change struct {
	LeadID string
	// Seen is the version the staff member saw; From is the status the
	// move was checked against (lead.CanMove). The change applies only if
	// the lead is still at both.
	Seen int
	From lead.Status
	// To is the new status; empty for a note alone.
	To lead.Status
	// Note is the note's text; empty for a move alone.
	Note string
	// ExpiresAt, when not zero, replaces the lead's expiry (a lead rescued
	// from spam gets the normal retention back).
	ExpiresAt time.Time
	At        time.Time
	Actor     lead.Actor
	SourceIP  string
	UserAgent string
}

// Change applies c with one TransactWriteItems: the lead's update
// (conditioned on its version and status; it sets the status, bumps the
// version, appends to history and notes) and the audit entries
// (status_changed and/or note_added). It returns the new version.
//
// When the transaction is refused, nothing was written, and the error says
// why: ErrNotFound, a *StaleError (ErrStale) with the current version, or
// ErrConflict. Faults a retry may cure are lead.Unavailable.
func (s *Staff) Change(ctx context.Context, c Change) (int, error) {
	if c.To == "" && c.Note == "" {
		return 0, errors.New("change lead: neither a status nor a note")
	}
	if c.Seen < 1 {
		return 0, fmt.Errorf("change lead %s: version %d", c.LeadID, c.Seen)
	}
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()

	at := c.At.UTC()
	names := map[string]string{"#status": attrStatus}
	values := map[string]types.AttributeValue{
		":from": sval(string(c.From)),
		":seen": nval(c.Seen),
		":next": nval(c.Seen + 1),
	}
	set := "version = :next"
	cond := "attribute_exists(pk) AND #status = :from AND version = :seen"
	if c.Seen == 1 {
		cond = "attribute_exists(pk) AND #status = :from AND (version = :seen OR attribute_not_exists(version))"
	}
	var audit []lead.AuditEntry
	entry := lead.AuditEntry{LeadID: c.LeadID, At: at, Actor: c.Actor, SourceIP: c.SourceIP, UserAgent: c.UserAgent}
	if c.To != "" {
		set += ", #status = :to, history = list_append(if_not_exists(history, :empty), :history)"
		values[":to"] = sval(string(c.To))
		values[":history"] = historyList([]lead.StatusChange{{At: at, By: c.Actor, From: c.From, To: c.To}})
		e := entry
		e.Action, e.From, e.To = lead.AuditStatusChanged, c.From, c.To
		audit = append(audit, e)
	}
	if c.Note != "" {
		set += ", notes = list_append(if_not_exists(notes, :empty), :note)"
		values[":note"] = noteList([]lead.Note{{At: at, By: c.Actor, Text: c.Note}})
		e := entry
		e.Action = lead.AuditNoteAdded
		audit = append(audit, e)
	}
	values[":empty"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{}}
	if !c.ExpiresAt.IsZero() {
		set += ", expiresAt = :expires"
		values[":expires"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(c.ExpiresAt.Unix(), 10)}
	}

	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName:                 &s.table,
		Key:                       leadKey(c.LeadID),
		UpdateExpression:          aws.String("SET " + set),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}}
	for _, e := range audit {
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName:           &s.table,
			Item:                auditItem(e, auditToken()),
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}})
	}
	_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return c.Seen + 1, nil
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return 0, classify("change lead "+c.LeadID, err)
	}
	reasons := tce.CancellationReasons
	if len(reasons) == 0 || aws.ToString(reasons[0].Code) != "ConditionalCheckFailed" {
		// Another transaction on the lead at the same moment, throttling,
		// or an audit key that collided: nothing was written, and a retry
		// may succeed.
		return 0, lead.Unavailable(fmt.Errorf("change lead %s: transaction cancelled: %s", c.LeadID, reasonCodes(reasons)))
	}
	// The lead's condition failed. DynamoDB could return the item with
	// the reason, but the local emulator cannot, so read it back.
	return 0, s.whyRefused(ctx, c)
}

func reasonCodes(reasons []types.CancellationReason) string {
	s := ""
	for i, r := range reasons {
		if i > 0 {
			s += ","
		}
		s += aws.ToString(r.Code)
	}
	return "[" + s + "]"
}

// whyRefused reads the lead after its condition failed and names the
// reason.
func (s *Staff) whyRefused(ctx context.Context, c Change) error {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                &s.table,
		Key:                      leadKey(c.LeadID),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("pk, #status, version"),
		ExpressionAttributeNames: map[string]string{"#status": attrStatus},
	})
	if err != nil {
		return classify("read lead "+c.LeadID+" after a refused change", err)
	}
	if out.Item == nil {
		return ErrNotFound
	}
	v, err := version(out.Item)
	if err != nil {
		return fmt.Errorf("read lead %s after a refused change: %w", c.LeadID, err)
	}
	if v != c.Seen {
		return &StaleError{Version: v}
	}
	return ErrConflict
}
