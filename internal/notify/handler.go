// Package notify is the handler of the notify Lambda on the leads table's
// DynamoDB stream: it emails the clinic's staff about every new lead
// through SES, idempotently, reporting per-record failures so the stream
// retries only what failed and dead-letters what keeps failing.
package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sesmail"
	"github.com/clinicleads/leadpipe/internal/sla"
)

// ledger is where the notifier records what it has sent for a lead, so a
// redelivered stream record sends nothing twice. *dynamo.Store has it.
type ledger interface {
	// Marks reads the lead's marks with a consistent read
	// (dynamo.ErrNotFound when the lead is not in the table).
	Marks(ctx context.Context, id string) (dynamo.Marks, error)
	// MarkNotified and MarkConfirmed set a mark once, by condition
	// (dynamo.ErrAlreadyMarked when it was set before).
	MarkNotified(ctx context.Context, id string, at time.Time) error
	MarkConfirmed(ctx context.Context, id string, at time.Time) error
	// MarkConfirmRefused records, once, that the confirmation can never
	// be sent, so the sweep stops trying it.
	MarkConfirmRefused(ctx context.Context, id string, at time.Time) error
}

// mailer sends one email. *sesmail.Sender has it.
type mailer interface {
	Send(ctx context.Context, m sesmail.Message) error
}

// builder makes the emails. *sesmail.Builder has it.
type builder interface {
	BuildStaff(l lead.Lead, to []string) (sesmail.Message, error)
	BuildConfirmation(l lead.Lead) (sesmail.Message, error)
}

// Handler turns the leads table's stream into staff emails.
//
// Per record: only the INSERT of a lead with status new is notified;
// everything else (MODIFY records, which include the notifier's own marks,
// REMOVEs by TTL, idempotency claims, spam) succeeds without a word. The
// template's event filter already drops most of these; the handler does not
// rely on it.
//
// Idempotency: before sending, the lead's marks are read (consistent read);
// if notifiedAt is set nothing is sent. After a successful send notifiedAt is
// set by a conditional update, in a context of its own (markContext).
//
// DUPLICATE WINDOW: if the function crashes, times out or loses DynamoDB
// after SES accepted the staff email and before the notifiedAt mark is
// written, the stream redelivers the record and staff get the same lead a
// second time. The same holds for the confirmation and confirmedAt. This
// window (one SES call's answer plus one UpdateItem) cannot be closed
// without a transaction spanning SES and DynamoDB, which does not exist;
// the pipeline prefers a rare duplicate to a lost lead.
type Handler struct {
	backlog backlog
	ledger  ledger
	mailer  mailer
	emails  builder
	staff   map[lead.Kind][]string
	confirm bool // SEND_CONFIRMATION
	now     func() time.Time
	log     *slog.Logger
	metrics io.Writer // CloudWatch Embedded Metric Format lines (stdout)
	stack   string    // STACK_NAME: the metrics' Stack dimension
	// reserve is kept back from the invocation's deadline so the handler
	// can still return its list of failed records: work that has not
	// finished by then is reported failed and retried, not lost in a
	// timeout that would fail (and later repeat) the whole batch.
	reserve time.Duration
	// suppressions is SES's suppression list, which every sweep checks
	// staffAddresses against; nil turns the check off.
	suppressions   suppressionList
	staffAddresses []string

	// Escalation of leads nobody picked up (escalate.go) and the daily
	// digest (digest.go), both from the scheduled run.
	sla        sla.Policy
	watch      watchlist
	alerts     alertBuilder
	escalateTo []string // ESCALATION_EMAILS; empty: the lead's staff list
	onCall     []string // ONCALL_EMAIL: also gets level 2
	digests    digestStore
	digestOff  bool
	digestAt   time.Duration // after the clinic's midnight, by the wall clock
	digestTo   []string
}

// defaultReserve is Handler.reserve in production.
const defaultReserve = time.Second

// Failure reasons. Errors returned by record and deliver never quote SES's
// messages or lead content: they are logged once, where the failure is
// handled (Handle, Sweep), or returned to the Lambda runtime, which logs
// them.
var (
	errUnreadable = errors.New("stream record holds a lead that cannot be read")
	errOutOfTime  = errors.New("no time left in this invocation")
	errNoImage    = errors.New("INSERT record carries no new image: the stream must be NEW_IMAGE or NEW_AND_OLD_IMAGES")
)

// transient marks a failure that a later attempt is expected to get past
// (SES busy, the deadline near): it is logged as a warning. Every other
// failure needs a look, and is logged as an error.
type transient struct{ error }

