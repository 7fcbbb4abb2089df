package notify

import (
	"strings"
	"testing"

	"github.com/clinicleads/leadpipe/internal/awsconf"
	"github.com/clinicleads/leadpipe/internal/awsconf/awsconftest"
)

// TestNewWithUnreachableAWS: the connection warm-up never fails init.
// With DynamoDB and SES endpoints that never answer, New still returns a
// handler, within the warm-up's bound (the two are warmed together), and
// logs the failure once, naming both.
func TestNewWithUnreachableAWS(t *testing.T) {
	db, ses := awsconftest.Blackhole(t), awsconftest.Blackhole(t)
	cfg, err := ConfigFromEnv(env(map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": db, "AWS_ENDPOINT_URL_SESV2": ses}))
	if err != nil {
		t.Fatal(err)
	}
	out := awsconftest.StartsDespiteFailedWarmUp(t, awsconf.WarmUpTimeout, func() error {
		h, err := New(cfg)
		if err == nil && h == nil {
			t.Error("New returned no handler and no error")
		}
		return err
	})
	for _, u := range []string{db, ses} {
		if host := strings.TrimPrefix(u, "https://"); !strings.Contains(out, host) {
			t.Errorf("the warning does not name %s:\n%s", host, out)
		}
	}
}
