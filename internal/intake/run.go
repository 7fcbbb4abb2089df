package intake

import (
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/clinicleads/leadpipe/internal/awsconf"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/logging"
	"github.com/clinicleads/leadpipe/internal/metrics"
	"github.com/clinicleads/leadpipe/internal/turnstile"
)

// New builds a Handler from configuration: the DynamoDB client, validator
// and templates are made here, once per cold start, never per request.
func New(cfg Config, newForm func() lead.Form) (*Handler, error) {
	awsCfg := cfg.AWS.Config()
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = cfg.AWS.Endpoint(dynamodb.ServiceID)
	})
	svc := &lead.Service{
		Store:         dynamo.New(dynamo.ClientAPI(db), cfg.Table),
		Validator:     lead.NewValidator(nil),
		Retention:     cfg.Retention,
		SpamRetention: cfg.SpamRetention,
		Now:           time.Now,
		NewID:         lead.NewID,
	}
	if cfg.TurnstileSecret != "" {
		v := turnstile.New(cfg.TurnstileSecret, awsconf.HTTPClient())
		if cfg.TurnstileVerifyURL != "" {
			v.URL = cfg.TurnstileVerifyURL
		}
		v.Hostnames, v.Action = cfg.TurnstileHostnames, cfg.TurnstileAction
		svc.Verifier = v
	}
	log := logging.New(cfg.LogLevel)
	// Connect to DynamoDB now: init runs at full speed, the first lead at
	// the function's CPU share (README, Performance).
	awsconf.WarmUp(awsCfg.HTTPClient, log, awsconf.DynamoDBWarmUp(db, cfg.Table))
	return &Handler{Service: svc, NewForm: newForm, ThankYouURL: cfg.ThankYouURL, Log: log,
		Metrics: &metrics.Counter{W: os.Stdout, Stack: cfg.Stack, Log: log}}, nil
}
