package staff_test

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/sla"
	"github.com/clinicleads/leadpipe/internal/staff"
)

// TestWaitAndOverdue: rows and the detail of a lead still new carry its
// wait in minutes and whether it is past its service level, by the rules
// escalation uses; other leads carry neither.
func TestWaitAndOverdue(t *testing.T) {
	f := newFixture(t)
	// t0 is Saturday 28 November 2026, 09:03 in New York.
	crisis := f.put(t, consultation(t0, lead.StatusNew, true))
	normal := f.put(t, contact(t0.Add(time.Second), lead.StatusNew))
	contacted := f.put(t, contact(t0.Add(2*time.Second), lead.StatusContacted))

	var mu sync.Mutex
	now := t0.Add(45 * time.Minute)
	cfg := testConfig()
	cfg.Table = f.tbl.Name
	var err error
	if cfg.SLA, err = sla.FromEnv(func(string) string { return "" }, cfg.TimeZone); err != nil {
		t.Fatal(err)
	}
	f.h = staff.NewWithStore(cfg, "us-east-1", f.staff, func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}, slog.New(slog.NewJSONHandler(f.logs, nil)))

	type row struct {
		ID             string
		WaitingMinutes *int
		Overdue        bool
	}
	rows := func(status string) map[string]row {
		t.Helper()
		resp := f.do(t, listReq(map[string]string{"status": status}))
		if resp.StatusCode != 200 {
			t.Fatalf("list: %d %s", resp.StatusCode, resp.Body)
		}
		out := map[string]row{}
		for _, r := range decode[struct{ Leads []row }](t, resp).Leads {
			out[r.ID] = r
		}
		return out
	}
	mins := func(r row) int {
		if r.WaitingMinutes == nil {
			return -1
		}
		return *r.WaitingMinutes
	}

	got := rows("new")
	if r := got[crisis.ID]; mins(r) != 45 || !r.Overdue {
		t.Errorf("crisis lead after 45 minutes: %d min, overdue %v; want 45, overdue (CRISIS_SLA 30m around the clock)", mins(r), r.Overdue)
	}
	if r := got[normal.ID]; mins(r) != 44 || r.Overdue {
		t.Errorf("normal lead on a Saturday: %d min, overdue %v; want 44, not overdue (no business hours yet)", mins(r), r.Overdue)
	}
	resp := f.do(t, listReq(map[string]string{"status": "contacted"}))
	if r := rows("contacted")[contacted.ID]; r.WaitingMinutes != nil || r.Overdue || strings.Contains(resp.Body, "waitingMinutes") {
		t.Errorf("contacted lead: %+v (%s)", r, resp.Body)
	}

	// Monday 30 November: opening at 09:00 plus LEAD_SLA (4 h).
	mu.Lock()
	now = time.Date(2026, 11, 30, 17, 59, 0, 0, time.UTC) // 12:59 EST
	mu.Unlock()
	if r := rows("new")[normal.ID]; r.Overdue {
		t.Errorf("overdue at 12:59 on Monday: %+v", r)
	}
	mu.Lock()
	now = time.Date(2026, 11, 30, 18, 0, 1, 0, time.UTC) // 13:00 EST
	mu.Unlock()
	if r := rows("new")[normal.ID]; mins(r) != 2*24*60+3*60+56 || !r.Overdue {
		t.Errorf("Monday 13:00: %d min, overdue %v; want 3116, overdue", mins(r), r.Overdue)
	}

	d := decode[struct {
		WaitingMinutes *int
		Overdue        bool
	}](t, f.do(t, showReq(normal.ID)))
	if d.WaitingMinutes == nil || *d.WaitingMinutes != 3116 || !d.Overdue {
		t.Errorf("detail: %+v", d)
	}
	resp = f.do(t, patchReq(normal.ID, body("contacted", 1, nil)))
	if resp.StatusCode != 200 || strings.Contains(resp.Body, "waitingMinutes") || strings.Contains(resp.Body, `"overdue":true`) {
		t.Errorf("after the move: %d %s", resp.StatusCode, resp.Body)
	}
}
