package devstack

import (
	"bytes"
	"io"
	"log/slog"
	"sync"
)

// The console of `make dev` shows one log format: JSON lines. The
// functions' own lines are JSON because that is what Lambda sends to
// CloudWatch Logs (internal/logging), and they stay exactly as deployed so
// that what a developer reads locally is what ops query in production. The
// stack's own lines (the local API's access log, which has the fields of
// the template's API access log, the stream, the authorizer) and the
// emulators' output are records of the same shape, with "component" saying
// where each comes from; a line without it is a function's. The start-up
// banner (URLs, the staff sign-in) and the final "stopped" line stay plain
// text on Out: they are instructions for the person at the terminal, not
// log records.

// logger returns the logger of one component of the stack on w.
func logger(w io.Writer, component string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, nil)).With("component", component)
}

// maxLogLine bounds a line kept while waiting for its end, so an emulator
// printing without newlines cannot grow memory without bound.
const maxLogLine = 64 << 10

// lineLog turns an emulator's plain-text output into log records: each
// line is one record's message. It is safe for concurrent use.
type lineLog struct {
	log     *slog.Logger
	mu      sync.Mutex
	pending []byte // the start of a line whose end has not come yet
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, p...)
	for {
		i := bytes.IndexByte(l.pending, '\n')
		if i < 0 {
			break
		}
		l.emit(l.pending[:i])
		l.pending = l.pending[i+1:]
	}
	if len(l.pending) > maxLogLine {
		l.emit(l.pending)
		l.pending = nil
	}
	return len(p), nil
}

// Flush logs a last line that never ended.
func (l *lineLog) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.emit(l.pending)
	l.pending = nil
	return nil
}

func (l *lineLog) emit(line []byte) {
	if line = bytes.TrimSpace(line); len(line) > 0 {
		l.log.Info(string(line))
	}
}
