package intake

import (
	"testing"

	"github.com/clinicleads/leadpipe/internal/awsconf"
	"github.com/clinicleads/leadpipe/internal/awsconf/awsconftest"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// TestNewWithUnreachableDynamoDB: the connection warm-up never fails
// init. With an endpoint that never answers, New still returns a handler,
// within the warm-up's bound, and logs the failure once.
func TestNewWithUnreachableDynamoDB(t *testing.T) {
	vars := map[string]string{
		"LEADS_TABLE": "Leads", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s",
		"AWS_ENDPOINT_URL_DYNAMODB": awsconftest.Blackhole(t),
	}
	cfg, err := ConfigFromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	awsconftest.StartsDespiteFailedWarmUp(t, awsconf.WarmUpTimeout, func() error {
		h, err := New(cfg, func() lead.Form { return new(lead.Contact) })
		if err == nil && h == nil {
			t.Error("New returned no handler and no error")
		}
		return err
	})
}
