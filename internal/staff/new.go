package staff

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/clinicleads/leadpipe/internal/awsconf"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/logging"
)

// New builds the handler from configuration: the DynamoDB client is made
// here, once per cold start.
func New(cfg Config) (*Handler, error) {
	awsCfg := cfg.AWS.Config()
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = cfg.AWS.Endpoint(dynamodb.ServiceID)
	})
	st := dynamo.NewStaff(dynamo.StaffClientAPI(db), cfg.Table)
	log := logging.New(cfg.LogLevel)
	// Connect to DynamoDB now: init runs at full speed, the first request
	// at the function's CPU share (README, Performance).
	awsconf.WarmUp(awsCfg.HTTPClient, log, awsconf.DynamoDBWarmUp(db, cfg.Table))
	return newHandler(cfg, awsCfg.Region, st, time.Now, log), nil
}
