package sla

import (
	"strings"
	"testing"
	"time"
)

var ny = mustZone("America/New_York")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// at is a wall-clock time in the clinic's zone: "2026-03-06 16:00".
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, ny)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func policy(t *testing.T, env map[string]string) Policy {
	t.Helper()
	p, err := FromEnv(func(k string) string { return env[k] }, ny)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDue is the time table: when a lead received at a given local time
// reaches its first and second level. Every wall time is in
// America/New_York.
func TestDue(t *testing.T) {
	weekdays := map[string]string{} // the defaults: 30m crisis, 4h in Mon-Fri 09:00-17:00
	withSaturday := map[string]string{"BUSINESS_HOURS": "Mon-Fri 09:00-17:00, Sat 10:00-13:00"}
	thanksgiving := map[string]string{"CLOSED_DATES": "2026-11-26, 2026-11-27"}
	nightSpan := map[string]string{"BUSINESS_HOURS": "Sun 00:00-04:00", "LEAD_SLA": "3h"}
	for _, c := range []struct {
		name     string
		env      map[string]string
		received string
		crisis   bool
		level1   string
		level2   string
	}{
		{"weekday morning", weekdays, "2026-03-03 10:00", false, "2026-03-03 14:00", "2026-03-04 10:00"},
		{"before opening counts from opening", weekdays, "2026-03-03 07:15", false, "2026-03-03 13:00", "2026-03-03 17:00"},
		{"just before closing", weekdays, "2026-03-03 16:50", false, "2026-03-04 12:50", "2026-03-04 16:50"},
		{"at closing time", weekdays, "2026-03-03 17:00", false, "2026-03-04 13:00", "2026-03-04 17:00"},
		{"Friday evening waits for Monday", weekdays, "2026-02-27 18:30", false, "2026-03-02 13:00", "2026-03-02 17:00"},
		{"Friday evening with Saturday hours", withSaturday, "2026-02-27 18:30", false, "2026-03-02 10:00", "2026-03-02 14:00"},
		// The clocks go forward on Sunday 8 March: Monday opens at 09:00 EDT,
		// not 10:00 as adding UTC hours would say.
		{"Friday afternoon across the spring change", weekdays, "2026-03-06 16:00", false, "2026-03-09 12:00", "2026-03-09 16:00"},
		// ... and back on Sunday 1 November.
		{"Friday afternoon across the autumn change", weekdays, "2026-10-30 16:00", false, "2026-11-02 12:00", "2026-11-02 16:00"},
		// 00:00-04:00 is three real hours on the spring change (02:00-03:00
		// is skipped) and five on the autumn change (01:00-02:00 twice).
		{"span shortened by the spring change", nightSpan, "2026-03-08 00:00", false, "2026-03-08 04:00", "2026-03-15 03:00"},
		{"span lengthened by the autumn change", nightSpan, "2026-11-01 00:00", false, "2026-11-01 02:00", "2026-11-08 01:00"},
		{"closed dates are skipped", thanksgiving, "2026-11-25 15:00", false, "2026-11-30 11:00", "2026-11-30 15:00"},
		{"received on a closed date", thanksgiving, "2026-11-26 10:00", false, "2026-11-30 13:00", "2026-11-30 17:00"},
		{"crisis at night ignores business hours", weekdays, "2026-03-07 02:00", true, "2026-03-07 02:30", "2026-03-07 03:00"},
		{"crisis on a closed date", thanksgiving, "2026-11-26 23:50", true, "2026-11-27 00:20", "2026-11-27 00:50"},
		// 30 real minutes, across the skipped hour: 01:45 EST + 30 min = 03:15 EDT.
		{"crisis across the spring change", weekdays, "2026-03-08 01:45", true, "2026-03-08 03:15", "2026-03-08 03:45"},
		{"crisis with its own level", map[string]string{"CRISIS_SLA": "1h"}, "2026-03-03 23:30", true, "2026-03-04 00:30", "2026-03-04 01:30"},
		{"always open still skips closed dates", map[string]string{"BUSINESS_HOURS": "always", "CLOSED_DATES": "2026-12-25"},
			"2026-12-24 22:00", false, "2026-12-26 02:00", "2026-12-26 06:00"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := policy(t, c.env)
			recv := at(t, c.received)
			for n, want := range map[int]string{1: c.level1, 2: c.level2} {
				if got := p.Due(recv, c.crisis, n); !got.Equal(at(t, want)) {
					t.Errorf("level %d due %s, want %s", n, got.In(ny).Format("Mon 2006-01-02 15:04 MST"), want)
				}
			}
			// Level follows Due: a minute before, at, and after.
			l1, l2 := at(t, c.level1), at(t, c.level2)
			for _, s := range []struct {
				now  time.Time
				want int
			}{{recv, 0}, {l1.Add(-time.Minute), 0}, {l1, 1}, {l2.Add(-time.Minute), 1}, {l2, 2}, {l2.Add(48 * time.Hour), 2}} {
				if got := p.Level(recv, s.now, c.crisis); got != s.want {
					t.Errorf("Level at %s = %d, want %d", s.now.In(ny).Format("Mon 15:04"), got, s.want)
				}
				if got := p.Overdue(recv, s.now, c.crisis); got != (s.want >= 1) {
					t.Errorf("Overdue at %s = %v", s.now.In(ny).Format("Mon 15:04"), got)
				}
			}
		})
	}
}

