package devstack

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestLineLog: an emulator's plain output becomes one JSON record per
// line, whatever the writes' boundaries, with the emulator's name.
func TestLineLog(t *testing.T) {
	var out bytes.Buffer
	l := &lineLog{log: logger(&out, "dynalite")}
	for _, w := range []string{"dynalite listen", "ing on http://127.0.0.1:8000\n", "\n  \r\n", "first\r\nsecond\nthird, no end"} {
		if n, err := l.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte(strings.Repeat("x", maxLogLine+1))) // no newline: logged once it is too long
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var rec struct{ Time, Level, Msg, Component string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Time == "" || rec.Level != "INFO" || rec.Component != "dynalite" {
			t.Fatalf("line %q is not an INFO record of dynalite (%v)", line, err)
		}
		got = append(got, rec.Msg)
	}
	want := []string{"dynalite listening on http://127.0.0.1:8000", "first", "second", "third, no end", strings.Repeat("x", maxLogLine+1)}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("messages = %.200q, want %.200q", got, want)
	}
}
