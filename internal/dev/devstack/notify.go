package devstack

import (
	"github.com/clinicleads/leadpipe/internal/dev/localstream"
	"github.com/clinicleads/leadpipe/internal/notify"
)

// NewNotifier builds the notify function's handler, in process, from the
// function's environment (getenv answers the variables template.yaml sets
// on NotifyFunction). It is called while the process environment points
// the AWS SDK at the emulators (AWS_REGION, dummy credentials,
// AWS_ENDPOINT_URL_DYNAMODB at the stream proxy, AWS_ENDPOINT_URL_SESV2 at
// aws-ses-v2-local), so a constructor that reads them with awsconf.FromEnv
// and awsconf.Endpoint, as the Lambda's main does, works unchanged.
type NewNotifier func(getenv func(string) string) (localstream.Deliver, error)

// newNotifier is the default NewNotifier: the notify function's own code,
// built as functions/notify's main builds it.
func newNotifier(getenv func(string) string) (localstream.Deliver, error) {
	cfg, err := notify.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	h, err := notify.New(cfg)
	if err != nil {
		return nil, err
	}
	return h.Handle, nil
}
