// Package sla is the clinic's service levels: how long a new lead may wait
// before someone must have picked it up. A lead in crisis has CRISIS_SLA
// around the clock; every other lead has LEAD_SLA of business hours
// (BUSINESS_HOURS, minus CLOSED_DATES) in the clinic's time zone. The
// notifier's escalation and the staff inbox's overdue marker both ask this
// package, so the two never disagree.
//
// Business hours are wall-clock times in the clinic's zone; the time they
// count is real elapsed time. So a day on which the clocks change has one
// hour more or less of opening when its hours span the change, and an
// opening at 09:00 is 09:00 local on either side of it.
package sla

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Defaults of the settings.
const (
	DefaultCrisis = 30 * time.Minute
	DefaultLead   = 4 * time.Hour
	DefaultHours  = "Mon-Fri 09:00-17:00"
)

// maxClosedDates bounds CLOSED_DATES: a few years of holidays.
const maxClosedDates = 500

// searchDays bounds the search for opening hours (ten years), so that no
// setting can make a deadline loop for long. Reaching it gives the time
// reached, which only makes an escalation early, never never.
const searchDays = 3660

// Policy is a clinic's service levels. The zero value is not usable; build
// one with New or FromEnv.
type Policy struct {
	crisis, lead time.Duration
	hours        Hours
	closed       map[civilDate]bool
	zone         *time.Location
}

// New returns the policy with the given levels (both positive), hours,
// closed dates and zone (nil means UTC).
func New(crisis, lead time.Duration, hours Hours, closed []time.Time, zone *time.Location) (Policy, error) {
	if crisis <= 0 || lead <= 0 {
		return Policy{}, errors.New("service levels must be positive durations")
	}
	if hours.empty() {
		return Policy{}, errors.New("business hours are empty")
	}
	if zone == nil {
		zone = time.UTC
	}
	p := Policy{crisis: crisis, lead: lead, hours: hours, closed: map[civilDate]bool{}, zone: zone}
	for _, d := range closed {
		p.closed[dateOf(d)] = true
	}
	return p, nil
}

// Default is the policy of the defaults (DefaultCrisis, DefaultLead,
// DefaultHours, no closed dates) in zone (nil: UTC).
func Default(zone *time.Location) Policy {
	hours, err := ParseHours(DefaultHours)
	if err != nil {
		panic("sla: DefaultHours does not parse: " + err.Error())
	}
	p, _ := New(DefaultCrisis, DefaultLead, hours, nil, zone) // positive levels, hours set: cannot fail
	return p
}

// IsZero reports whether p is the zero Policy, which has no levels.
func (p Policy) IsZero() bool { return p.zone == nil }

// FromEnv reads CRISIS_SLA, LEAD_SLA, BUSINESS_HOURS and CLOSED_DATES with
// getenv, each with its default when unset; zone is CLINIC_TIMEZONE (nil:
// UTC), read by the caller. Errors name the variable.
func FromEnv(getenv func(string) string, zone *time.Location) (Policy, error) {
	crisis, err := duration(getenv, "CRISIS_SLA", DefaultCrisis)
	if err != nil {
		return Policy{}, err
	}
	lead, err := duration(getenv, "LEAD_SLA", DefaultLead)
	if err != nil {
		return Policy{}, err
	}
	spec := strings.TrimSpace(getenv("BUSINESS_HOURS"))
	if spec == "" {
		spec = DefaultHours
	}
	hours, err := ParseHours(spec)
	if err != nil {
		return Policy{}, fmt.Errorf("BUSINESS_HOURS: %w", err)
	}
	closed, err := ParseDates(getenv("CLOSED_DATES"))
	if err != nil {
		return Policy{}, fmt.Errorf("CLOSED_DATES: %w", err)
	}
	return New(crisis, lead, hours, closed, zone)
}

func duration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s must be a positive Go duration such as 30m or 4h, not %q", name, v)
	}
	return d, nil
}

// Crisis and Lead are the two service levels.
func (p Policy) Crisis() time.Duration { return p.crisis }

// Lead is the level of a lead not in crisis, in business hours.
func (p Policy) Lead() time.Duration { return p.lead }

// Hours are the business hours LEAD_SLA counts in.
func (p Policy) Hours() Hours { return p.hours }

// Zone is the clinic's time zone the hours are in.
func (p Policy) Zone() *time.Location { return p.zone }

// Soonest is the shortest wall-clock time after which any lead can be
// overdue: a lead received more recently is never overdue (business time
// never runs faster than the clock).
func (p Policy) Soonest() time.Duration { return min(p.crisis, p.lead) }

