package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// maxReason bounds --reason: a ticket number or a few words.
const maxReason = 200

// erasePlan is what an erase finds and would delete.
type erasePlan struct {
	Leads []eraseLead `json:"leads"`
	// ClaimsSearched is false when the table has no ClaimsByLead index.
	ClaimsSearched bool `json:"claimsSearched"`
}

type eraseLead struct {
	ID         string      `json:"id"`
	Kind       lead.Kind   `json:"kind"`
	Status     lead.Status `json:"status"`
	ReceivedAt string      `json:"receivedAt"`
	Claims     []string    `json:"-"`
	ClaimCount int         `json:"claims"`
	Result     string      `json:"result,omitempty"` // erased, already gone, failed: ...
}

func (a *app) erase(ctx context.Context, args []string) error {
	var c common
	var email, id, reason string
	var yes bool
	fs := a.flags("erase", "--email ADDRESS | --id ID [--reason TEXT] [--yes]",
		`Erases a person's data on request: every lead with their address (--email),
or one lead (--id), with the idempotency claims that point at them. It first
shows what will go (ids, kinds, statuses, dates; no answers), then asks you to
type "erase"; anything else, or no terminal, is a dry run that deletes nothing.
--yes skips the question.

Each lead is deleted together with its claims and an audit tombstone (the
lead's id, who erased it, when, why, how many claims; nothing about the
person) in one transaction. The staff inbox's audit entries for the lead
stay: they name staff, not the person.

--email matches the address whatever the case of its letters. Finding leads
by address reads every lead's index entry inside DynamoDB (README,
Operations); only the ids, dates and addresses of leads at the same domain
leave it, and the addresses are compared in memory, never printed.`, &c)
	fs.StringVar(&email, "email", "", "the person's email address")
	fs.StringVar(&id, "id", "", "one lead's id")
	fs.StringVar(&reason, "reason", "erasure request", "why, kept in the tombstone: a ticket number or a few words, never the person's name or address")
	fs.BoolVar(&yes, "yes", false, "erase without asking")
	if err := parse(fs, &c, args, false); err != nil {
		return err
	}
	if (email == "") == (id == "") {
		return usagef("give exactly one of --email and --id")
	}
	if err := checkReason(reason, email); err != nil {
		return err
	}
	if id != "" && !dynamo.IsLeadID(id) {
		return usagef("--id %q is not a lead id (such as 019cb963-2f11-7a90-8c3e-5b2d7e9f1a22)", id)
	}
	if email != "" && !lead.IsEmail(lead.NormalizeEmail(email)) {
		return usagef("--email %q is not an email address", email)
	}
	t, err := a.connect(ctx, c)
	if err != nil {
		return err
	}
	ops := dynamo.NewOps(t.db, t.table)
	plan, err := findPlan(ctx, ops, email, id)
	if err != nil {
		return err
	}
	if !c.json() {
		a.printPlan(t, plan)
	}
	if len(plan.Leads) == 0 {
		if c.json() {
			return writeJSON(a.out, struct {
				erasePlan
				Erased int `json:"erased"`
			}{plan, 0})
		}
		return nil
	}

	confirmed := yes
	if !yes && !c.json() {
		fmt.Fprintf(a.errw, "Type erase to delete these %d lead(s) for good (anything else: dry run): ", len(plan.Leads))
		line, _ := bufio.NewReader(a.in).ReadString('\n')
		confirmed = strings.TrimSpace(line) == "erase"
	}
	if !confirmed {
		if c.json() {
			return writeJSON(a.out, struct {
				erasePlan
				DryRun bool `json:"dryRun"`
				Erased int  `json:"erased"`
			}{plan, true, 0})
		}
		fmt.Fprintln(a.out, "Dry run: nothing was erased. Run again with --yes, or type erase when asked.")
		return nil
	}

	request := newRequestID()
	erased, failed := 0, 0
	for i := range plan.Leads {
		l := &plan.Leads[i]
		err := ops.Erase(ctx, dynamo.Erasure{LeadID: l.ID, Claims: l.Claims, At: a.now(), Actor: t.actor, Reason: reason, Request: request})
		switch {
		case err == nil:
			l.Result = "erased"
			erased++
		case errors.Is(err, dynamo.ErrNotFound):
			l.Result = "already gone"
		default:
			l.Result = "failed: " + explain(err)
			failed++
		}
	}
	if c.json() {
		if err := writeJSON(a.out, struct {
			erasePlan
			Request string `json:"request"`
			Erased  int    `json:"erased"`
			Failed  int    `json:"failed"`
		}{plan, request, erased, failed}); err != nil {
			return err
		}
	} else {
		for _, l := range plan.Leads {
			fmt.Fprintf(a.out, "  %s  %s\n", l.ID, l.Result)
		}
		fmt.Fprintf(a.out, "Erased %d lead(s) by %s; each left an audit tombstone (request %s, reason %q).\n", erased, t.actor.Subject, request, reason)
	}
	if failed > 0 {
		if !c.json() {
			fmt.Fprintf(a.errw, "leadctl erase: %d lead(s) were not erased (see above); run the same command again\n", failed)
		}
		return errReported
	}
	return nil
}

