// Command consultation is the Lambda behind POST /consultations: the
// consultation request. All of its logic lives in internal/intake and
// internal/lead.
package main

import (
	"fmt"
	"os"
	_ "time/tzdata" // CLINIC_TIMEZONE must load on a runtime without zoneinfo

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/clinicleads/leadpipe/internal/intake"
	"github.com/clinicleads/leadpipe/internal/lead"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, `{"level":"ERROR","msg":"start-up failed","error":%q}`+"\n", err.Error())
		os.Exit(1)
	}
}

// run reads the configuration once, builds the handler once per cold start
// and hands it to the Lambda runtime.
func run() error {
	cfg, err := intake.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	h, err := intake.New(cfg, func() lead.Form { return new(lead.Consultation) })
	if err != nil {
		return err
	}
	lambda.Start(h.Handle)
	return nil
}
