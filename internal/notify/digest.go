package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sesmail"
	"github.com/clinicleads/leadpipe/internal/sla"
)

// The daily digest: the first scheduled run at or after DIGEST_TIME in
// the clinic's zone sends staff a summary of the day before, the leads
// still new and the oldest open lead. One digest per day, even when runs
// overlap: the run claims the day with a conditional put of the marker
// item DIGEST#<date> before it reads anything, and only the run whose
// claim succeeded sends. A digest that could not be sent gives its claim
// back, so the next run sends it; a claim left by a run that died is taken
// over after digestStale.

// digestStale is how old a claim on a digest that was never sent must be
// before another run takes it over: longer than any run (the function's
// timeout is a minute).
const digestStale = 10 * time.Minute

// digestStore is the leads table as the digest uses it. *dynamo.Store has it.
type digestStore interface {
	// Received lists the leads of kind created in [from, to).
	Received(ctx context.Context, kind lead.Kind, from, to time.Time) (dynamo.Listing, error)
	// Oldest is the oldest lead of status, if any.
	Oldest(ctx context.Context, status lead.Status) (dynamo.LeadState, bool, error)
	// ClaimDigest claims a day's digest (dynamo.ErrAlreadyMarked when
	// another run has it or it was sent).
	ClaimDigest(ctx context.Context, day string, at, staleBefore time.Time) error
	MarkDigestSent(ctx context.Context, day string, at time.Time) error
	ReleaseDigest(ctx context.Context, day string, claimedAt time.Time) error
}

// digest sends the day's digest if it is due and no run has sent it; it
// reports whether this run sent it. w is the run's listing of the leads
// still new.
func (h *Handler) digest(ctx context.Context, log *slog.Logger, now time.Time, w dynamo.Listing) (bool, error) {
	if h.digestOff || len(h.digestTo) == 0 {
		return false, nil
	}
	zone := h.sla.Zone()
	local := now.In(zone)
	y, m, d := local.Date()
	// By the wall clock, so 08:00 stays 08:00 on a day the clocks change.
	hh, mm := int(h.digestAt/time.Hour), int(h.digestAt%time.Hour/time.Minute)
	if now.Before(time.Date(y, m, d, hh, mm, 0, 0, zone)) {
		return false, nil
	}
	day := local.Format(time.DateOnly)
	log = log.With("digest", day)
	at := now.UTC()
	switch err := h.digests.ClaimDigest(ctx, day, at, at.Add(-digestStale)); {
	case errors.Is(err, dynamo.ErrAlreadyMarked):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("claim the digest of %s: %w", day, err)
	}
	err := h.sendDigest(ctx, now, time.Date(y, m, d-1, 0, 0, 0, 0, zone), time.Date(y, m, d, 0, 0, 0, 0, zone), w)
	mctx, cancel := markContext(ctx)
	defer cancel()
	if err != nil {
		if rerr := h.digests.ReleaseDigest(mctx, day, at); rerr != nil {
			log.Error("digest not sent and its claim not given back; a run takes it over after 10 minutes", "error", rerr)
		}
		return false, fmt.Errorf("digest of %s: %w", day, err)
	}
	if err := h.digests.MarkDigestSent(mctx, day, now.UTC()); err != nil {
		log.Error("digest sent but not marked; a run may send it again after 10 minutes", "error", err)
	}
	log.Info("daily digest sent")
	return true, nil
}

// sendDigest reads what the digest of the day [from, to) says and sends it.
func (h *Handler) sendDigest(ctx context.Context, now, from, to time.Time, w dynamo.Listing) error {
	dg := sesmail.Digest{Day: from, Received: map[lead.Kind]map[lead.Status]int{}}
	for _, k := range []lead.Kind{lead.KindConsultation, lead.KindContact} {
		got, err := h.digests.Received(ctx, k, from, to)
		if err != nil {
			return err
		}
		dg.Received[k] = map[lead.Status]int{}
		for _, l := range got.Leads {
			dg.Received[k][l.Status]++
			switch {
			case l.Status == lead.StatusSpam:
				dg.Spam = append(dg.Spam, h.digestLead(l, now))
			case l.NotifiedAt.IsZero():
				dg.Unsent = append(dg.Unsent, h.digestLead(l, now))
			}
		}
	}
	// w is newest first; the digest lists the longest waits first.
	for _, l := range slices.Backward(w.Leads) {
		if l.Status == lead.StatusNew {
			dg.StillNew = append(dg.StillNew, h.digestLead(l, now))
		}
	}
	dg.StillNewTotal = len(dg.StillNew)
	for _, s := range []lead.Status{lead.StatusNew, lead.StatusContacted, lead.StatusScheduled} {
		l, ok, err := h.digests.Oldest(ctx, s)
		if err != nil {
			return err
		}
		if ok && (dg.Oldest == nil || l.CreatedAt.Before(dg.Oldest.ReceivedAt)) {
			o := h.digestLead(l, now)
			dg.Oldest = &o
		}
	}
	msg, err := h.alerts.BuildDigest(dg, h.digestTo)
	if err != nil {
		return err
	}
	if err := h.mailer.Send(ctx, msg); err != nil {
		return fmt.Errorf("SES error %s", sesmail.ErrorCode(err))
	}
	return nil
}

func (h *Handler) digestLead(l dynamo.LeadState, now time.Time) sesmail.DigestLead {
	return sesmail.DigestLead{
		ID: l.ID, Kind: l.Kind, Status: l.Status, ReceivedAt: l.CreatedAt, Wait: sla.Wait(l.CreatedAt, now),
		Overdue: l.Status == lead.StatusNew && h.sla.Overdue(l.CreatedAt, now, l.InCrisis),
	}
}
