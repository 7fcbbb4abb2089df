// Package turnstile checks Cloudflare Turnstile tokens server-side, before
// intake stores anything. It fails closed: a missing token, a failed check,
// a slow or broken verifier all reject the submission. A verifier that says
// the fault is ours (a wrong or rotated secret, its own error) is a 503
// wrapping ErrMisconfigured, never a 403 that would call every visitor a bot.
package turnstile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
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

// ErrMisconfigured is in the chain of the error Verify returns when
// siteverify blames the request itself (the secret, the request's shape) or
// itself (internal-error): nobody can pass until ops act, so intake counts
// and alarms on it.
var ErrMisconfigured = errors.New("turnstile siteverify reports a configuration or server fault")

// faultCodes are siteverify's error codes that are not the visitor's doing
// (developers.cloudflare.com/turnstile/get-started/server-side-validation).
var faultCodes = []string{"missing-input-secret", "invalid-input-secret", "bad-request", "internal-error"}

// Verifier implements lead.Verifier.
type Verifier struct {
	Secret  string
	URL     string // SiteverifyURL unless configured (CheckURL)
	Client  *http.Client
	Timeout time.Duration
	// Hostnames, when not empty, are the only hostnames (lower case) a
	// token may have been issued on: a token solved on another site is
	// refused.
	Hostnames []string
	// Action, when set, is the only widget action a token is accepted for.
	Action string
}

// New returns a Verifier for secret with the defaults.
func New(secret string, client *http.Client) *Verifier {
	return &Verifier{Secret: secret, URL: SiteverifyURL, Client: client, Timeout: DefaultTimeout}
}

// CheckURL reports whether u may be the siteverify endpoint: https, or
// plain http to a loopback host (a local fake in tests and `make dev`), so
// the secret never crosses a network in the clear.
func CheckURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.User != nil || p.Fragment != "" {
		return errors.New("must be an absolute URL such as " + SiteverifyURL)
	}
	switch {
	case p.Scheme == "https":
		return nil
	case p.Scheme == "http" && IsLoopback(p.Hostname()):
		return nil
	}
	return errors.New("must use https (plain http only to 127.0.0.1 or localhost)")
}

// IsLoopback reports whether host (without port) is localhost or a
// loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

const rejected = "we could not confirm that this came from a person; please reload the page and try again"

type answer struct {
	Success    bool     `json:"success"`
	ErrorCodes []string `json:"error-codes"`
	Hostname   string   `json:"hostname"`
	Action     string   `json:"action"`
}

// Verify asks Cloudflare whether token is valid, for one of v.Hostnames and
// v.Action when those are set. A token that is missing, too long, refused
// or issued elsewhere is a verification_failed error (403); a verifier that
// cannot answer properly in time, or that reports a fault of the secret or
// its own (ErrMisconfigured), is an unavailable error (503): either way
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
	// The error codes, hostname and action are Cloudflare's and the
	// website's, never the token or anything the person typed: safe to log.
	if !a.Success {
		codes := strings.Join(a.ErrorCodes, ",")
		for _, c := range a.ErrorCodes {
			if slices.Contains(faultCodes, c) {
				return &lead.Error{Code: lead.CodeUnavailable,
					Message: "we cannot check submissions just now; please try again later, or call the clinic",
					Err:     fmt.Errorf("%w: error codes %s", ErrMisconfigured, codes)}
			}
		}
		return refused(fmt.Errorf("turnstile refused: %s", codes))
	}
	if len(v.Hostnames) > 0 && !slices.Contains(v.Hostnames, strings.ToLower(a.Hostname)) {
		return refused(fmt.Errorf("turnstile token issued on hostname %q, not an allowed origin", a.Hostname))
	}
	if v.Action != "" && a.Action != v.Action {
		return refused(fmt.Errorf("turnstile token issued for action %q, want %q", a.Action, v.Action))
	}
	return nil
}

func refused(cause error) error {
	return &lead.Error{Code: lead.CodeVerificationFailed, Message: rejected, Err: cause}
}

func unavailable(err error) error {
	return &lead.Error{Code: lead.CodeUnavailable,
		Message: "we could not check this submission just now; please try again in a moment",
		Err:     errors.Join(errors.New("turnstile unavailable"), err)}
}
