package dynamo

import (
	"errors"
	"fmt"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/clinicleads/leadpipe/internal/lead"
)

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// classify sorts a failed call into the two outcomes intake can report:
// unavailable (throttling, 5xx, timeouts, refused or reset connections: a
// retry may succeed, so the website is told 503) and everything else (a
// request DynamoDB rejects as wrong: a bug or a misconfiguration, 500).
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("%s: %w", op, err)
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"InternalServerError", "ServiceUnavailable", "TransactionConflictException", "LimitExceededException":
			return lead.Unavailable(err)
		}
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 400 && respErr.HTTPStatusCode() < 500 {
		return err
	}
	return lead.Unavailable(err)
}
