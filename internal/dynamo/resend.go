package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Remark records that an email was sent again on request (leadctl
// resend): notifiedAt, or with confirmation confirmedAt (clearing
// confirmRefusedAt), becomes at, whatever it held. Unlike the marks of
// the first sending it overwrites: the resend is deliberate. ErrNotFound
// if the lead is gone; it never creates an item.
func (s *Store) Remark(ctx context.Context, id string, confirmation bool, at time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	update, names := "SET #m = :at", map[string]string{"#m": attrNotifiedAt}
	if confirmation {
		update = "SET #m = :at REMOVE #r"
		names["#m"], names["#r"] = attrConfirmedAt, attrConfirmRefusedAt
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       leadKey(id),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": sval(at.UTC().Format(timeLayout))},
	})
	if isConditionFailed(err) {
		return ErrNotFound
	}
	return classify("mark lead "+id+" sent again", err)
}
