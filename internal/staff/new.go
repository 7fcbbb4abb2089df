package staff

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/clinicleads/leadpipe/internal/awsconf"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/logging"
)

// New builds the handler from configuration: the DynamoDB client is made
// here, once per cold start.
func New(cfg Config) (*Handler, error) {
	awsCfg, endpoint, err := awsSettings()
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { o.BaseEndpoint = endpoint })
	st := dynamo.NewStaff(dynamo.StaffClientAPI(db), cfg.Table)
	return newHandler(cfg, awsCfg.Region, st, time.Now, logging.New(cfg.LogLevel)), nil
}

// awsSettings is the one place the staff function reads the AWS settings
// (region, credentials, the DynamoDB endpoint override) from the
// environment.
func awsSettings() (aws.Config, *string, error) {
	cfg, err := awsconf.FromEnv()
	if err != nil {
		return aws.Config{}, nil, err
	}
	return cfg, awsconf.Endpoint("DynamoDB"), nil
}