func (e transient) Unwrap() error { return e.error }

// logFailure logs a failed record or lead once, where the failure is
// handled: then says what happens to it next; the level follows its cause.
func logFailure(ctx context.Context, log *slog.Logger, err error, then string) {
	level := slog.LevelError
	if errors.As(err, new(transient)) {
		level = slog.LevelWarn
	}
	log.Log(ctx, level, then, "error", err)
}

// Handle processes a batch and reports each failed record by its sequence
// number (ReportBatchItemFailures), so one bad record neither blocks nor
// repeats the others: Lambda retries from the lowest failed sequence
// number, and records after it that were already emailed are skipped by
// their marks.
func (h *Handler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	log := h.log.With("requestId", requestID(ctx))
	work := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		work, cancel = context.WithDeadline(ctx, dl.Add(-h.reserve))
		defer cancel()
	}
	var resp events.DynamoDBEventResponse
	for i, r := range ev.Records {
		seq := r.Change.SequenceNumber
		rlog := log.With("seq", seq)
		err := h.record(work, rlog, r)
		if err == nil {
			continue
		}
		if seq == "" {
			// Lambda knows a failed record only by its sequence number. An
			// empty identifier cannot name this record (Lambda would treat
			// the response as invalid and fail the whole batch anyway), and
			// leaving it out would drop the record silently. So fail the
			// whole batch: Lambda retries it (bisecting), and the marks keep
			// leads that were emailed from being emailed again.
			return events.DynamoDBEventResponse{}, fmt.Errorf("record %d (event %s) failed and has no sequence number to report: %w", i, r.EventID, err)
		}
		logFailure(ctx, rlog.With("eventId", r.EventID), err, "record failed; reported to the stream, which retries it and then dead-letters it")
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: seq})
	}
	if n := len(resp.BatchItemFailures); n > 0 {
		log.Warn("batch done with failed records", "records", len(ev.Records), "failed", n)
	}
	return resp, nil
}

// record handles one stream record. A nil error means done: sent, already
// sent, or nothing to send.
func (h *Handler) record(ctx context.Context, log *slog.Logger, r events.DynamoDBEventRecord) error {
	if r.EventName != string(events.DynamoDBOperationTypeInsert) {
		return nil
	}
	img := r.Change.NewImage
	if len(img) == 0 {
		// A stream without new images (KEYS_ONLY, OLD_IMAGE) would
		// otherwise skip every lead without a word.
		return errNoImage
	}
	if !dynamo.IsLeadImage(img) {
		return nil
	}
	l, err := dynamo.LeadFromImage(img)
	if err != nil {
		// Not skipped: a lead we cannot read must reach the dead-letter
		// queue, where ops can see it. The parser's errors name
		// attributes, not values.
		return fmt.Errorf("%w: %w", errUnreadable, err)
	}
	log = log.With("leadId", l.ID, "kind", string(l.Kind))
	if l.Status != lead.StatusNew {
		log.Debug("not notified", "status", string(l.Status))
		return nil
	}
	return h.deliver(ctx, log, l)
}

// deliver emails staff about l unless its mark says that was done, then
// the confirmation when it is on. The stream and the sweep share it; it
// logs what it did, and returns a failure for them to log and handle.
func (h *Handler) deliver(ctx context.Context, log *slog.Logger, l lead.Lead) error {
	if ctx.Err() != nil {
		return transient{fmt.Errorf("lead %s not processed: %w", l.ID, errOutOfTime)}
	}

	marks, err := h.ledger.Marks(ctx, l.ID)
	switch {
	case errors.Is(err, dynamo.ErrNotFound):
		// The stream says it was written, so it existed. Send anyway (a
		// lead is never dropped on a guess); marking will fail and be
		// logged, so a redelivery could repeat the email.
		log.Warn("lead not found in the table; notifying without an idempotency mark")
	case err != nil:
		return fmt.Errorf("read marks of lead %s: %w", l.ID, err)
	}

	if marks.NotifiedAt.IsZero() {
		if err := h.notifyStaff(ctx, log, l); err != nil {
			return err
		}
	} else {
		log.Info("staff already notified; nothing sent", "notifiedAt", marks.NotifiedAt)
	}

	if h.confirm && marks.ConfirmedAt.IsZero() && marks.ConfirmRefusedAt.IsZero() {
		return h.confirmSubmitter(ctx, log, l)
	}
	return nil
}

// markTimeout bounds the writing of one mark.
const markTimeout = 2 * time.Second

