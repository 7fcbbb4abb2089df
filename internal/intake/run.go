package intake

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/clinicleads/leadpipe/internal/awsconf"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/logging"
	"github.com/clinicleads/leadpipe/internal/metrics"
	"github.com/clinicleads/leadpipe/internal/turnstile"
)

// secretTimeout bounds reading the Turnstile secret at start, within
// Lambda's 10-second init phase, retries included.
const secretTimeout = 5 * time.Second

// New builds a Handler from configuration: the DynamoDB client, validator
// and templates are made here, once per cold start, never per request.
// With TURNSTILE_SECRET_NAME it reads the Turnstile secret key from
// Secrets Manager here too, once; an error names the variable and never
// holds the key.
func New(cfg Config, newForm func() lead.Form) (*Handler, error) {
	awsCfg := cfg.AWS.Config()
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = cfg.AWS.Endpoint(dynamodb.ServiceID)
	})
	zone := cfg.TimeZone
	if zone == nil {
		zone = time.UTC
	}
	svc := &lead.Service{
		Store:         dynamo.New(dynamo.ClientAPI(db), cfg.Table),
		Validator:     lead.NewValidatorIn(zone, nil),
		Retention:     cfg.Retention,
		SpamRetention: cfg.SpamRetention,
		Now:           time.Now,
		NewID:         lead.NewID,
	}
	secret := cfg.TurnstileSecret
	if cfg.TurnstileSecretName != "" {
		ctx, cancel := context.WithTimeout(context.Background(), secretTimeout)
		defer cancel()
		var err error
		if secret, err = readSecret(ctx, cfg.AWS, cfg.TurnstileSecretName); err != nil {
			return nil, fmt.Errorf("TURNSTILE_SECRET_NAME: %w", err)
		}
	}
	if secret != "" {
		v := turnstile.New(secret, awsconf.HTTPClient())
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

// readSecret returns the text of the Secrets Manager secret name, with
// the function's own credentials (its role may read that one secret). The
// value must be the key alone, as plain text: an empty, binary or JSON
// (key/value) secret is refused, so a mistake stops the function at start
// instead of refusing every visitor. Errors never quote the value.
func readSecret(ctx context.Context, settings awsconf.Settings, name string) (string, error) {
	sm := secretsmanager.NewFromConfig(settings.Config(), func(o *secretsmanager.Options) {
		o.BaseEndpoint = settings.Endpoint(secretsmanager.ServiceID)
	})
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("read secret %q from Secrets Manager: %w", name, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("secret %q holds binary data; store the Turnstile secret key as its text (--secret-string)", name)
	}
	v := strings.TrimSpace(*out.SecretString)
	switch {
	case v == "":
		return "", fmt.Errorf("secret %q is empty; store the Turnstile secret key in it", name)
	case strings.HasPrefix(v, "{"):
		return "", fmt.Errorf("secret %q holds JSON (key/value pairs); store the Turnstile secret key alone, as plain text", name)
	}
	return v, nil
}
