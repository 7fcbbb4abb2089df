package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sesmail"
)

// A resend is the notify function's own event, sent by the operations
// command (leadctl resend, leadctl dlq replay) with a synchronous Lambda
// Invoke, so that only this function ever holds ses:SendEmail and every
// email is built in one place:
//
//	{"leadpipe":"resend","id":"<lead id>","confirmation":false,"missing":false}
//
// Without "missing" it sends the staff email (or, with "confirmation", the
// submitter's confirmation) again whatever the marks say, and records the
// new time (the bounced-then-fixed case). With "missing" it takes the
// normal path, deliver, which sends only what has no mark: the dead-letter
// queue's replay.
type ResendRequest struct {
	Leadpipe     string `json:"leadpipe"`
	ID           string `json:"id"`
	Confirmation bool   `json:"confirmation,omitempty"`
	Missing      bool   `json:"missing,omitempty"`
}

// ResendEvent is ResendRequest.Leadpipe.
const ResendEvent = "resend"

// ResendResult is the answer to a resend. Every outcome is an answer, not
// a Lambda error, so a mistyped id does not count as a failed invocation
// (and raise NotifyErrorsAlarm); Message says what happened, in terms of
// ids and SES error codes only.
type ResendResult struct {
	ID      string   `json:"id"`
	Outcome string   `json:"outcome"`
	Sent    []string `json:"sent,omitempty"` // "staff", "confirmation"
	Message string   `json:"message,omitempty"`
}

// Outcomes of a resend.
const (
	ResendSent    = "sent"            // what was asked was sent (Sent says which)
	ResendNothing = "nothing_to_send" // missing: every email of the lead has its mark
	ResendMissing = "not_found"       // no such lead
	ResendRefused = "refused"         // it must not be sent (spam, confirmations off, SES refused the message)
	ResendFailed  = "failed"          // it could not be sent now (SES or DynamoDB); try again
)

// resendStore is what a resend needs of the table besides the ledger:
// the whole lead, and marks that overwrite. *dynamo.Store, the ledger in
// production, has it.
type resendStore interface {
	Get(ctx context.Context, id string) (lead.Lead, error)
	Remark(ctx context.Context, id string, confirmation bool, at time.Time) error
}

// asResend reports whether payload is a resend request, and reads it. A
// stream batch or a scheduled event is never one; the byte check keeps
// them from being decoded twice.
func asResend(payload json.RawMessage) (ResendRequest, bool) {
	var r ResendRequest
	if !bytes.Contains(payload, []byte(`"leadpipe"`)) || json.Unmarshal(payload, &r) != nil {
		return r, false
	}
	return r, r.Leadpipe == ResendEvent
}

// Resend answers a resend request (see ResendRequest).
func (h *Handler) Resend(ctx context.Context, r ResendRequest) (ResendResult, error) {
	res := ResendResult{ID: r.ID}
	if !dynamo.IsLeadID(r.ID) {
		// Not logged: it is not an id, so it could be anything.
		res.ID, res.Outcome, res.Message = "", ResendRefused, "the id is not a lead id"
		return res, nil
	}
	log := h.log.With("requestId", requestID(ctx), "resend", true, "leadId", r.ID)
	store, ok := h.ledger.(resendStore)
	if !ok {
		return res, errors.New("resend: the handler's ledger cannot read leads") // wiring, not input
	}
	l, err := store.Get(ctx, r.ID)
	switch {
	case errors.Is(err, dynamo.ErrNotFound):
		res.Outcome, res.Message = ResendMissing, "no lead has this id (erased, or expired by its retention)"
		return res, nil
	case err != nil:
		log.Error("resend: the lead could not be read", "error", err)
		res.Outcome, res.Message = ResendFailed, "the lead could not be read; try again"
		return res, nil
	}
	log = log.With("kind", string(l.Kind))
	if l.Status == lead.StatusSpam {
		res.Outcome, res.Message = ResendRefused, "the lead is in Spam: rescue it in the staff inbox first"
		return res, nil
	}
	switch {
	case r.Missing:
		return h.resendMissing(ctx, log, l, res)
	case r.Confirmation:
		return h.resendConfirmation(ctx, log, store, l, res), nil
	}
	return h.resendStaff(ctx, log, store, l, res), nil
}