// markContext is the context a mark is written in. An email that went out
// must be recorded even when its send used up the invocation's time, or
// the next delivery sends it again; so the mark keeps ctx's values but not
// its cancellation or deadline, and gets markTimeout of its own. On the
// stream that can reach past the handler's reserve: if DynamoDB then
// hangs, the invocation times out and the batch is retried, which is what
// a missing mark would have caused anyway.
func markContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
}

func (h *Handler) notifyStaff(ctx context.Context, log *slog.Logger, l lead.Lead) error {
	msg, err := h.emails.BuildStaff(l, h.staff[l.Kind])
	if err != nil {
		h.count(metricPermanentEmail, l.Kind)
		return fmt.Errorf("build staff email for lead %s: %w", l.ID, err)
	}
	if err := h.mailer.Send(ctx, msg); err != nil {
		code := sesmail.ErrorCode(err)
		if sesmail.IsPermanent(err) {
			// Retrying cannot help; report it at once so it reaches the
			// dead-letter queue and the alarm instead of the retry loop.
			h.count(metricPermanentEmail, l.Kind)
			return fmt.Errorf("staff email for lead %s: SES rejected it permanently: %s", l.ID, code)
		}
		// The SDK has already retried throttling and 5xx answers.
		return transient{fmt.Errorf("staff email for lead %s: SES error %s", l.ID, code)}
	}
	// DUPLICATE WINDOW (see Handler): from here until MarkNotified returns,
	// a crash means the record is redelivered and the email sent again.
	mctx, cancel := markContext(ctx)
	defer cancel()
	switch err := h.ledger.MarkNotified(mctx, l.ID, h.now().UTC()); {
	case err == nil:
		log.Info("staff notified")
	case errors.Is(err, dynamo.ErrAlreadyMarked):
		log.Warn("staff notified; another invocation had marked the lead first, so staff may have it twice")
	default:
		// The email went out, which is what matters. Reporting failure
		// would only make the stream send it again.
		log.Error("staff notified but the mark was not written; a redelivery would send it again", "error", err)
	}
	return nil
}

// confirmSubmitter sends the confirmation. A transient failure fails the
// record, so the stream retries it; the retry skips the staff email,
// whose mark is set. A permanent failure is counted and logged, and does
// not fail the record: it must not hold up or repeat the staff email. A
// confirmation that can never be sent (SES refused the message itself,
// or it cannot be built) is marked refused; one held up by the account or
// its settings (sending paused, say) is left unmarked, and the sweep
// sends it once ops have fixed them.
func (h *Handler) confirmSubmitter(ctx context.Context, log *slog.Logger, l lead.Lead) error {
	msg, err := h.emails.BuildConfirmation(l)
	if errors.Is(err, sesmail.ErrNoConfirmation) {
		return nil
	}
	if err != nil {
		h.count(metricPermanentConfirmation, l.Kind)
		log.Warn("no confirmation: it cannot be built for this lead", "error", err)
		h.markRefused(ctx, log, l)
		return nil
	}
	if err := h.mailer.Send(ctx, msg); err != nil {
		code := sesmail.ErrorCode(err)
		switch {
		case sesmail.IsRefused(err):
			h.count(metricPermanentConfirmation, l.Kind)
			log.Warn("SES refused the confirmation; not retried", "error_code", code)
			h.markRefused(ctx, log, l)
			return nil
		case sesmail.IsPermanent(err):
			h.count(metricPermanentConfirmation, l.Kind)
			log.Warn("SES cannot send the confirmation until its account or settings are fixed; the sweep retries it", "error_code", code)
			return nil
		}
		return transient{fmt.Errorf("confirmation for lead %s (staff email done): SES error %s", l.ID, code)}
	}
	mctx, cancel := markContext(ctx)
	defer cancel()
	switch err := h.ledger.MarkConfirmed(mctx, l.ID, h.now().UTC()); {
	case err == nil:
		log.Info("confirmation sent")
	case errors.Is(err, dynamo.ErrAlreadyMarked):
		log.Warn("confirmation sent; another invocation had marked it first")
	default:
		log.Error("confirmation sent but the mark was not written; a redelivery would send it again", "error", err)
	}
	return nil
}

// markRefused records that l's confirmation can never be sent.
func (h *Handler) markRefused(ctx context.Context, log *slog.Logger, l lead.Lead) {
	mctx, cancel := markContext(ctx)
	defer cancel()
	switch err := h.ledger.MarkConfirmRefused(mctx, l.ID, h.now().UTC()); {
	case err == nil, errors.Is(err, dynamo.ErrAlreadyMarked):
	default:
		log.Error("the refused confirmation was not marked; the sweep will try it again", "error", err)
	}
}

func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}
