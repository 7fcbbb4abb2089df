// Package turnstile checks Cloudflare Turnstile tokens server-side, before
// intake stores anything. It fails closed: a missing token, a failed check,
// a slow or broken verifier all reject the submission.
package turnstile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clinicleads/leadpipe/internal/lead"
)

// SiteverifyURL is Cloudflare's verification endpoint.
const SiteverifyURL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"

// DefaultTimeout keeps a slow verifier from eating intake's time budget.
const DefaultTimeout = 3 * time.Second

// maxTokenLen is Cloudflare's documented maximum token length.
const maxTokenLen = 2048

// Verifier implements lead.Verifier.
type Verifier struct {
	Secret  string
	URL     string // SiteverifyURL unless a test points it elsewhere
	Client  *http.Client
	Timeout time.Duration
}

// New returns a Verifier for secret with the defaults.
func New(secret string, client *http.Client) *Verifier {
	return &Verifier{Secret: secret, URL: SiteverifyURL, Client: client, Timeout: DefaultTimeout}
}

const rejected = "we could not confirm that this came from a person; please reload the page and try again"

type answer struct {
	Success    bool     `json:"success"`
	ErrorCodes []string `json:"error-codes"`
}

// Verify asks Cloudflare whether token is valid. A token that is missing,
// too long or refused is a verification_failed error (403); a verifier that
// cannot answer properly in time is an unavailable error (503): either way
// nothing is stored.
func (v *Verifier) Verify(ctx context.Context, token, remoteIP string) error {
	if token == "" || len(token) > maxTokenLen {
		return lead.Errorf(lead.CodeVerificationFailed, rejected)
	}
	ctx, cancel := context.WithTimeout(ctx, v.Timeout)
	defer cancel()
	form := url.Values{"secret": {v.Secret}, "response": {token}}
	if remoteIP != "" {
		form.Set("remoteip", remoteIP)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("turnstile request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := v.Client.Do(req)
	if err != nil {
		return unavailable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return unavailable(fmt.Errorf("siteverify answered %d", resp.StatusCode))
	}
	var a answer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&a); err != nil {
		return unavailable(fmt.Errorf("siteverify answer: %w", err))
	}
	if !a.Success {
		// The error codes are Cloudflare's, never the token: safe to log.
		return &lead.Error{Code: lead.CodeVerificationFailed, Message: rejected,
			Err: fmt.Errorf("turnstile refused: %s", strings.Join(a.ErrorCodes, ","))}
	}
	return nil
}

func unavailable(err error) error {
	return &lead.Error{Code: lead.CodeUnavailable,
		Message: "we could not check this submission just now; please try again in a moment",
		Err:     errors.Join(errors.New("turnstile unavailable"), err)}
}
