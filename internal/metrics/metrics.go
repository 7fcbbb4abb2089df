// Package metrics counts events in CloudWatch Embedded Metric Format (EMF):
// one JSON line on stdout per count, which CloudWatch Logs turns into a
// metric with no API call and no extra permission. The only dimensions are
// the form kind and the stack's name, never anything a person sent.
package metrics

import (
	"encoding/json"
	"io"
	"log/slog"
	"time"
)

// Namespace holds every leadpipe metric; the template's alarms name it.
const Namespace = "LeadPipeline"

// Counter writes counts as EMF lines to W (os.Stdout in a function). A nil
// *Counter counts nothing, for handlers built by tests that do not look.
type Counter struct {
	W io.Writer
	// Stack (STACK_NAME), when set, publishes every count a second time
	// with a Stack dimension, so the alarms of two stacks in one account
	// do not see each other's counts. The sets without Stack are always
	// published, so alarms that name no dimension keep working.
	Stack string
	Now   func() time.Time // time.Now when nil
	Log   *slog.Logger     // where a failed write is reported; slog.Default() when nil
}

// Count adds one to metric: without dimensions, by Kind when kind is not
// empty, and, when Stack is set, the same again by Stack. A failed write is
// logged, not returned: a lost count must never fail the work it counts.
func (c *Counter) Count(metric, kind string) {
	c.Add(metric, kind, 1)
}

// Add records n for metric, with the dimensions Count uses: for a count
// of several things at once, or a figure that may be 0 (an alarm on it
// then returns to OK).
func (c *Counter) Add(metric, kind string, n int) {
	if c == nil {
		return
	}
	sets := [][]string{{}}
	if kind != "" {
		sets = append(sets, []string{"Kind"})
	}
	if c.Stack != "" {
		for _, s := range sets[:len(sets):len(sets)] {
			sets = append(sets, append([]string{"Stack"}, s...))
		}
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": now().UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  Namespace,
				"Dimensions": sets,
				"Metrics":    []any{map[string]string{"Name": metric, "Unit": "Count"}},
			}},
		},
		metric: n,
	}
	if kind != "" {
		line["Kind"] = kind
	}
	if c.Stack != "" {
		line["Stack"] = c.Stack
	}
	b, err := json.Marshal(line)
	if err == nil {
		_, err = c.W.Write(append(b, '\n'))
	}
	if err != nil {
		log := c.Log
		if log == nil {
			log = slog.Default()
		}
		log.Error("cannot write metric", "metric", metric, "error", err)
	}
}
