// Package logging is how every function logs: JSON lines on stdout, which
// Lambda sends to CloudWatch Logs, at the level LOG_LEVEL names. What goes
// into a line is each caller's care: ids and codes, never submitted data.
package logging

import (
	"errors"
	"log/slog"
	"os"
	"strings"
)

// Level parses LOG_LEVEL: debug, info (also the default for ""), warn or
// error.
func Level(v string) (slog.Level, error) {
	var l slog.Level
	v = strings.TrimSpace(v)
	if v == "" {
		return slog.LevelInfo, nil
	}
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return 0, errors.New("LOG_LEVEL must be debug, info, warn or error")
	}
	return l, nil
}

// New returns a JSON logger on stdout at level.
func New(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}
