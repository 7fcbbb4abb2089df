package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// The sweep is the safety net under the stream. A stream's dead-letter
// queue holds only pointers to failed batches, and the stream itself keeps
// records for 24 hours; a long SES outage, a paused SES account or a bad
// deploy would leave stored leads that no one was told about. So the same
// function also runs on a schedule and sends every new lead that has no
// notifiedAt mark. It waits until the stream has given up on a lead
// (MaximumRecordAgeInSeconds, 3600 s in template.yaml) so that the two
// never race for one lead, and looks back a week.
const (
	sweepDelay  = 75 * time.Minute
	sweepWindow = 7 * 24 * time.Hour
)

// backlog lists leads whose staff email was never marked sent.
// *dynamo.Store has it.
type backlog interface {
	Unnotified(ctx context.Context, from, to time.Time) ([]lead.Lead, error)
}

// SweepResult is what a sweep did, for its log line and its caller.
type SweepResult struct {
	Found  int `json:"found"`
	Failed int `json:"failed"`
}

// errSweepFailures makes a sweep with failures a failed invocation, so
// the NotifyErrors alarm sees it.
var errSweepFailures = errors.New("some unnotified leads could not be emailed; the next sweep retries them")

// Sweep emails staff about every new lead from the past week that the
// stream did not get through, using the same marks, so nothing is sent
// twice.
func (h *Handler) Sweep(ctx context.Context) (SweepResult, error) {
	log := h.log.With("requestId", requestID(ctx), "sweep", true)
	now := h.now()
	leads, err := h.backlog.Unnotified(ctx, now.Add(-sweepWindow), now.Add(-sweepDelay))
	if err != nil {
		return SweepResult{}, fmt.Errorf("sweep: %w", err) // the Lambda runtime logs it
	}
	res := SweepResult{Found: len(leads)}
	for _, l := range leads {
		llog := log.With("leadId", l.ID, "kind", string(l.Kind))
		if err := h.deliver(ctx, llog, l); err != nil {
			res.Failed++
			logFailure(ctx, llog, err, "lead failed; the next sweep retries it")
		}
	}
	if res.Found > 0 {
		log.Warn("sweep sent leads the stream had not", "found", res.Found, "failed", res.Failed)
	}
	if res.Failed > 0 {
		return res, errSweepFailures
	}
	return res, nil
}

// Invoke is the Lambda entry point: a DynamoDB stream batch goes to
// Handle, a scheduled event (EventBridge) to Sweep.
func (h *Handler) Invoke(ctx context.Context, payload json.RawMessage) (any, error) {
	var probe struct {
		Records json.RawMessage `json:"Records"`
		Source  string          `json:"source"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, fmt.Errorf("event is not JSON: %w", err)
	}
	switch {
	case probe.Records != nil:
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("stream event: %w", err)
		}
		return h.Handle(ctx, ev)
	case probe.Source == "aws.events" || probe.Source == "aws.scheduler":
		return h.Sweep(ctx)
	}
	return nil, errors.New("unknown event: want a DynamoDB stream batch or a scheduled event")
}
