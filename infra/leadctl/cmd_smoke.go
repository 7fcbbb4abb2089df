package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// The smoke test's lead: marked as a test in every field staff see, and
// sent to SES's mailbox simulator, which accepts a confirmation without
// delivering it to anyone or counting against the account's reputation.
const (
	smokeName    = "leadctl smoke test"
	smokeEmail   = "success@simulator.amazonses.com"
	smokeMessage = "leadctl smoke test: please ignore this lead. It is erased automatically a moment after it arrives."
	smokeReason  = "leadctl smoke test"
)

// smokeStep is one timed step.
type smokeStep struct {
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
	OK      bool    `json:"ok"`
	Note    string  `json:"note,omitempty"`
}

func (a *app) smoke(ctx context.Context, args []string) error {
	var c common
	var timeout time.Duration
	fs := a.flags("smoke", "[--timeout D]",
		`Submits a clearly marked test lead through the deployed forms API (the
contact form, name "`+smokeName+`", address `+smokeEmail+`, SES's
mailbox simulator), waits until the notify function has recorded the staff
email as accepted by SES (notifiedAt; with confirmations on, confirmedAt
too), then erases the lead (with an audit tombstone). Prints each step's
time. Staff receive one email about it. A stack with Turnstile on refuses
the test lead (it cannot pass a bot check): test through the website then.`, &c)
	fs.DurationVar(&timeout, "timeout", 3*time.Minute, "how long to wait for the staff email")
	if err := parse(fs, &c, args, false); err != nil {
		return err
	}
	t, err := a.connect(ctx, c)
	if err != nil {
		return err
	}
	if t.apiURL == "" {
		return errors.New("the stack has no ApiUrl output: deploy it again")
	}
	var steps []smokeStep
	step := func(name string, start time.Time, err error, note string) bool {
		s := smokeStep{Step: name, Seconds: a.now().Sub(start).Seconds(), OK: err == nil, Note: note}
		if err != nil {
			s.Note = explain(err)
		}
		steps = append(steps, s)
		if !c.json() {
			mark := "ok  "
			if err != nil {
				mark = "FAIL"
			}
			fmt.Fprintf(a.out, "%s %-34s %8s  %s\n", mark, name, seconds(time.Duration(s.Seconds*float64(time.Second))), s.Note)
		}
		return err == nil
	}
	if !c.json() {
		fmt.Fprintf(a.out, "leadctl smoke: %s, API %s\n", t, t.apiURL)
	}

	start := a.now()
	id, err := submitSmoke(ctx, t.apiURL)
	ok := step("submit the test lead (POST /contact)", start, err, "lead "+id)
	var notified, erased bool
	if ok {
		wait := a.now()
		what, err := waitMarks(ctx, dynamo.New(t.db, t.table), id, t.confirmations, timeout)
		notified = step("staff email accepted by SES", wait, err, what)

		del := a.now()
		err = eraseSmoke(ctx, dynamo.NewOps(t.db, t.table), id, t.actor, a.now)
		erased = step("erase the test lead", del, err, "tombstone written")
	}
	total := a.now().Sub(start)
	passed := ok && notified && erased
	if c.json() {
		if err := writeJSON(a.out, struct {
			Target  string      `json:"target"`
			Lead    string      `json:"lead,omitempty"`
			Steps   []smokeStep `json:"steps"`
			Seconds float64     `json:"seconds"`
			OK      bool        `json:"ok"`
		}{t.String(), id, steps, total.Seconds(), passed}); err != nil {
			return err
		}
	} else if passed {
		fmt.Fprintf(a.out, "smoke test passed in %s\n", seconds(total))
	} else {
		fmt.Fprintf(a.out, "smoke test FAILED after %s (docs/runbook.md: the notify function's log says why)\n", seconds(total))
	}
	if !passed {
		return errReported
	}
	return nil
}

// submitSmoke posts the test lead as a website would and returns its id.
func submitSmoke(ctx context.Context, api string) (string, error) {
	body, _ := json.Marshal(map[string]any{
		"name": smokeName, "email": smokeEmail, "message": smokeMessage, "preferredContact": "email",
		"utmSource": "leadctl-smoke",
	})
	var key [16]byte
	_, _ = rand.Read(key[:])
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(api, "/")+"/contact", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", "leadctl-smoke-"+hex.EncodeToString(key[:]))
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("post the test lead: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var ans struct {
		ID    string `json:"id"`
		Error string `json:"error"`
	}
	_ = json.Unmarshal(b, &ans)
	switch {
	case resp.StatusCode == http.StatusCreated && dynamo.IsLeadID(ans.ID):
		return ans.ID, nil
	case ans.Error == "verification_failed":
		return "", errors.New("the API asks for a Turnstile token (TurnstileSecret is set), which leadctl cannot solve: send a test lead from the website's form, then leadctl erase --id")
	}
	return "", fmt.Errorf("the API answered %s: %.300s", resp.Status, b)
}

// waitMarks polls the lead's marks until the staff email (and the
// confirmation, when on) is recorded, or timeout.
func waitMarks(ctx context.Context, st *dynamo.Store, id string, confirmations bool, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		m, err := st.Marks(ctx, id)
		if err != nil && !errors.Is(err, dynamo.ErrNotFound) {
			return "", err
		}
		staff := !m.NotifiedAt.IsZero()
		confirmed := !confirmations || !m.ConfirmedAt.IsZero() || !m.ConfirmRefusedAt.IsZero()
		if staff && confirmed {
			what := "notifiedAt " + rfc3339(m.NotifiedAt)
			if confirmations {
				what += ", confirmation marked"
			}
			return what, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no staff email recorded for lead %s within the timeout (notifiedAt set: %v); read the notify function's log", id, staff)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// eraseSmoke erases the test lead with its claims.
func eraseSmoke(ctx context.Context, ops *dynamo.Ops, id string, actor lead.Actor, now func() time.Time) error {
	claims, err := ops.ClaimsOf(ctx, id)
	if err != nil && !errors.Is(err, dynamo.ErrNoClaimsIndex) {
		return err
	}
	return ops.Erase(ctx, dynamo.Erasure{LeadID: id, Claims: claims, At: now(), Actor: actor, Reason: smokeReason, Request: newRequestID()})
}
