package notify

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/clinicleads/leadpipe/internal/sesmail"
)

// fakeSES answers SendEmail like SES v2 does: status code, the
// x-amzn-ErrorType header and a JSON body. hang keeps the request open.
type fakeSES struct {
	*httptest.Server
	requests atomic.Int32
}

func newFakeSES(t *testing.T, status int, errorType string, hang bool) *fakeSES {
	t.Helper()
	f := &fakeSES{}
	stop := make(chan struct{})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		if hang {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusOK {
			_, _ = io.WriteString(w, `{"MessageId":"0100018e-test"}`)
			return
		}
		if errorType != "" {
			w.Header().Set("X-Amzn-ErrorType", errorType+":http://internal.amazon.com/coral/com.amazonaws.sesv2/")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"message":"Email address is not verified. The following identities failed the check in region US-EAST-1: jordan.rivera@example.com"}`)
	}))
	t.Cleanup(func() { close(stop); f.Close() })
	return f
}

var testAWS = aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")}

func noBackoff(o *retry.StandardOptions) {
	o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
}

// sesRig is a handler whose mailer is the production Sender on the
// production SES client, talking to f.
func sesRig(t *testing.T, f *fakeSES, tune ...func(*retry.StandardOptions)) *rig {
	r := newRig(t, sesmail.DetailContact, false)
	r.h.mailer = &sesmail.Sender{Client: newSESClient(testAWS, aws.String(f.URL), tune...), CallTimeout: sesCallTimeout}
	return r
}

func TestSESClientRetryer(t *testing.T) {
	c := newSESClient(testAWS, nil)
	if got := c.Options().Retryer.MaxAttempts(); got != sesMaxAttempts {
		t.Errorf("MaxAttempts = %d, want %d", got, sesMaxAttempts)
	}
	if c.Options().Retryer == newSESClient(testAWS, nil).Options().Retryer {
		t.Error("two clients share a retryer")
	}
}

func TestSESErrorsThroughTheHandler(t *testing.T) {
	for _, c := range []struct {
		name      string
		status    int
		errorType string
		requests  int32
		permanent bool
	}{
		{"MessageRejected", 400, "MessageRejected", 1, true},
		{"MailFromDomainNotVerified", 400, "MailFromDomainNotVerifiedException", 1, true},
		{"SendingPaused", 400, "SendingPausedException", 1, true},
		{"AccountSuspended", 400, "AccountSuspendedException", 1, true},
		{"TooManyRequests", 429, "TooManyRequestsException", sesMaxAttempts, false},
		{"InternalServiceError", 500, "InternalServiceErrorException", sesMaxAttempts, false},
		{"ServiceUnavailable", 503, "", sesMaxAttempts, false},
		{"BadGateway", 502, "", sesMaxAttempts, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeSES(t, c.status, c.errorType, false)
			r := sesRig(t, f, noBackoff)
			ev := loadEvent(t, "stream-insert-consultation.json")
			resp, err := r.h.Handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if got := failedSeqs(resp); !reflect.DeepEqual(got, []string{ev.Records[0].Change.SequenceNumber}) {
				t.Errorf("failed %q", got)
			}
			if got := f.requests.Load(); got != c.requests {
				t.Errorf("%d requests to SES, want %d", got, c.requests)
			}
			if c.permanent {
				assertMetric(t, r.metrics.String(), metricPermanentEmail, "consultation")
			} else if r.metrics.Len() != 0 {
				t.Errorf("retryable error counted as permanent: %s", r.metrics)
			}
			if !r.ledger.get(leadOf(t, ev.Records[0]).ID).NotifiedAt.IsZero() {
				t.Error("marked notified after a failure")
			}
		})
	}
}

// TestThrottlingWithProductionBackoff runs the retryer exactly as deployed:
// three attempts, backoff capped, well inside the call timeout.
func TestThrottlingWithProductionBackoff(t *testing.T) {
	f := newFakeSES(t, 429, "TooManyRequestsException", false)
	r := sesRig(t, f)
	start := time.Now()
	resp, _ := r.h.Handle(context.Background(), loadEvent(t, "stream-insert-contact.json"))
	if took := time.Since(start); took > 2*sesMaxBackoff+time.Second {
		t.Errorf("took %v; backoff is capped at %v", took, sesMaxBackoff)
	}
	if f.requests.Load() != sesMaxAttempts || len(resp.BatchItemFailures) != 1 {
		t.Errorf("%d requests, failed %q", f.requests.Load(), failedSeqs(resp))
	}
}

func TestHangingSESEndsByTheDeadline(t *testing.T) {
	f := newFakeSES(t, 0, "", true)
	r := sesRig(t, f, noBackoff)
	r.h.reserve = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	dl, _ := ctx.Deadline()
	ev := loadEvent(t, "stream-insert-consultation.json")
	resp, err := r.h.Handle(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if time.Now().After(dl) {
		t.Errorf("returned %v after the deadline", time.Since(dl))
	}
	if len(resp.BatchItemFailures) != 1 || r.metrics.Len() != 0 {
		t.Errorf("failed %q, metrics %s; want a retryable failure", failedSeqs(resp), r.metrics)
	}
}
