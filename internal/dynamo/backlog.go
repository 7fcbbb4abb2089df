package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// maxUnsent bounds one sweep's listing; the next sweep takes the rest.
const maxUnsent = 500

// Backlog is what Unsent found.
type Backlog struct {
	// Leads wait for an email, oldest first.
	Leads []lead.Lead
	// Unreadable are the keys (pk) of lead items in the window that could
	// not be parsed. They are skipped so that the others are still
	// delivered; the caller reports them. Only the key is given: an
	// unreadable item's contents are never read out.
	Unreadable []string
}

// Filters of Unsent. A lead written before storedAt existed has only its
// createdAt, which the key condition already holds to the window.
const (
	storedBefore = "(attribute_not_exists(" + attrStoredAt + ") OR " + attrStoredAt + " < :before)"
	unnotified   = "attribute_not_exists(" + attrNotifiedAt + ")"
	unconfirmed  = "(attribute_not_exists(" + attrConfirmedAt + ") AND attribute_not_exists(" + attrConfirmRefusedAt + "))"
)

// Unsent lists the new leads, created at or after from and written (storedAt)
// before to, whose staff email was never marked sent; with confirmations,
// also those whose confirmation was neither marked sent nor refused. At
// most 500 leads and unreadable items together.
//
// A lead's createdAt is its idempotency claim's time: a keyed retry can
// write the lead up to a day after it. Going by the write time keeps such
// a lead out of the sweep until the stream has had its turn with it.
//
// The index is eventually consistent: callers check Marks before sending.
// ByStatusDate projects no answers, so the index gives only keys: each
// lead is read whole from the table (GetItem, ConsistentRead) and an
// index item is never taken for a lead. A lead gone by then (erased) is
// left out. On an error it returns nothing: a partial list would look
// like the whole backlog.
func (s *Store) Unsent(ctx context.Context, from, to time.Time, confirmations bool) (Backlog, error) {
	keys, err := s.unsentKeys(ctx, from, to, confirmations)
	if err != nil {
		return Backlog{}, err
	}
	var b Backlog
	for _, pk := range keys {
		item, err := s.getItem(ctx, pk)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return Backlog{}, err
		}
		l, err := leadFromItem(item)
		if err != nil {
			// One bad item must not hold up everyone else's email.
			b.Unreadable = append(b.Unreadable, pk)
			continue
		}
		b.Leads = append(b.Leads, l)
	}
	return b, nil
}

// unsentKeys is Unsent's Query: the keys (pk) of the leads waiting, oldest
// first, at most maxUnsent.
func (s *Store) unsentKeys(ctx context.Context, from, to time.Time, confirmations bool) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 4*s.CallTimeout)
	defer cancel()
	waiting := unnotified
	if confirmations {
		waiting = "(" + unnotified + " OR " + unconfirmed + ")"
	}
	// storedAt is never before createdAt, so the key condition's upper
	// bound (createdAt before to) only narrows what is read.
	in := &dynamodb.QueryInput{
		TableName:                &s.table,
		IndexName:                aws.String(indexByStatus),
		KeyConditionExpression:   aws.String("#status = :new AND " + attrCreatedAt + " BETWEEN :from AND :to"),
		FilterExpression:         aws.String(storedBefore + " AND " + waiting),
		ProjectionExpression:     aws.String(attrPK),
		ExpressionAttributeNames: map[string]string{"#status": attrStatus}, // a reserved word
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":new":    sval(string(lead.StatusNew)),
			":from":   sval(from.UTC().Format(timeLayout)),
			":to":     sval(to.UTC().Add(-time.Millisecond).Format(timeLayout)),
			":before": sval(to.UTC().Format(timeLayout)),
		},
	}
	var keys []string
	_, err := s.query(ctx, in, maxUnsent, func(item map[string]types.AttributeValue) {
		keys = append(keys, str(item[attrPK]))
	})
	if err != nil {
		return nil, classify("list leads waiting for email", err)
	}
	return keys, nil
}

// getItem reads the whole item pk from the table, strongly consistent,
// in a CallTimeout of its own (ErrNotFound if there is none).
func (s *Store) getItem(ctx context.Context, pk string) (map[string]types.AttributeValue, error) {
	return getWhole(ctx, s.api, s.table, s.CallTimeout, pk)
}

// getWhole reads item pk whole from table with a consistent read: what
// sends or exports a lead reads it here, never from an index, whose
// projection leaves the answers out.
func getWhole(ctx context.Context, api interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}, table string, timeout time.Duration, pk string) (map[string]types.AttributeValue, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &table, Key: map[string]types.AttributeValue{attrPK: sval(pk)}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, classify("read lead item "+pk, err)
	}
	if out.Item == nil {
		return nil, ErrNotFound
	}
	return out.Item, nil
}

// query runs in page by page, handing each item to each, until the query
// is done or max items were handed over. It reports whether it stopped
// at max with more to read. It is one Query, paginated; the error is the
// SDK's, for the caller to classify.
func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, max int, each func(map[string]types.AttributeValue)) (more bool, err error) {
	n := 0
	for {
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return false, err
		}
		for _, item := range out.Items {
			each(item)
			n++
		}
		if len(out.LastEvaluatedKey) == 0 {
			return false, nil
		}
		if n >= max {
			return true, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