func TestSoonest(t *testing.T) {
	p := policy(t, map[string]string{"CRISIS_SLA": "45m", "LEAD_SLA": "20m"})
	if p.Soonest() != 20*time.Minute {
		t.Errorf("Soonest = %v", p.Soonest())
	}
	// No lead is overdue sooner than Soonest after it arrived, whatever the hours.
	recv := at(t, "2026-03-03 09:00")
	if p.Overdue(recv, recv.Add(p.Soonest()-time.Second), false) || p.Overdue(recv, recv.Add(p.Soonest()-time.Second), true) {
		t.Error("overdue before Soonest")
	}
}

func TestFromEnvErrors(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"CRISIS_SLA": "30"}, "CRISIS_SLA must be a positive Go duration"},
		{map[string]string{"CRISIS_SLA": "-5m"}, "CRISIS_SLA"},
		{map[string]string{"LEAD_SLA": "0s"}, "LEAD_SLA must be a positive"},
		{map[string]string{"LEAD_SLA": "four hours"}, "LEAD_SLA"},
		{map[string]string{"BUSINESS_HOURS": "weekdays 9-5"}, "BUSINESS_HOURS: entry 1"},
		{map[string]string{"CLOSED_DATES": "2026-12-25, 12/26/2026"}, "CLOSED_DATES: entry 2"},
	} {
		_, err := FromEnv(func(k string) string { return c.env[k] }, ny)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to say %q", c.env, err, c.want)
		}
	}
	p, err := FromEnv(func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Crisis() != DefaultCrisis || p.Lead() != DefaultLead || p.Hours().String() != DefaultHours || p.Zone() != time.UTC {
		t.Errorf("defaults: %v %v %q %v", p.Crisis(), p.Lead(), p.Hours(), p.Zone())
	}
	// Any positive value is accepted.
	if p, err := FromEnv(func(k string) string { return map[string]string{"CRISIS_SLA": "1m", "LEAD_SLA": "90s"}[k] }, ny); err != nil || p.Crisis() != time.Minute || p.Lead() != 90*time.Second {
		t.Errorf("short levels: %v %v %v", p.Crisis(), p.Lead(), err)
	}
}

func TestParseHours(t *testing.T) {
	for _, c := range []struct {
		in, want string
		weekly   time.Duration
	}{
		{"Mon-Fri 09:00-17:00", "Mon-Fri 09:00-17:00", 40 * time.Hour},
		{" mon-FRI 09:00-17:00 ,  sat 10:00-13:00 ", "Mon-Fri 09:00-17:00, Sat 10:00-13:00", 43 * time.Hour},
		{"Mon-Fri 08:30-12:00, Mon-Fri 13:00-17:30", "Mon-Fri 08:30-12:00, Mon-Fri 13:00-17:30", 40 * time.Hour},
		{"Sun-Thu 08:00-16:00", "Sun-Thu 08:00-16:00", 40 * time.Hour},
		{"Fri-Mon 10:00-11:00", "Fri-Mon 10:00-11:00", 4 * time.Hour},
		{"Fri 20:00-24:00, Sat 00:00-02:00", "Fri 20:00-24:00, Sat 00:00-02:00", 6 * time.Hour},
		{"ALWAYS", "always", 7 * 24 * time.Hour},
	} {
		h, err := ParseHours(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if h.String() != c.want || h.Weekly() != c.weekly {
			t.Errorf("%q = %q (%v a week), want %q (%v)", c.in, h.String(), h.Weekly(), c.want, c.weekly)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"", "entry 1 is empty"},
		{"Mon-Fri 09:00-17:00,", "entry 2 is empty"},
		{"Mon-Fri", "is not days and times"},
		{"Mon-Fri 9:00-17:00", `"9:00" is not a time`},
		{"Mon-Fri 09:00-24:30", `"24:30" is not a time`},
		{"Mon-Fri 24:00-24:00", `"24:00" is not a time`},
		{"Mon-Fri 09:60-17:00", `"09:60"`},
		{"Mon-Fri 17:00-09:00", "is not after opening time"},
		{"Mon-Fri 09:00-09:00", "is not after opening time"},
		{"Mon-Fri 0900-1700", `"0900" is not a time`},
		{"Mon-Fri 09:00", "is not opening and closing times"},
		{"Mo-Fr 09:00-17:00", `"Mo" is not a day`},
		{"Mon-Mon 09:00-17:00", "names one day"},
		{"Mon-Fri 09:00-17:00, Wed 16:00-18:00", "entry 2 (\"Wed 16:00-18:00\") overlaps an earlier entry on Wed"},
		{"Mon-Fri 09:00-17:00 Sat 10:00-13:00", "is not days and times"},
	} {
		if _, err := ParseHours(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to say %q", c.in, err, c.want)
		}
	}
}

func TestFormatWait(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                            "0 min",
		-time.Minute:                 "0 min",
		59 * time.Second:             "0 min",
		45 * time.Minute:             "45 min",
		time.Hour:                    "1 h",
		2*time.Hour + 10*time.Minute: "2 h 10 min",
		2*time.Hour + 10*time.Minute + 59*time.Second: "2 h 10 min",
		24 * time.Hour:                  "1 d",
		3*24*time.Hour + 4*time.Hour:    "3 d 4 h",
		3*24*time.Hour + 59*time.Minute: "3 d",
	} {
		if got := FormatWait(d); got != want {
			t.Errorf("FormatWait(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	p := policy(t, map[string]string{"CLOSED_DATES": "2026-12-25"})
	if got := p.Describe(true); got != "30 min around the clock (in crisis)" {
		t.Errorf("crisis: %q", got)
	}
	if got := p.Describe(false); got != "4 h of business hours (Mon-Fri 09:00-17:00, America/New_York)" {
		t.Errorf("lead: %q", got)
	}
}
