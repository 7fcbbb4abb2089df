package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sesmail"
	"github.com/clinicleads/leadpipe/internal/sla"
)

// Escalation: the scheduled run lists the leads still new (one Query on
// the status index, shared with the digest) and asks the service levels
// (package sla) which of them are overdue. A lead that reached a level it
// was not escalated to gets one email for that level: to ESCALATION_EMAILS
// (else its staff list) at level 1, and to them and ONCALL_EMAIL at level
// 2 (twice the service level). A lead found at level 2 that never had
// level 1 (the runs were down, say) gets level 2 only.
//
// Once per lead and level, across overlapping runs: the level is marked
// on the lead first (dynamo.Store.MarkEscalated, a conditional write that
// also requires the status to be new), and only the run whose mark
// succeeded sends. Then the status is read again, consistently, and a lead
// picked up meanwhile is not sent. If the email cannot be sent, the mark
// is undone, so the next run tries again. A crash between the mark and
// the send loses that level's email (never a duplicate); the second level
// and the LeadsOverdue alarm still come.

// watchlist is the leads table as escalation uses it. *dynamo.Store has it.
type watchlist interface {
	// Waiting lists the leads still new created from from to to, newest
	// first.
	Waiting(ctx context.Context, from, to time.Time) (dynamo.Listing, error)
	// MarkEscalated sets a lead's level by condition (dynamo.ErrAlreadyMarked,
	// dynamo.ErrPickedUp, dynamo.ErrNotFound when refused).
	MarkEscalated(ctx context.Context, id string, level int, at time.Time) error
	// UnmarkEscalated undoes a mark whose email did not go out.
	UnmarkEscalated(ctx context.Context, id string, level int, at time.Time, prev int, prevAt time.Time) error
}

// alertBuilder makes the escalation and digest emails. *sesmail.Builder has it.
type alertBuilder interface {
	BuildEscalation(o sesmail.Overdue, to []string) (sesmail.Message, error)
	BuildDigest(d sesmail.Digest, to []string) (sesmail.Message, error)
}

// errEscalationFailures makes a run whose escalations failed a failed
// invocation, for the NotifyErrors alarm.
var errEscalationFailures = errors.New("some overdue leads could not be escalated; the next run retries them")

// waiting lists the leads still new at now: all of them, the newest 1000
// when there are more.
func (h *Handler) waiting(ctx context.Context, now time.Time) (dynamo.Listing, error) {
	w, err := h.watch.Waiting(ctx, time.Time{}, now)
	if err != nil {
		return dynamo.Listing{}, fmt.Errorf("list leads still new: %w", err)
	}
	return w, nil
}

// escalate escalates every lead of w that reached a level it was not
// escalated to, publishes LeadsOverdue, and fills in res.
func (h *Handler) escalate(ctx context.Context, log *slog.Logger, now time.Time, w dynamo.Listing, res *SweepResult) error {
	for _, pk := range w.Unreadable {
		// The sweep reports unreadable leads of its own window; these may
		// be older, so they are logged here too (by key only).
		log.Warn("lead item cannot be read; not checked for escalation", "pk", pk)
	}
	for _, l := range w.Leads {
		if l.Status != lead.StatusNew {
			continue // the index lagged behind a change
		}
		level := h.sla.Level(l.CreatedAt, now, l.InCrisis)
		if level >= 1 {
			res.Overdue++
		}
		if level <= l.EscalationLevel {
			continue
		}
		llog := log.With("leadId", l.ID, "kind", string(l.Kind), "level", level)
		sent, err := h.escalateLead(ctx, llog, now, l, level)
		switch {
		case err != nil:
			res.EscalationFailed++
			logFailure(ctx, llog, err, "escalation failed; the next run retries it")
		case sent:
			res.Escalated++
		}
	}
	// A gauge: every run says how many leads are overdue now, 0 included,
	// so its alarm clears once they are picked up.
	h.countAll(metricLeadsOverdue, res.Overdue)
	if w.More {
		log.Warn("more leads are new than one run lists; the oldest were not checked", "listed", len(w.Leads))
	}
	if res.EscalationFailed > 0 {
		return errEscalationFailures
	}
	return nil
}

// escalateLead marks l escalated to level and emails it; false, nil when
// another run had it or it was picked up.
func (h *Handler) escalateLead(ctx context.Context, log *slog.Logger, now time.Time, l dynamo.LeadState, level int) (bool, error) {
	if ctx.Err() != nil {
		return false, transient{fmt.Errorf("lead %s not escalated: %w", l.ID, errOutOfTime)}
	}
	at := now.UTC()
	switch err := h.watch.MarkEscalated(ctx, l.ID, level, at); {
	case errors.Is(err, dynamo.ErrAlreadyMarked):
		log.Debug("another run escalated the lead to this level")
		return false, nil
	case errors.Is(err, dynamo.ErrPickedUp), errors.Is(err, dynamo.ErrNotFound):
		log.Info("lead picked up (or gone) before its escalation")
		return false, nil
	case err != nil:
		return false, fmt.Errorf("mark lead %s escalated: %w", l.ID, err)
	}
	// The mark required status new; read it again (consistently) right
	// before sending, so a lead picked up this moment is left alone.
	switch m, err := h.ledger.Marks(ctx, l.ID); {
	case err == nil && m.Status != lead.StatusNew:
		log.Info("lead picked up while being escalated; nothing sent", "status", string(m.Status))
		return false, nil
	case err != nil:
		// The condition held a moment ago: sending beats staying silent.
		log.Warn("status not read again before the escalation; sending on the mark's check", "error", err)
	}
	o := sesmail.Overdue{
		ID: l.ID, Kind: l.Kind, InCrisis: l.InCrisis, ReceivedAt: l.CreatedAt, Level: level,
		Wait: sla.Wait(l.CreatedAt, now), Due: h.sla.Due(l.CreatedAt, l.InCrisis, level), ServiceLevel: h.sla.Describe(l.InCrisis),
	}
	msg, err := h.alerts.BuildEscalation(o, h.escalationTo(l.Kind, level))
	if err == nil {
		err = h.mailer.Send(ctx, msg)
	}
	if err != nil {
		h.unmark(ctx, log, l, level, at)
		if sesmail.IsPermanent(err) {
			return false, fmt.Errorf("escalation of lead %s: %s", l.ID, sesmail.ErrorCode(err))
		}
		return false, transient{fmt.Errorf("escalation of lead %s: SES error %s", l.ID, sesmail.ErrorCode(err))}
	}
	log.Warn("lead escalated: still new past its service level", "crisis", l.InCrisis)
	return true, nil
}

// unmark undoes an escalation mark whose email did not go out.
func (h *Handler) unmark(ctx context.Context, log *slog.Logger, l dynamo.LeadState, level int, at time.Time) {
	mctx, cancel := markContext(ctx)
	defer cancel()
	if err := h.watch.UnmarkEscalated(mctx, l.ID, level, at, l.EscalationLevel, l.EscalatedAt); err != nil {
		log.Error("escalation not sent and its mark not undone: this level will not be sent again", "error", err)
	}
}

// escalationTo is who gets level of an escalation of a lead of kind.
func (h *Handler) escalationTo(kind lead.Kind, level int) []string {
	to := h.escalateTo
	if len(to) == 0 {
		to = h.staff[kind]
	}
	if level >= 2 {
		to = union(to, h.onCall)
	}
	return to
}
