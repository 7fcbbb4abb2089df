package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/clinicleads/leadpipe/infra/leadctl/internal/export"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
)

func (a *app) export(ctx context.Context, args []string) error {
	var c common
	var since, until, kind, status, format, out string
	var health bool
	fs := a.flags("export", "--since DATE [--until DATE] [--kind K] [--status S] [--format csv|jsonl] [--include-health] [--out FILE]",
		`Streams the leads that arrived from --since up to --until (times in UTC) as CSV
or JSON Lines, to --out or stdout. It reads the table's indexes page by page
(Query, never Scan), so memory stays flat however many leads there are.

Health answers (crisis flag, date of birth, concerns, treatments, medications,
history, referring provider) and the free-text messages are left out unless
--include-health is given. Every export is first written to the audit trail
with who ran it (the caller's IAM identity) and what it selected, then
completed with the number of leads. --out creates a new file readable by
you only, and removes it again if the export fails.`, &c)
	fs.StringVar(&since, "since", "", "first day or time, inclusive: 2026-11-01 or 2026-11-01T09:00:00Z (required)")
	fs.StringVar(&until, "until", "", "last day (inclusive) or time (exclusive); default now")
	fs.StringVar(&kind, "kind", "", "contact or consultation (default both)")
	fs.StringVar(&status, "status", "", "one status: "+statusList()+" (default all)")
	fs.StringVar(&format, "format", export.CSV, "csv or jsonl")
	fs.BoolVar(&health, "include-health", false, "include the health answers and messages")
	fs.StringVar(&out, "out", "", "write to this new file instead of stdout")
	if err := parse(fs, &c, args, false); err != nil {
		return err
	}
	q, err := exportQuery(since, until, kind, status, a.now())
	if err != nil {
		return err
	}
	if format != export.CSV && format != export.JSONL {
		return usagef("--format must be csv or jsonl, not %q", format)
	}
	if out == "" && c.json() {
		return usagef("--output json needs --out: the leads themselves go to stdout otherwise")
	}
	t, err := a.connect(ctx, c)
	if err != nil {
		return err
	}
	ops := dynamo.NewOps(t.db, t.table)
	start := a.now()
	// The audit entry comes first: no lead is read unrecorded.
	key, err := ops.RecordExport(ctx, dynamo.ExportRecord{At: start, Actor: t.actor, Query: q, Format: format, IncludeHealth: health})
	if err != nil {
		return fmt.Errorf("record the export in the audit trail (nothing was exported): %w", err)
	}

	var w io.Writer = a.out
	var file *os.File
	if out != "" {
		// O_EXCL: never overwrite; 0600: the file holds personal data.
		if file, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return fmt.Errorf("create %s: %w", out, err)
		}
		w = file
	}
	n, err := writeLeads(ctx, ops, q, w, format, health)
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(out) // a partial export is not left lying around
		}
	}
	if err != nil {
		return fmt.Errorf("export stopped after %d leads (nothing kept): %w", n, err)
	}
	took := a.now().Sub(start)
	if err := ops.FinishExport(ctx, key, n, a.now()); err != nil {
		fmt.Fprintf(a.errw, "leadctl export: the export is complete, but its audit entry %s was not completed with the count: %s\n", key, explain(err))
	}

	summary := struct {
		Leads         int     `json:"leads"`
		Out           string  `json:"out,omitempty"`
		Format        string  `json:"format"`
		IncludeHealth bool    `json:"includeHealth"`
		Since         string  `json:"since"`
		Until         string  `json:"until"`
		Kind          string  `json:"kind,omitempty"`
		Status        string  `json:"status,omitempty"`
		Seconds       float64 `json:"seconds"`
		Audit         string  `json:"audit"`
	}{n, out, format, health, rfc3339(q.Since), rfc3339(q.Until), string(q.Kind), string(q.Status), took.Seconds(), key}
	if c.json() {
		return writeJSON(a.out, summary)
	}
	dest := "stdout"
	if out != "" {
		dest = out
	}
	withHealth := "without health answers"
	if health {
		withHealth = "WITH health answers"
	}
	fmt.Fprintf(a.errw, "leadctl export: %d leads from %s (%s to %s) to %s as %s, %s, in %s; audit entry %s\n",
		n, t, summary.Since, summary.Until, dest, format, withHealth, seconds(took), key)
	return nil
}

func writeLeads(ctx context.Context, ops *dynamo.Ops, q dynamo.ExportQuery, w io.Writer, format string, health bool) (int, error) {
	ew, err := export.New(w, format, health)
	if err != nil {
		return 0, err
	}
	n := 0
	err = ops.Export(ctx, q, func(e dynamo.Exported) error {
		n++
		return ew.Write(e)
	})
	if cerr := ew.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// exportQuery reads the selection. A date alone means midnight UTC; as
// --until it means the end of that day.
func exportQuery(since, until, kind, status string, now time.Time) (dynamo.ExportQuery, error) {
	var q dynamo.ExportQuery
	if since == "" {
		return q, usagef("--since is required (a date such as 2026-11-01, or a time such as 2026-11-01T09:00:00Z)")
	}
	var err error
	if q.Since, _, err = parseWhen(since); err != nil {
		return q, usagef("--since: %v", err)
	}
	q.Until = now.UTC()
	if until != "" {
		var dateOnly bool
		if q.Until, dateOnly, err = parseWhen(until); err != nil {
			return q, usagef("--until: %v", err)
		}
		if dateOnly {
			q.Until = q.Until.AddDate(0, 0, 1)
		}
	}
	if !q.Since.Before(q.Until) {
		return q, usagef("--since (%s) must be before --until (%s)", rfc3339(q.Since), rfc3339(q.Until))
	}
	switch k := lead.Kind(kind); k {
	case "", lead.KindContact, lead.KindConsultation:
		q.Kind = k
	default:
		return q, usagef("--kind must be contact or consultation, not %q", kind)
	}
	if status != "" {
		if q.Status = lead.Status(status); !q.Status.Valid() {
			return q, usagef("--status must be one of %s, not %q", statusList(), status)
		}
	}
	return q, nil
}

func parseWhen(s string) (time.Time, bool, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), false, nil
	}
	return time.Time{}, false, errors.New("want a date such as 2026-11-01 or a time such as 2026-11-01T09:00:00Z, not " + fmt.Sprintf("%q", s))
}

func statusList() string {
	var s []string
	for _, st := range lead.Statuses {
		s = append(s, string(st))
	}
	return strings.Join(s, ", ")
}
