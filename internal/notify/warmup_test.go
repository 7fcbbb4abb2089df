package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/awsconf"
	"github.com/clinicleads/leadpipe/internal/awsconf/awsconftest"
)

// TestNewWithUnreachableAWS: the connection warm-up never fails init.
// With DynamoDB and SES endpoints that never answer, New still returns a
// handler, within the warm-up's bound (the two are warmed together), and
// logs the failure once.
func TestNewWithUnreachableAWS(t *testing.T) {
	db, ses := awsconftest.Blackhole(t), awsconftest.Blackhole(t)
	cfg, err := ConfigFromEnv(env(map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": db, "AWS_ENDPOINT_URL_SESV2": ses}))
	if err != nil {
		t.Fatal(err)
	}
	var h *Handler
	var took time.Duration
	out := awsconftest.Stdout(t, func() {
		start := time.Now()
		h, err = New(cfg)
		took = time.Since(start)
	})
	if err != nil || h == nil {
		t.Fatalf("New() = %v, %v; want a handler", h, err)
	}
	if took > awsconf.WarmUpTimeout+500*time.Millisecond {
		t.Errorf("New took %s with unreachable endpoints, want at most about %s", took, awsconf.WarmUpTimeout)
	}
	if n := strings.Count(out, "connection warm-up failed"); n != 1 {
		t.Errorf("logged the failed warm-up %d times, want once:\n%s", n, out)
	}
	for _, u := range []string{db, ses} {
		if host := strings.TrimPrefix(u, "https://"); !strings.Contains(out, host) {
			t.Errorf("the warning does not name %s:\n%s", host, out)
		}
	}
}