func (h *Handler) resendStaff(ctx context.Context, log *slog.Logger, store resendStore, l lead.Lead, res ResendResult) ResendResult {
	msg, err := h.emails.BuildStaff(l, h.staff[l.Kind])
	if err != nil {
		log.Error("resend: the staff email cannot be built", "error", err)
		res.Outcome, res.Message = ResendRefused, "the staff email cannot be built for this lead"
		return res
	}
	if err := h.mailer.Send(ctx, msg); err != nil {
		return sendFailed(log, res, err, "staff email")
	}
	res.Outcome, res.Sent = ResendSent, []string{"staff"}
	h.remark(ctx, log, store, l.ID, false, &res)
	return res
}

func (h *Handler) resendConfirmation(ctx context.Context, log *slog.Logger, store resendStore, l lead.Lead, res ResendResult) ResendResult {
	if !h.confirm {
		res.Outcome, res.Message = ResendRefused, "confirmations are off (SEND_CONFIRMATION)"
		return res
	}
	msg, err := h.emails.BuildConfirmation(l)
	if err != nil {
		res.Outcome, res.Message = ResendRefused, "no confirmation for this lead (its status or address does not allow one)"
		return res
	}
	if err := h.mailer.Send(ctx, msg); err != nil {
		return sendFailed(log, res, err, "confirmation")
	}
	res.Outcome, res.Sent = ResendSent, []string{"confirmation"}
	h.remark(ctx, log, store, l.ID, true, &res)
	return res
}

// sendFailed turns a failed send into the answer: refused when SES will
// never take this message, failed when a later try may succeed.
func sendFailed(log *slog.Logger, res ResendResult, err error, what string) ResendResult {
	code := sesmail.ErrorCode(err)
	log.Warn("resend: SES did not take the "+what, "error_code", code)
	res.Outcome, res.Message = ResendFailed, fmt.Sprintf("SES did not take the %s: %s", what, code)
	if sesmail.IsRefused(err) || sesmail.IsPermanent(err) {
		res.Outcome = ResendRefused
	}
	return res
}

// remark records the resend; the email went out either way, so a failed
// mark is only reported.
func (h *Handler) remark(ctx context.Context, log *slog.Logger, store resendStore, id string, confirmation bool, res *ResendResult) {
	mctx, cancel := markContext(ctx)
	defer cancel()
	if err := store.Remark(mctx, id, confirmation, h.now().UTC()); err != nil {
		log.Error("resend: sent, but the new time was not recorded", "error", err)
		res.Message = "sent, but the new time was not recorded on the lead"
		return
	}
	log.Info("resend: sent again", "confirmation", confirmation)
}

// resendMissing sends what the lead's marks say is missing, as the stream
// and the sweep would.
func (h *Handler) resendMissing(ctx context.Context, log *slog.Logger, l lead.Lead, res ResendResult) (ResendResult, error) {
	before, err := h.ledger.Marks(ctx, l.ID)
	if err != nil {
		log.Error("resend: the marks could not be read", "error", err)
		res.Outcome, res.Message = ResendFailed, "the lead's marks could not be read; try again"
		return res, nil
	}
	if err := h.deliver(ctx, log, l); err != nil {
		logFailure(ctx, log, err, "resend: delivery failed")
		res.Outcome, res.Message = ResendFailed, err.Error() // ids and SES codes only (deliver's contract)
		return res, nil
	}
	after, err := h.ledger.Marks(ctx, l.ID)
	if err != nil {
		// Delivered; only the report is short.
		after = before
	}
	if before.NotifiedAt.IsZero() && !after.NotifiedAt.IsZero() {
		res.Sent = append(res.Sent, "staff")
	}
	if before.ConfirmedAt.IsZero() && !after.ConfirmedAt.IsZero() {
		res.Sent = append(res.Sent, "confirmation")
	}
	res.Outcome = ResendSent
	if len(res.Sent) == 0 {
		res.Outcome = ResendNothing
	}
	return res, nil
}