// findPlan finds the leads and, through ClaimsByLead when the table has
// it, their claims.
func findPlan(ctx context.Context, ops *dynamo.Ops, email, id string) (erasePlan, error) {
	var matches []dynamo.Match
	if email != "" {
		var err error
		if matches, err = ops.FindByEmail(ctx, email); err != nil {
			return erasePlan{}, err
		}
	} else {
		m, err := ops.FindByID(ctx, id)
		switch {
		case errors.Is(err, dynamo.ErrNotFound):
		case err != nil:
			return erasePlan{}, err
		default:
			matches = []dynamo.Match{m}
		}
	}
	plan := erasePlan{Leads: []eraseLead{}, ClaimsSearched: true}
	for _, m := range matches {
		l := eraseLead{ID: m.ID, Kind: m.Kind, Status: m.Status, ReceivedAt: rfc3339(m.CreatedAt)}
		claims, err := ops.ClaimsOf(ctx, m.ID)
		switch {
		case errors.Is(err, dynamo.ErrNoClaimsIndex):
			plan.ClaimsSearched = false
		case err != nil:
			return erasePlan{}, err
		}
		l.Claims, l.ClaimCount = claims, len(claims)
		plan.Leads = append(plan.Leads, l)
	}
	return plan, nil
}

func (a *app) printPlan(t *target, plan erasePlan) {
	if len(plan.Leads) == 0 {
		fmt.Fprintf(a.out, "No lead found in %s: nothing to erase.\n", t)
		return
	}
	fmt.Fprintf(a.out, "Found %d lead(s) in %s:\n", len(plan.Leads), t)
	fmt.Fprintf(a.out, "  %-36s  %-12s  %-9s  %-20s  %s\n", "id", "kind", "status", "received", "claims")
	for _, l := range plan.Leads {
		claims := strconv.Itoa(l.ClaimCount)
		if !plan.ClaimsSearched {
			claims = "-"
		}
		fmt.Fprintf(a.out, "  %-36s  %-12s  %-9s  %-20s  %s\n", l.ID, l.Kind, l.Status, l.ReceivedAt, claims)
	}
	if !plan.ClaimsSearched {
		fmt.Fprintln(a.out, "Claims: not searched. The table has no ClaimsByLead index (README, Operations); a claim holds no answers and expires within a day.")
	}
}

// checkReason keeps the person out of the tombstone: one short line, no
// address.
func checkReason(reason, email string) error {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return usagef("--reason must not be empty")
	case len([]rune(reason)) > maxReason || !oneLine(reason):
		return usagef("--reason must be one line of at most %d characters", maxReason)
	case strings.Contains(reason, "@"):
		return usagef("--reason is kept in the audit trail for good: give a ticket number or a few words, not an email address")
	}
	// A local part of three letters or more ("pat.doe") in the reason
	// names the person; shorter ones match too many words to judge.
	if local, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@"); len(local) >= 3 && strings.Contains(strings.ToLower(reason), local) {
		return usagef("--reason must not name the person (it contains their address's name)")
	}
	return nil
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "erase-" + hex.EncodeToString(b[:])
}
