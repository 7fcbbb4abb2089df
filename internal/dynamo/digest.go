package dynamo

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// What the daily digest reads: the leads of one day by kind, and the
// oldest lead of a status. Each is one Query on an index, reading only
// stateAttributes.

// Received lists the leads of kind created from from up to before to,
// oldest first, at most 1000, with one Query on ByKindDate.
func (s *Store) Received(ctx context.Context, kind lead.Kind, from, to time.Time) (Listing, error) {
	ctx, cancel := context.WithTimeout(ctx, 4*s.CallTimeout)
	defer cancel()
	in := &dynamodb.QueryInput{
		TableName:                &s.table,
		IndexName:                aws.String(indexByKind),
		KeyConditionExpression:   aws.String("#kind = :kind AND createdAt BETWEEN :from AND :to"),
		ExpressionAttributeNames: map[string]string{"#kind": attrKind},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":kind": sval(string(kind)),
			":from": sval(from.UTC().Format(timeLayout)),
			":to":   sval(to.UTC().Add(-time.Millisecond).Format(timeLayout)),
		},
	}
	stateProjection(in)
	return s.list(ctx, in, "list leads received")
}

// Oldest returns the oldest lead in status (false when there is none),
// with one Query on ByStatusDate. An unreadable item is passed over.
func (s *Store) Oldest(ctx context.Context, status lead.Status) (LeadState, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		IndexName:              aws.String(indexByStatus),
		KeyConditionExpression: aws.String("#status = :status"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":status": sval(string(status)),
		},
		Limit: aws.Int32(5),
	}
	stateProjection(in)
	out, err := s.api.Query(ctx, in)
	if err != nil {
		return LeadState{}, false, classify("find the oldest lead of status "+string(status), err)
	}
	for _, item := range out.Items {
		if r, err := stateFromItem(item); err == nil {
			return r, true, nil
		}
	}
	return LeadState{}, false, nil
}

// digestRetention is how long a digest's marker is kept: long after any
// run could still be working on its day.
const digestRetention = 90 * 24 * time.Hour

func digestKey(day string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: sval("DIGEST#" + day)}
}

// ClaimDigest claims the digest of day (the clinic's date it is sent on)
// for the run that calls it, with a conditional put of its marker item
// DIGEST#<day>: of runs racing for a day exactly one gets nil, the others
// ErrAlreadyMarked. A claim whose digest was never marked sent and that
// was made before staleBefore (a run that died) can be claimed again.
func (s *Store) ClaimDigest(ctx context.Context, day string, at, staleBefore time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	item := digestKey(day)
	item[attrType] = sval(typeDigest)
	item[attrClaimedAt] = sval(at.UTC().Format(timeLayout))
	item[attrExpiresAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(at.Add(digestRetention).Unix(), 10)}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table,
		Item:      item,
		ConditionExpression: aws.String("attribute_not_exists(pk) OR " +
			"(attribute_not_exists(sentAt) AND (attribute_not_exists(claimedAt) OR claimedAt < :stale))"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":stale": sval(staleBefore.UTC().Format(timeLayout)),
		},
	})
	if isConditionFailed(err) {
		return ErrAlreadyMarked
	}
	return classify("claim the digest of "+day, err)
}

// MarkDigestSent records that the digest of day went out.
func (s *Store) MarkDigestSent(ctx context.Context, day string, at time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       digestKey(day),
		UpdateExpression:          aws.String("SET sentAt = :at"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": sval(at.UTC().Format(timeLayout))},
	})
	if isConditionFailed(err) {
		return ErrNotFound
	}
	return classify("mark the digest of "+day+" sent", err)
}

// ReleaseDigest gives up the claim made at claimedAt on the digest of day,
// after it could not be sent, so the next run sends it. It changes nothing
// (ErrAlreadyMarked) when the claim is no longer that one.
func (s *Store) ReleaseDigest(ctx context.Context, day string, claimedAt time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       digestKey(day),
		UpdateExpression:          aws.String("REMOVE claimedAt"),
		ConditionExpression:       aws.String("claimedAt = :at AND attribute_not_exists(sentAt)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": sval(claimedAt.UTC().Format(timeLayout))},
	})
	if isConditionFailed(err) {
		return ErrAlreadyMarked
	}
	return classify("release the digest of "+day, err)
}
