package sla

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Hours are opening hours by weekday, as minutes after local midnight.
//
// The grammar of BUSINESS_HOURS (ParseHours):
//
//	hours = "always" | entry { "," entry }
//	entry = days " " open "-" close
//	days  = day [ "-" day ]        a range runs forward and may wrap: Sun-Thu, Fri-Mon
//	day   = Mon | Tue | Wed | Thu | Fri | Sat | Sun   (any case)
//	open  = HH:MM                  00:00 to 23:59
//	close = HH:MM                  after open, up to 24:00 (midnight at the end of the day)
//
// For example "Mon-Fri 09:00-17:00", "Mon-Fri 08:30-12:00, Mon-Fri
// 13:00-17:30, Sat 10:00-13:00", or "always" (LEAD_SLA then counts around
// the clock, less CLOSED_DATES). Spans of one day must not overlap; an
// opening past midnight is two entries (Fri 20:00-24:00, Sat 00:00-02:00).
type Hours struct {
	days    [7][]span // by time.Weekday, sorted
	entries []string  // normalised, for String
}

type span struct{ open, close int }

var dayNames = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// ParseHours reads BUSINESS_HOURS (see Hours). Errors say which entry is
// wrong and why, without echoing more than that entry.
func ParseHours(s string) (Hours, error) {
	var h Hours
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "always") {
		for d := range h.days {
			h.days[d] = []span{{0, 24 * 60}}
		}
		h.entries = []string{"always"}
		return h, nil
	}
	for i, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		n := i + 1
		if e == "" {
			return Hours{}, fmt.Errorf("entry %d is empty; want entries such as Mon-Fri 09:00-17:00, separated by commas", n)
		}
		f := strings.Fields(e)
		if len(f) != 2 {
			return Hours{}, fmt.Errorf("entry %d (%q) is not days and times such as Mon-Fri 09:00-17:00", n, e)
		}
		days, err := parseDays(f[0])
		if err != nil {
			return Hours{}, fmt.Errorf("entry %d (%q): %w", n, e, err)
		}
		sp, err := parseSpan(f[1])
		if err != nil {
			return Hours{}, fmt.Errorf("entry %d (%q): %w", n, e, err)
		}
		for _, d := range days {
			for _, o := range h.days[d] {
				if sp.open < o.close && o.open < sp.close {
					return Hours{}, fmt.Errorf("entry %d (%q) overlaps an earlier entry on %s", n, e, dayNames[d])
				}
			}
			h.days[d] = append(h.days[d], sp)
			slices.SortFunc(h.days[d], func(a, b span) int { return a.open - b.open })
		}
		name := dayNames[days[0]]
		if len(days) > 1 {
			name += "-" + dayNames[days[len(days)-1]]
		}
		h.entries = append(h.entries, name+" "+f[1])
	}
	return h, nil
}

// String is the hours in the grammar of ParseHours.
func (h Hours) String() string { return strings.Join(h.entries, ", ") }

func (h Hours) empty() bool {
	for _, d := range h.days {
		if len(d) > 0 {
			return false
		}
	}
	return true
}

// Weekly is the opening time of a week without closed dates (at 24 hours
// a day).
func (h Hours) Weekly() time.Duration {
	var m int
	for _, d := range h.days {
		for _, s := range d {
			m += s.close - s.open
		}
	}
	return time.Duration(m) * time.Minute
}

func parseDay(s string) (time.Weekday, error) {
	for i, n := range dayNames {
		if strings.EqualFold(s, n) {
			return time.Weekday(i), nil
		}
	}
	return 0, fmt.Errorf("%q is not a day; use Mon, Tue, Wed, Thu, Fri, Sat or Sun", s)
}

// parseDays reads "Mon" or "Mon-Fri"; a range runs forward from its first
// day, wrapping after Sat to Sun.
func parseDays(s string) ([]time.Weekday, error) {
	from, to, isRange := strings.Cut(s, "-")
	first, err := parseDay(from)
	if err != nil {
		return nil, err
	}
	if !isRange {
		return []time.Weekday{first}, nil
	}
	last, err := parseDay(to)
	if err != nil {
		return nil, err
	}
	if last == first {
		return nil, fmt.Errorf("day range %s-%s names one day; write it once", dayNames[first], dayNames[last])
	}
	var out []time.Weekday
	for d := first; ; d = (d + 1) % 7 {
		out = append(out, d)
		if d == last {
			return out, nil
		}
	}
}

// parseSpan reads "09:00-17:00".
func parseSpan(s string) (span, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return span{}, fmt.Errorf("%q is not opening and closing times such as 09:00-17:00", s)
	}
	open, err := parseClock(a, false)
	if err != nil {
		return span{}, err
	}
	close, err := parseClock(b, true)
	if err != nil {
		return span{}, err
	}
	if close <= open {
		return span{}, fmt.Errorf("closing time %s is not after opening time %s (for hours past midnight, add the next day as an entry of its own)", b, a)
	}
	return span{open, close}, nil
}

// parseClock reads HH:MM as minutes after midnight; 24:00 only as a
// closing time.
func parseClock(s string, closing bool) (int, error) {
	bad := fmt.Errorf("%q is not a time HH:MM from 00:00 to 23:59 (24:00 only to close)", s)
	if len(s) != 5 || s[2] != ':' {
		return 0, bad
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || s[0] == '+' || s[3] == '+' {
		return 0, bad
	}
	switch {
	case h < 24:
		return h*60 + m, nil
	case h == 24 && m == 0 && closing:
		return 24 * 60, nil
	}
	return 0, bad
}
