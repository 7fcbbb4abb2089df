package dynamo

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// ErrPickedUp: the lead is no longer new, so it is not escalated.
var ErrPickedUp = errors.New("lead is no longer new")

// maxListing bounds one listing of leads.
const maxListing = 1000

// LeadState is a lead as escalation and the digest see it: its list row
// (without names) and its escalation marks.
type LeadState struct {
	LeadRow
	// EscalationLevel is the highest level emailed (0: none), at
	// EscalatedAt.
	EscalationLevel int
	EscalatedAt     time.Time
}

// Listing is what Waiting and Received found.
type Listing struct {
	// Leads in the listing's order.
	Leads []LeadState
	// Unreadable are the keys of items that could not be read (see
	// Backlog.Unreadable); the sweep reports them.
	Unreadable []string
	// More: the listing stopped at its bound (1000 leads) and left the
	// rest out.
	More bool
}

// stateAttributes are what the waiting and digest listings read of a
// lead: what identifies it and its marks, never a name, an answer or a
// way to reach the person.
var stateAttributes = []string{attrPK, attrID, attrKind, attrStatus, attrCreatedAt, "inCrisis", attrNotifiedAt,
	attrVersion, attrEscalationLevel, attrEscalatedAt}

// stateProjection sets in to read stateAttributes only. Every name goes
// through an alias, so none can collide with a reserved word; status is
// #status, as in the key conditions.
func stateProjection(in *dynamodb.QueryInput) {
	if in.ExpressionAttributeNames == nil {
		in.ExpressionAttributeNames = map[string]string{}
	}
	list := ""
	for i, a := range stateAttributes {
		alias := "#p" + strconv.Itoa(i)
		if a == attrStatus {
			alias = "#status"
		}
		in.ExpressionAttributeNames[alias] = a
		if i > 0 {
			list += ", "
		}
		list += alias
	}
	in.ProjectionExpression = aws.String(list)
}

// Waiting lists the leads still new that were created from from to to
// (both included), newest first, at most 1000, with one Query on
// ByStatusDate. The index is eventually consistent: MarkEscalated checks
// the status again.
func (s *Store) Waiting(ctx context.Context, from, to time.Time) (Listing, error) {
	ctx, cancel := context.WithTimeout(ctx, 4*s.CallTimeout)
	defer cancel()
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		IndexName:              aws.String(indexByStatus),
		KeyConditionExpression: aws.String("#status = :new AND createdAt BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":new":  sval(string(lead.StatusNew)),
			":from": sval(from.UTC().Format(timeLayout)),
			":to":   sval(to.UTC().Format(timeLayout)),
		},
		ScanIndexForward: aws.Bool(false), // the newest first: a bound leaves out the oldest
	}
	stateProjection(in)
	return s.list(ctx, in, "list leads still new")
}

// list runs a listing query of lead rows.
func (s *Store) list(ctx context.Context, in *dynamodb.QueryInput, op string) (Listing, error) {
	var l Listing
	more, err := s.query(ctx, in, maxListing, func(item map[string]types.AttributeValue) {
		r, err := stateFromItem(item)
		if err != nil {
			l.Unreadable = append(l.Unreadable, str(item[attrPK]))
			return
		}
		l.Leads = append(l.Leads, r)
	})
	if err != nil {
		return Listing{}, classify(op, err)
	}
	l.More = more
	return l, nil
}

func stateFromItem(item map[string]types.AttributeValue) (LeadState, error) {
	r, err := rowFromItem(item)
	if err != nil {
		return LeadState{}, err
	}
	w := LeadState{LeadRow: r}
	w.EscalationLevel, w.EscalatedAt = escalationOf(item)
	return w, nil
}

// escalationOf reads a lead's escalation marks; absent or unreadable
// marks read as none.
func escalationOf(item map[string]types.AttributeValue) (int, time.Time) {
	n, ok := item[attrEscalationLevel].(*types.AttributeValueMemberN)
	if !ok {
		return 0, time.Time{}
	}
	level, _ := strconv.Atoi(n.Value)
	at, _ := time.Parse(timeLayout, str(item[attrEscalatedAt]))
	return level, at
}

// MarkEscalated records that lead id is being escalated to level at at,
// by a conditional update that holds only while the lead exists, is still
// new and has not reached level: of two runs racing for one lead and
// level, exactly one gets nil. It fails with ErrNotFound, ErrPickedUp
// (the lead is no longer new) or ErrAlreadyMarked (the level was reached
// before). It leaves the version alone, so a staff member's change made
// meanwhile is not refused as stale.
func (s *Store) MarkEscalated(ctx context.Context, id string, level int, at time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &s.table,
		Key:              leadKey(id),
		UpdateExpression: aws.String("SET escalationLevel = :level, escalatedAt = :at"),
		ConditionExpression: aws.String("attribute_exists(pk) AND #status = :new AND " +
			"(attribute_not_exists(escalationLevel) OR escalationLevel < :level)"),
		ExpressionAttributeNames: map[string]string{"#status": attrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":level": nval(level),
			":at":    sval(at.UTC().Format(timeLayout)),
			":new":   sval(string(lead.StatusNew)),
		},
	})
	if !isConditionFailed(err) {
		return classify("mark lead "+id+" escalated", err)
	}
	// The local DynamoDB cannot return the item with the failure: read it.
	m, merr := s.Marks(ctx, id)
	switch {
	case errors.Is(merr, ErrNotFound):
		return ErrNotFound
	case merr != nil:
		return merr
	case m.Status != lead.StatusNew:
		return ErrPickedUp
	}
	return ErrAlreadyMarked
}

// UnmarkEscalated undoes MarkEscalated(id, level, at) after its email could
// not be sent, so the next run tries again: the marks go back to prev (0:
// none) at prevAt. It changes nothing (ErrAlreadyMarked) when the marks
// are no longer the ones it would undo.
func (s *Store) UnmarkEscalated(ctx context.Context, id string, level int, at time.Time, prev int, prevAt time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	values := map[string]types.AttributeValue{
		":level": nval(level),
		":at":    sval(at.UTC().Format(timeLayout)),
	}
	update := "REMOVE escalationLevel, escalatedAt"
	if prev > 0 {
		update = "SET escalationLevel = :prev, escalatedAt = :prevAt"
		values[":prev"] = nval(prev)
		values[":prevAt"] = sval(prevAt.UTC().Format(timeLayout))
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       leadKey(id),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("escalationLevel = :level AND escalatedAt = :at"),
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		return ErrAlreadyMarked
	}
	return classify("unmark lead "+id+" escalated", err)
}
