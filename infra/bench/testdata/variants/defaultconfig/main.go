// Command defaultconfig is the consultation function with its aws.Config
// from config.LoadDefaultConfig instead of internal/awsconf, for the
// bench's configuration lever. The module does not require
// github.com/aws/aws-sdk-go-v2/config: the bench builds this with a
// temporary -modfile that adds it.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/clinicleads/leadpipe/internal/awsconf"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/intake"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/logging"
)

func main() {
	cfg, err := intake.ConfigFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The same retry policy as awsconf; LoadDefaultConfig honours
	// AWS_ENDPOINT_URL_DYNAMODB itself.
	awsCfg, err := config.LoadDefaultConfig(context.Background(), config.WithRetryer(awsconf.NewRetryer))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	db := dynamodb.NewFromConfig(awsCfg)
	svc := &lead.Service{
		Store:         dynamo.New(dynamo.ClientAPI(db), cfg.Table),
		Validator:     lead.NewValidator(nil),
		Retention:     cfg.Retention,
		SpamRetention: cfg.SpamRetention,
		Now:           time.Now,
		NewID:         lead.NewID,
	}
	h := &intake.Handler{Service: svc, NewForm: func() lead.Form { return new(lead.Consultation) }, ThankYouURL: cfg.ThankYouURL, Log: logging.New(cfg.LogLevel)}
	lambda.Start(h.Handle)
}
