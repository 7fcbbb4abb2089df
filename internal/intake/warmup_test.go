package intake

import (
	"strings"
	"testing"
	"time"

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
	var h *Handler
	var took time.Duration
	out := awsconftest.Stdout(t, func() {
		start := time.Now()
		h, err = New(cfg, func() lead.Form { return new(lead.Contact) })
		took = time.Since(start)
	})
	if err != nil || h == nil {
		t.Fatalf("New() = %v, %v; want a handler", h, err)
	}
	if took > awsconf.WarmUpTimeout+500*time.Millisecond {
		t.Errorf("New took %s with an unreachable endpoint, want at most about %s", took, awsconf.WarmUpTimeout)
	}
	if n := strings.Count(out, "connection warm-up failed"); n != 1 {
		t.Errorf("logged the failed warm-up %d times, want once:\n%s", n, out)
	}
}
