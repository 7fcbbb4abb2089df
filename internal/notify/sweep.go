package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/dynamo"
)

// The sweep is the safety net under the stream. A stream's dead-letter
// queue holds only pointers to failed batches, and the stream itself keeps
// records for 24 hours; a long SES outage, a paused SES account or a bad
// deploy would leave stored leads that no one was told about. So the same
// function also runs on a schedule and sends every new lead that has no
// notifiedAt mark, and, when confirmations are on, every confirmation
// that was neither sent nor refused. It waits until the stream has given
// up on a lead (MaximumRecordAgeInSeconds, 3600 s in template.yaml),
// counted from when the lead was written, so that the two never race for
// one lead, and looks back a week. RETENTION_DAYS may not be shorter
// (ConfigFromEnv).
const (
	sweepDelay  = 75 * time.Minute
	sweepWindow = 7 * 24 * time.Hour
)

// backlog lists leads still waiting for an email. *dynamo.Store has it.
type backlog interface {
	// Unsent lists new leads created from from and written before to
	// whose staff email was never marked sent or, with confirmations,
	// whose confirmation was neither sent nor refused. Items it cannot
	// read come back by key, apart.
	Unsent(ctx context.Context, from, to time.Time, confirmations bool) (dynamo.Backlog, error)
}

// SweepResult is what a sweep did, for its log line and its caller.
type SweepResult struct {
	Found      int `json:"found"`
	Failed     int `json:"failed"`
	Unreadable int `json:"unreadable"`
	// StaffSuppressed is how many staff addresses the check found on
	// SES's suppression list.
	StaffSuppressed int `json:"staffSuppressed"`
	// Overdue is how many leads still new are past their service level;
	// Escalated how many escalation emails this run sent, and
	// EscalationFailed how many it could not (escalate.go).
	Overdue          int `json:"overdue"`
	Escalated        int `json:"escalated"`
	EscalationFailed int `json:"escalationFailed"`
	// DigestSent: this run sent the daily digest (digest.go).
	DigestSent bool `json:"digestSent"`
}

// errSweepFailures makes a sweep with failures a failed invocation, so
// the NotifyErrors alarm sees it.
var errSweepFailures = errors.New("some unnotified leads could not be emailed; the next sweep retries them")

// Sweep emails staff about every new lead from the past week that the
// stream did not get through, and sends the confirmations it did not,
// using the same marks, so nothing is sent twice. A lead item it cannot
// read is skipped, logged by its key and counted, so that one bad item
// does not hold up everyone else's email. It then escalates the leads
// nobody picked up in time (escalate.go), sends the daily digest when it
// is due (digest.go), and checks the staff addresses against SES's
// suppression list (checkStaff).
func (h *Handler) Sweep(ctx context.Context) (SweepResult, error) {
	log := h.log.With("requestId", requestID(ctx), "sweep", true)
	now := h.now()
	res, err := h.sweep(ctx, log, now)
	// Escalation and the digest share one listing of the leads still new.
	// Each failure is returned (and so alarmed); none stops the others.
	if h.watch != nil {
		w, werr := h.waiting(ctx, now)
		if werr == nil {
			werr = h.escalate(ctx, log, now, w, &res)
		}
		if werr == nil || errors.Is(werr, errEscalationFailures) {
			var derr error
			res.DigestSent, derr = h.digest(ctx, log, now, w)
			werr = errors.Join(werr, derr)
		}
		err = errors.Join(err, werr)
	}
	if h.suppressions != nil {
		// Even when the listing failed: the two do not depend on each other.
		res.StaffSuppressed = h.checkStaff(ctx, log)
	}
	return res, err
}

func (h *Handler) sweep(ctx context.Context, log *slog.Logger, now time.Time) (SweepResult, error) {
	bl, err := h.backlog.Unsent(ctx, now.Add(-sweepWindow), now.Add(-sweepDelay), h.confirm)
	if err != nil {
		return SweepResult{}, fmt.Errorf("sweep: %w", err) // the Lambda runtime logs it
	}
	res := SweepResult{Found: len(bl.Leads), Unreadable: len(bl.Unreadable)}
	for _, pk := range bl.Unreadable {
		// The key only: the item's contents may be health data.
		log.Error("lead item cannot be read; skipped, the other leads are sent. Repair or remove it by its key", "pk", pk)
	}
	if res.Unreadable > 0 {
		h.countAll(metricUnreadable, res.Unreadable)
	}
	for _, l := range bl.Leads {
		llog := log.With("leadId", l.ID, "kind", string(l.Kind))
		if err := h.deliver(ctx, llog, l); err != nil {
			res.Failed++
			logFailure(ctx, llog, err, "lead failed; the next sweep retries it")
		}
	}
	if res.Found > 0 {
		log.Warn("sweep sent what the stream had not", "found", res.Found, "failed", res.Failed)
	}
	if res.Failed > 0 {
		return res, errSweepFailures
	}
	return res, nil
}

// Invoke is the Lambda entry point: a DynamoDB stream batch goes to
// Handle, a scheduled event (EventBridge) to Sweep.
func (h *Handler) Invoke(ctx context.Context, payload json.RawMessage) (any, error) {
	if r, ok := asResend(payload); ok {
		return h.Resend(ctx, r) // leadctl's resend event (resend.go)
	}
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
