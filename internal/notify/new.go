package notify

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/clinicleads/leadpipe/internal/awsconf"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/logging"
	"github.com/clinicleads/leadpipe/internal/sesmail"
)

// SES retry policy: the SDK's standard retryer retries throttling and 5xx
// answers, at most sesMaxAttempts attempts in all with backoff capped at
// sesMaxBackoff, all inside sesCallTimeout (and the invocation's deadline).
// Anything it gives up on is left to the stream's retries.
const (
	sesMaxAttempts = 3
	sesMaxBackoff  = 2 * time.Second
	sesCallTimeout = 10 * time.Second
)

// New builds the handler from configuration: clients and compiled templates
// are made here, once per cold start.
func New(cfg Config) (*Handler, error) {
	emails, err := sesmail.NewBuilder(sesmail.Config{
		Sender:     cfg.Sender,
		Clinic:     cfg.Clinic,
		Detail:     cfg.Detail,
		TimeZone:   cfg.TimeZone,
		LeadsTable: cfg.Table,
		InboxURL:   cfg.InboxURL,
	})
	if err != nil {
		return nil, fmt.Errorf("email settings (SENDER_EMAIL, CLINIC_*): %w", err)
	}
	awsCfg := cfg.AWS.Config()
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = cfg.AWS.Endpoint(dynamodb.ServiceID)
	})
	store := dynamo.New(dynamo.ClientAPI(db), cfg.Table)
	ses := newSESClient(awsCfg, cfg.AWS.Endpoint(sesv2.ServiceID))
	log := logging.New(cfg.LogLevel)
	// Connect to DynamoDB and SES now: init runs at full speed, the first
	// record at the function's CPU share (README, Performance).
	awsconf.WarmUp(awsCfg.HTTPClient, log, awsconf.DynamoDBWarmUp(db, cfg.Table), sesWarmUp(ses))
	h := &Handler{
		ledger:  store,
		backlog: store,
		mailer: &sesmail.Sender{
			Client:                sesmail.SendEmailFunc(ses.SendEmail),
			ConfigurationSet:      cfg.ConfigurationSet,
			StaffConfigurationSet: cfg.StaffConfigurationSet,
			CallTimeout:           sesCallTimeout,
		},
		emails:  emails,
		staff:   map[lead.Kind][]string{lead.KindContact: cfg.ContactStaff, lead.KindConsultation: cfg.ConsultationStaff},
		confirm: cfg.SendConfirmation,
		now:     time.Now,
		log:     log,
		metrics: os.Stdout,
		stack:   cfg.Stack,
		reserve: defaultReserve,
		suppressions: &sesmail.SuppressionList{
			Client:      sesmail.GetSuppressedDestinationFunc(ses.GetSuppressedDestination),
			CallTimeout: sesCallTimeout,
		},
		staffAddresses: cfg.Staff,
		sla:            cfg.SLA,
		watch:          store,
		alerts:         emails,
		escalateTo:     cfg.Escalation,
		onCall:         cfg.OnCall,
		digests:        store,
		digestOff:      cfg.DigestOff,
		digestAt:       cfg.DigestTime,
		digestTo:       cfg.Digest,
	}
	if cfg.SkipSuppressionCheck {
		h.suppressions = nil
	}
	if cfg.TimeZone == nil {
		// Allowed (UTC), but rarely what a clinic means by 09:00.
		h.log.Warn("CLINIC_TIMEZONE is not set: BUSINESS_HOURS, CLOSED_DATES and DIGEST_TIME are read in UTC")
	}
	return h, nil
}

// newSESClient returns the SES v2 client with its own bounded standard
// retryer (a retryer holds a retry-token bucket, so each client gets a new
// one). endpoint overrides AWS's endpoint when not nil. tune adjusts the
// retryer (tests take the backoff out).
func newSESClient(cfg aws.Config, endpoint *string, tune ...func(*retry.StandardOptions)) *sesv2.Client {
	return sesv2.NewFromConfig(cfg, func(o *sesv2.Options) {
		o.BaseEndpoint = endpoint
		o.Retryer = retry.NewStandard(append([]func(*retry.StandardOptions){func(so *retry.StandardOptions) {
			so.MaxAttempts = sesMaxAttempts
			so.MaxBackoff = sesMaxBackoff
		}}, tune...)...)
	})
}

// sesWarmUp is the warm-up call for the SES client: a suppression-list
// lookup of an address that cannot exist, harmless if it were ever sent.
func sesWarmUp(ses *sesv2.Client) awsconf.WarmUpCall {
	return func(ctx context.Context, via aws.HTTPClient) error {
		_, err := ses.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("warm-up@example.invalid")},
			func(o *sesv2.Options) { o.HTTPClient = via })
		return err
	}
}
