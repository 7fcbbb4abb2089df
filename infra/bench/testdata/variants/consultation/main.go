// Command consultation is the consultation function wired by hand, for the
// bench's one-time-work lever, measured with a whole core.
// LEADPIPE_BENCH_VARIANT picks when the work is done: eager (clients at
// init, as deployed before the connection warm-up), lazy (on the first
// request) or prewarm (at init, plus the validator's first use and the
// DynamoDB connection, close to what is deployed now: see
// internal/awsconf.WarmUp and the Lambda-like levers).
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/intake"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/logging"
)

func newForm() lead.Form { return new(lead.Consultation) }

func build(prewarm bool) (*intake.Handler, error) {
	cfg, err := intake.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	awsCfg := cfg.AWS.Config()
	endpoint := cfg.AWS.Endpoint(dynamodb.ServiceID)
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { o.BaseEndpoint = endpoint })
	svc := &lead.Service{
		Store:         dynamo.New(dynamo.ClientAPI(db), cfg.Table),
		Validator:     lead.NewValidator(nil),
		Retention:     cfg.Retention,
		SpamRetention: cfg.SpamRetention,
		Now:           time.Now,
		NewID:         lead.NewID,
	}
	if prewarm {
		// The validator caches a form type's rules on first use.
		_ = svc.Validator.Validate(newForm())
		// Open the connection (TCP and TLS) the first PutItem will reuse.
		url := "https://dynamodb." + awsCfg.Region + ".amazonaws.com/"
		if endpoint != nil {
			url = *endpoint + "/"
		}
		if c, ok := awsCfg.HTTPClient.(*http.Client); ok {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
			}
			cancel()
		}
	}
	return &intake.Handler{Service: svc, NewForm: newForm, ThankYouURL: cfg.ThankYouURL, Log: logging.New(cfg.LogLevel)}, nil
}

func main() {
	variant := os.Getenv("LEADPIPE_BENCH_VARIANT")
	if variant == "lazy" {
		var h *intake.Handler
		lambda.Start(func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			if h == nil {
				var err error
				if h, err = build(false); err != nil {
					return events.APIGatewayV2HTTPResponse{}, err
				}
			}
			return h.Handle(ctx, req)
		})
		return
	}
	h, err := build(variant == "prewarm")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
