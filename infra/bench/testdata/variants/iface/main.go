// Command iface is the consultation function as it was wired before
// dynamo.ClientAPI: the *dynamodb.Client itself stored in the store's
// interface. Storing it there marks the client "used in interface"; once
// anything in the program looks a method up by a name known only at run
// time (text/template does; validator v10.30 did), the linker must keep
// every exported method of the client: all of DynamoDB's operations.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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
	db := dynamodb.NewFromConfig(cfg.AWS.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = cfg.AWS.Endpoint(dynamodb.ServiceID) })
	svc := &lead.Service{
		Store:         dynamo.New(db, cfg.Table),
		Validator:     lead.NewValidator(nil),
		Retention:     cfg.Retention,
		SpamRetention: cfg.SpamRetention,
		Now:           time.Now,
		NewID:         lead.NewID,
	}
	h := &intake.Handler{Service: svc, NewForm: func() lead.Form { return new(lead.Consultation) }, ThankYouURL: cfg.ThankYouURL, Log: logging.New(cfg.LogLevel)}
	lambda.Start(h.Handle)
}
