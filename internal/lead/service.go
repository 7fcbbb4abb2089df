package lead

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Idempotency windows: a client's explicit key is honoured for a day; an
// identical submission without a key counts as a double click for ten
// minutes.
const (
	KeyWindow  = 24 * time.Hour
	AutoWindow = 10 * time.Minute
)

// ErrLeadExists is returned by Store.Put when a lead with the id is already
// stored. Intake treats it as success: it is the retry of a write that
// landed.
var ErrLeadExists = errors.New("lead already stored")

// Claim reserves an idempotency key for one lead id. The first claim on a
// key wins; later submissions with the key get the winner's lead back.
type Claim struct {
	Key       string
	LeadID    string
	BodyHash  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Store is what intake needs from storage.
type Store interface {
	// Claim records c unless an unexpired claim holds c.Key, and returns
	// the claim that holds the key afterwards (c itself, or the earlier one).
	Claim(ctx context.Context, c Claim) (Claim, error)
	// Put stores l unless a lead with l.ID exists (then ErrLeadExists).
	Put(ctx context.Context, l Lead) error
	// HeldClaim returns the claim holding key if it has not expired at now.
	HeldClaim(ctx context.Context, key string, now time.Time) (Claim, bool, error)
}

// Verifier checks a bot-protection token (Cloudflare Turnstile). A nil
// Verifier means the check is off.
type Verifier interface {
	Verify(ctx context.Context, token, remoteIP string) error
}

// Form is a submission: *Contact or *Consultation.
type Form interface {
	Kind() Kind
	Normalize()
	controls() *Controls
	build(l *Lead)
}

// Kind is KindContact.
func (*Contact) Kind() Kind            { return KindContact }
func (c *Contact) controls() *Controls { return &c.Controls }
func (c *Contact) build(l *Lead) {
	form := *c
	form.Controls = Controls{}
	l.Contact = &form
	l.Attribution = c.Attribution
	// The contact form has no consent box: sending it is the request to be
	// contacted about the message, and is recorded as such.
	l.Consent = Consent{ConsentToContact: true, SMSConsent: c.SMSConsent}
}

// Kind is KindConsultation.
func (*Consultation) Kind() Kind            { return KindConsultation }
func (c *Consultation) controls() *Controls { return &c.Controls }
func (c *Consultation) build(l *Lead) {
	form := *c
	form.Controls = Controls{}
	l.Consultation = &form
	l.Attribution = c.Attribution
	l.Consent = Consent{ConsentToContact: c.ConsentToContact, AcknowledgedPrivacy: c.AcknowledgedPrivacy, SMSConsent: c.SMSConsent}
}

// Request is what intake knows about the HTTP request besides the form.
type Request struct {
	IdempotencyKey string // the Idempotency-Key header; the form's submissionId is the fallback
	ClientIP       string
	UserAgent      string
}

// Receipt is the answer for the website.
type Receipt struct {
	ID       string
	InCrisis bool
	// Spam reports that this call stored a submission that filled the
	// honeypot (as spam, or flagged SuspectedSpam), for intake to count; a
	// retry of one already stored is not counted again.
	Spam bool
}

// Service takes submissions in: validate, check for bots, claim the
// idempotency key, store. It never sends email: the notifier reads the
// table's stream, so a lead is saved before anything can fail on its way
// to staff.
type Service struct {
	Store         Store
	Validator     *Validator
	Verifier      Verifier // nil: Turnstile off
	Retention     time.Duration
	SpamRetention time.Duration
	Now           func() time.Time
	NewID         func(time.Time) string
}

// Submit takes one form in. Client mistakes come back as *Error; so do
// store faults a retry may cure (CodeUnavailable). Anything else is an
// internal failure.
func (s *Service) Submit(ctx context.Context, form Form, req Request) (Receipt, error) {
	form.Normalize()
	// A bad header is reported together with the form's own failures, so
	// the client learns everything to fix from one answer.
	var keyErr []FieldError
	if req.IdempotencyKey != "" && !IsIdempotencyKey(req.IdempotencyKey) {
		keyErr = []FieldError{{Field: "Idempotency-Key", Message: "must be 1 to 128 letters, digits, '.', '_', ':' or '-'"}}
	}
	if err := s.Validator.Validate(form); err != nil {
		var e *Error
		if keyErr != nil && errors.As(err, &e) && e.Code == CodeInvalid {
			e.Fields = append(keyErr, e.Fields...)
		}
		return Receipt{}, err
	}
	if keyErr != nil {
		return Receipt{}, &Error{Code: CodeInvalid, Message: "some answers need another look", Fields: keyErr}
	}
	ctl := *form.controls()

	now := s.Now().UTC().Truncate(time.Millisecond) // the stored precision
	bodyHash, err := hashForm(form)
	if err != nil {
		return Receipt{}, err
	}
	claim := Claim{BodyHash: bodyHash, CreatedAt: now}
	switch key := firstNonEmpty(req.IdempotencyKey, ctl.SubmissionID); key {
	case "":
		// Same kind and same content (which includes the email) within the window.
		claim.Key = "auto:" + bodyHash
		claim.ExpiresAt = now.Add(AutoWindow)
	default:
		claim.Key = "key:" + string(form.Kind()) + ":" + key
		claim.ExpiresAt = now.Add(KeyWindow)
	}
	claim.LeadID = s.NewID(now)

	if s.Verifier != nil {
		if err := s.Verifier.Verify(ctx, ctl.TurnstileToken, req.ClientIP); err != nil {
			// A Turnstile token is good once. The retry of a submission that
			// was taken in (its answer lost on the way) may carry a spent
			// token; its claim proves it passed the check the first time.
			if ErrorCode(err) != CodeVerificationFailed || !s.alreadyTaken(ctx, claim) {
				return Receipt{}, err
			}
		}
	}

	held, err := s.Store.Claim(ctx, claim)
	if err != nil {
		return Receipt{}, err
	}
	if held.BodyHash != claim.BodyHash {
		return Receipt{}, Errorf(CodeIdempotencyReused, "this submission id was already used for a different submission; please submit again")
	}

	l := Lead{ID: held.LeadID, Kind: form.Kind(), Status: StatusNew, CreatedAt: held.CreatedAt}
	form.build(&l)
	l.Consent.At = held.CreatedAt
	l.Consent.ClientIP = req.ClientIP
	l.Consent.UserAgent = req.UserAgent
	l.Consent.LandingPage = l.Attribution.LandingPage
	l.ExpiresAt = held.CreatedAt.Add(s.Retention)
	honeypot := ctl.Website != ""
	switch {
	case honeypot && l.InCrisis():
		// Autofill and assistive tools fill hidden fields too, and a person
		// who says they are in crisis is never dropped on the honeypot
		// alone: a normal new lead (kept, streamed, notified), flagged.
		l.SuspectedSpam = true
	case honeypot:
		// Most likely a bot. Keep it briefly for review (Spam in the staff
		// inbox), never notify, and answer exactly as for a person so the
		// bot learns nothing.
		l.Status = StatusSpam
		l.ExpiresAt = held.CreatedAt.Add(s.SpamRetention)
	}
	err = s.Store.Put(ctx, l)
	if err != nil && !errors.Is(err, ErrLeadExists) {
		return Receipt{}, err
	}
	return Receipt{ID: l.ID, InCrisis: l.InCrisis(), Spam: honeypot && err == nil}, nil
}

// alreadyTaken reports whether an unexpired claim holds c's key for the
// same answers.
func (s *Service) alreadyTaken(ctx context.Context, c Claim) bool {
	held, ok, err := s.Store.HeldClaim(ctx, c.Key, c.CreatedAt)
	return err == nil && ok && held.BodyHash == c.BodyHash
}

// hashForm fingerprints the normalised content, without the controls, so
// retries of the same answers match and changed answers do not.
func hashForm(form Form) (string, error) {
	ctl := form.controls()
	saved := *ctl
	*ctl = Controls{Website: saved.Website}
	b, err := json.Marshal(form)
	*ctl = saved
	if err != nil {
		return "", fmt.Errorf("hash form: %w", err)
	}
	sum := sha256.Sum256(append([]byte(form.Kind()+"\x00"), b...))
	return hex.EncodeToString(sum[:]), nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
