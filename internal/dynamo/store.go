// Package dynamo stores leads in DynamoDB: conditional writes that never
// overwrite a lead, idempotency claims, the notifier's marks, and the item
// schema (item.go) shared with the stream parser (stream.go).
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// DefaultCallTimeout bounds one store operation, retries included, so a
// hanging DynamoDB still leaves intake time to answer 503.
const DefaultCallTimeout = 2 * time.Second

// Errors for the notifier's marks.
var (
	ErrAlreadyMarked = errors.New("lead already marked")
	ErrNotFound      = errors.New("lead not found")
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Store is the lead table.
type Store struct {
	api         API
	table       string
	CallTimeout time.Duration
	// Now is the clock Put records a lead's storedAt by (time.Now).
	Now func() time.Time
}

// New returns a store on table.
func New(api API, table string) *Store {
	return &Store{api: api, table: table, CallTimeout: DefaultCallTimeout, Now: time.Now}
}

// Put stores l unless a lead with its id exists (lead.ErrLeadExists),
// with the time of the write as storedAt.
func (s *Store) Put(ctx context.Context, l lead.Lead) error {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	item := leadItem(l)
	item[attrStoredAt] = sval(s.Now().UTC().Format(timeLayout))
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           &s.table,
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if isConditionFailed(err) {
		return lead.ErrLeadExists
	}
	return classify("put lead "+l.ID, err)
}

// Claim records c unless an unexpired claim holds its key, and returns the
// claim holding the key. DynamoDB's TTL deletes late, so an expired claim
// is overwritten by condition rather than trusted to be gone.
func (s *Store) Claim(ctx context.Context, c lead.Claim) (lead.Claim, error) {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	// Two rounds cover a claim that expires between our write and our read.
	for range 2 {
		_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           &s.table,
			Item:                claimItem(c),
			ConditionExpression: aws.String("attribute_not_exists(pk) OR expiresAt < :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(c.CreatedAt.Unix(), 10)},
			},
		})
		if err == nil {
			return c, nil
		}
		if !isConditionFailed(err) {
			return lead.Claim{}, classify("claim idempotency key", err)
		}
		// The local DynamoDB ignores ReturnValuesOnConditionCheckFailure, so
		// read the holder back, consistently, on every implementation.
		out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: &s.table, Key: claimKey(c.Key), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return lead.Claim{}, classify("read idempotency claim", err)
		}
		if out.Item == nil {
			continue
		}
		held, err := claimFromItem(c.Key, out.Item)
		if err != nil {
			return lead.Claim{}, fmt.Errorf("read idempotency claim: %w", err)
		}
		return held, nil
	}
	return lead.Claim{}, lead.Unavailable(errors.New("idempotency claim kept changing"))
}

// HeldClaim reads the claim holding key, consistently; false when there is
// none or it expired at now.
func (s *Store) HeldClaim(ctx context.Context, key string, now time.Time) (lead.Claim, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: claimKey(key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return lead.Claim{}, false, classify("read idempotency claim", err)
	}
	if out.Item == nil {
		return lead.Claim{}, false, nil
	}
	c, err := claimFromItem(key, out.Item)
	if err != nil {
		return lead.Claim{}, false, fmt.Errorf("read idempotency claim: %w", err)
	}
	return c, !c.ExpiresAt.Before(now), nil
}

// Marks are the notifier's records of what it has sent for a lead.
type Marks struct {
	NotifiedAt  time.Time // staff email sent
	ConfirmedAt time.Time // confirmation to the submitter sent
	// ConfirmRefusedAt: the confirmation can never be sent (see
	// MarkConfirmRefused).
	ConfirmRefusedAt time.Time
	// Status is the lead's status when the marks were read, and
	// EscalationLevel and EscalatedAt its escalation marks
	// (MarkEscalated).
	Status          lead.Status
	EscalationLevel int
	EscalatedAt     time.Time
}

// Marks reads a lead's marks with a consistent read (ErrNotFound if the lead
// is gone).
func (s *Store) Marks(ctx context.Context, id string) (Marks, error) {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                &s.table,
		Key:                      leadKey(id),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("pk, notifiedAt, confirmedAt, confirmRefusedAt, #status, escalationLevel, escalatedAt"),
		ExpressionAttributeNames: map[string]string{"#status": attrStatus}, // a reserved word
	})
	if err != nil {
		return Marks{}, classify("read marks of lead "+id, err)
	}
	if out.Item == nil {
		return Marks{}, ErrNotFound
	}
	var m Marks
	m.NotifiedAt, _ = time.Parse(timeLayout, str(out.Item[attrNotifiedAt]))
	m.ConfirmedAt, _ = time.Parse(timeLayout, str(out.Item[attrConfirmedAt]))
	m.ConfirmRefusedAt, _ = time.Parse(timeLayout, str(out.Item[attrConfirmRefusedAt]))
	m.Status = lead.Status(str(out.Item[attrStatus]))
	m.EscalationLevel, m.EscalatedAt = escalationOf(out.Item)
	return m, nil
}

// MarkNotified records that staff were emailed about lead id, once
// (ErrAlreadyMarked if it was recorded before; ErrNotFound if the lead is gone).
func (s *Store) MarkNotified(ctx context.Context, id string, at time.Time) error {
	return s.mark(ctx, id, attrNotifiedAt, at)
}

// MarkConfirmed records that the submitter's confirmation was sent, once.
func (s *Store) MarkConfirmed(ctx context.Context, id string, at time.Time) error {
	return s.mark(ctx, id, attrConfirmedAt, at)
}

// MarkConfirmRefused records, once, that the submitter's confirmation can
// never be sent (SES refused the message itself, or it cannot be built),
// so the sweep stops retrying it. It is not a confirmedAt: nobody was
// told.
func (s *Store) MarkConfirmRefused(ctx context.Context, id string, at time.Time) error {
	return s.mark(ctx, id, attrConfirmRefusedAt, at)
}

func (s *Store) mark(ctx context.Context, id, attr string, at time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      leadKey(id),
		UpdateExpression:         aws.String("SET #m = :at"),
		ConditionExpression:      aws.String("attribute_exists(pk) AND attribute_not_exists(#m)"),
		ExpressionAttributeNames: map[string]string{"#m": attr},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": sval(at.UTC().Format(timeLayout)),
		},
	})
	if isConditionFailed(err) {
		// Tell a missing lead from an existing mark.
		if _, merr := s.Marks(ctx, id); errors.Is(merr, ErrNotFound) {
			return ErrNotFound
		}
		return ErrAlreadyMarked
	}
	return classify("mark lead "+id+" "+attr, err)
}

// Get reads a whole lead (for tools and tests; intake never reads leads).
func (s *Store) Get(ctx context.Context, id string) (lead.Lead, error) {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: leadKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return lead.Lead{}, classify("get lead "+id, err)
	}
	if out.Item == nil {
		return lead.Lead{}, ErrNotFound
	}
	return leadFromItem(out.Item)
}
