// Command staff is the Lambda behind the staff inbox: the page at /staff,
// its sign-in settings, and the API that lists, shows and changes leads
// for signed-in staff (GET /staff/leads, GET and PATCH
// /staff/leads/{id}), auditing every view and change. The work is in
// internal/staff.
package main

import (
	"fmt"
	"os"
	_ "time/tzdata" // CLINIC_TIMEZONE must load on a runtime without zoneinfo

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/clinicleads/leadpipe/internal/staff"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, `{"level":"ERROR","msg":"start-up failed","error":%q}`+"\n", err.Error())
		os.Exit(1)
	}
}

// run reads the configuration once, builds the client once per cold start
// and hands the handler to the Lambda runtime.
func run() error {
	cfg, err := staff.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	h, err := staff.New(cfg)
	if err != nil {
		return err
	}
	lambda.Start(h.Handle)
	return nil
}
