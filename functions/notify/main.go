// Command notify is the Lambda on the leads table's DynamoDB stream: it
// emails the clinic's staff about every new lead through Amazon SES, and
// optionally sends the submitter a confirmation. The intake functions only
// store leads, so a lead is saved before anything can fail on its way to
// staff; what still fails here is retried by the stream and then lands in
// the dead-letter queue. The work is in internal/notify.
package main

import (
	"fmt"
	"os"
	_ "time/tzdata" // CLINIC_TIMEZONE must load on a runtime without zoneinfo

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/clinicleads/leadpipe/internal/notify"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, `{"level":"ERROR","msg":"start-up failed","error":%q}`+"\n", err.Error())
		os.Exit(1)
	}
}

// run reads the configuration once, builds the clients once per cold start
// and hands the handler to the Lambda runtime.
func run() error {
	cfg, err := notify.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	h, err := notify.New(cfg)
	if err != nil {
		return err
	}
	lambda.Start(h.Invoke) // stream batches, and the scheduled sweep
	return nil
}
