package main

import (
	"encoding/json"
	"io"
	"time"
)

// writeJSON writes v as indented JSON and a newline: the answer of
// --output json.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// rfc3339 formats t for output, in UTC; "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// seconds formats a duration for the step timings.
func seconds(d time.Duration) string {
	return d.Round(time.Millisecond).String()
}