// Due returns when a lead received at received reaches level n of its
// service level (n = 1 overdue, n = 2 the louder second level at twice
// the service level): received plus n × CRISIS_SLA for a lead in crisis,
// whatever the hours, or n × LEAD_SLA of business hours after received.
func (p Policy) Due(received time.Time, inCrisis bool, n int) time.Time {
	if inCrisis {
		return received.Add(time.Duration(n) * p.crisis)
	}
	return p.addOpen(received, time.Duration(n)*p.lead)
}

// MaxLevel is the highest level there is.
const MaxLevel = 2

// Level is the level a lead received at received has reached at now: 0
// (within its service level), 1 (overdue) or 2 (twice over).
func (p Policy) Level(received, now time.Time, inCrisis bool) int {
	for n := MaxLevel; n >= 1; n-- {
		if !now.Before(p.Due(received, inCrisis, n)) {
			return n
		}
	}
	return 0
}

// Overdue reports whether a lead still new at now is past its service
// level.
func (p Policy) Overdue(received, now time.Time, inCrisis bool) bool {
	return p.Level(received, now, inCrisis) >= 1
}

// Describe says the level that applies to a lead, for people: "30 min
// around the clock" or "4 h of business hours (Mon-Fri 09:00-17:00,
// America/New_York)".
func (p Policy) Describe(inCrisis bool) string {
	if inCrisis {
		return FormatWait(p.crisis) + " around the clock (in crisis)"
	}
	return FormatWait(p.lead) + " of business hours (" + p.hours.String() + ", " + p.zone.String() + ")"
}

// addOpen returns the moment d of opening time has passed after from,
// skipping closed dates.
func (p Policy) addOpen(from time.Time, d time.Duration) time.Time {
	local := from.In(p.zone)
	y, m, day := local.Date()
	reached := from
	for i := range searchDays {
		date := time.Date(y, m, day+i, 0, 0, 0, 0, p.zone)
		if p.closed[dateOf(date)] {
			continue
		}
		for _, s := range p.hours.days[date.Weekday()] {
			open, close := clock(date, s.open, p.zone), clock(date, s.close, p.zone)
			if !close.After(from) {
				continue
			}
			start := open
			if start.Before(from) {
				start = from
			}
			left := close.Sub(start)
			if d <= left {
				return start.Add(d)
			}
			d -= left
			reached = close
		}
	}
	return reached
}

// clock is minute m of date's day in zone (1440 is the next midnight).
// time.Date normalises a wall time the clocks skip on a change.
func clock(date time.Time, m int, zone *time.Location) time.Time {
	y, mo, d := date.Date()
	return time.Date(y, mo, d, m/60, m%60, 0, 0, zone)
}

// Wait is how long a lead received at received has waited at now (never
// negative): the wall-clock time a person has been waiting.
func Wait(received, now time.Time) time.Duration {
	if w := now.Sub(received); w > 0 {
		return w
	}
	return 0
}

// FormatWait writes a wait the way the emails and the inbox show it:
// "45 min", "2 h 10 min", "3 d 4 h" (rounded down to the minute).
func FormatWait(d time.Duration) string {
	mins := int64(d / time.Minute)
	if mins < 0 {
		mins = 0
	}
	switch {
	case mins < 60:
		return strconv.FormatInt(mins, 10) + " min"
	case mins < 24*60:
		s := strconv.FormatInt(mins/60, 10) + " h"
		if r := mins % 60; r != 0 {
			s += " " + strconv.FormatInt(r, 10) + " min"
		}
		return s
	}
	s := strconv.FormatInt(mins/(24*60), 10) + " d"
	if r := mins % (24 * 60) / 60; r != 0 {
		s += " " + strconv.FormatInt(r, 10) + " h"
	}
	return s
}

// civilDate is a date in the clinic's calendar.
type civilDate struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

// ParseDates reads CLOSED_DATES: dates YYYY-MM-DD, comma-separated
// (spaces allowed, empty entries ignored). Each closes the whole day in
// the clinic's calendar to LEAD_SLA; CRISIS_SLA runs on.
func ParseDates(s string) ([]time.Time, error) {
	var out []time.Time
	for i, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		d, err := time.Parse(time.DateOnly, f)
		if err != nil {
			return nil, fmt.Errorf("entry %d (%q) is not a date YYYY-MM-DD such as 2026-12-25", i+1, f)
		}
		out = append(out, d)
	}
	if len(out) > maxClosedDates {
		return nil, fmt.Errorf("%d dates; at most %d", len(out), maxClosedDates)
	}
	return out, nil
}
