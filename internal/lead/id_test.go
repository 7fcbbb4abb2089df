package lead

import (
	"encoding/hex"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestNewIDUnique(t *testing.T) {
	now := time.Now()
	seen := make(map[string]bool, 10000)
	for i := 0; i < 10000; i++ {
		id := NewID(now) // one millisecond for all: only the random bits differ
		if seen[id] {
			t.Fatalf("duplicate id %s after %d ids", id, i)
		}
		seen[id] = true
	}
}

func TestNewIDFormat(t *testing.T) {
	now := time.Date(2025, time.June, 15, 14, 30, 0, 123456789, time.UTC)
	for i := 0; i < 1000; i++ {
		id := NewID(now)
		if !uuidV7.MatchString(id) {
			t.Fatalf("NewID = %q, not a lower-case UUIDv7", id)
		}
		b, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
		if err != nil || len(b) != 16 {
			t.Fatalf("NewID = %q: %v", id, err)
		}
		if v := b[6] >> 4; v != 7 {
			t.Errorf("version %d, want 7", v)
		}
		if variant := b[8] >> 6; variant != 0b10 {
			t.Errorf("variant bits %02b, want 10", variant)
		}
		var ms int64
		for _, c := range b[:6] {
			ms = ms<<8 | int64(c)
		}
		if ms != now.UnixMilli() {
			t.Errorf("timestamp %d, want %d", ms, now.UnixMilli())
		}
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	start := time.Date(2025, time.June, 15, 0, 0, 0, 0, time.UTC)
	steps := []time.Duration{time.Millisecond, time.Second, time.Hour, 24 * time.Hour, 400 * 24 * time.Hour}
	var ids []string
	at := start
	for i := 0; i < 10000; i++ {
		at = at.Add(steps[i%len(steps)])
		ids = append(ids, NewID(at))
	}
	if !sort.StringsAreSorted(ids) {
		for i := 1; i < len(ids); i++ {
			if ids[i-1] >= ids[i] {
				t.Fatalf("id %d (%s) sorts before id %d (%s) though created later", i, ids[i], i-1, ids[i-1])
			}
		}
	}
	// Timestamps whose hex digits change in every position still sort.
	a, b := NewID(time.UnixMilli(0x0fffffffffff)), NewID(time.UnixMilli(0x100000000000))
	if a >= b {
		t.Errorf("%s >= %s", a, b)
	}
}

func TestShortID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0197733a-1b2c-7d3e-8f40-5a6b7c8d9e0f", "7c8d9e0f"},
		{"12345678", "12345678"},
		{"short", "short"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ShortID(tt.in); got != tt.want {
			t.Errorf("ShortID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Two leads in the same millisecond still get different short ids.
	now := time.Now()
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		s := ShortID(NewID(now))
		if seen[s] {
			t.Fatalf("short id %s repeated within 1000 ids", s)
		}
		seen[s] = true
	}
}
