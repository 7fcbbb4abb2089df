package metrics

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

var at = time.Date(2026, 11, 28, 14, 3, 21, 0, time.UTC)

func TestCount(t *testing.T) {
	tests := []struct {
		name, stack, kind, want string
	}{
		// Exactly the line the notify function wrote before this package
		// existed: its alarms and dashboards keep their metrics.
		{"by kind", "", "consultation",
			`{"Kind":"consultation","PermanentEmailFailures":1,"_aws":{"CloudWatchMetrics":[{"Dimensions":[[],["Kind"]],"Metrics":[{"Name":"PermanentEmailFailures","Unit":"Count"}],"Namespace":"LeadPipeline"}],"Timestamp":1795874601000}}`},
		{"no kind", "", "",
			`{"PermanentEmailFailures":1,"_aws":{"CloudWatchMetrics":[{"Dimensions":[[]],"Metrics":[{"Name":"PermanentEmailFailures","Unit":"Count"}],"Namespace":"LeadPipeline"}],"Timestamp":1795874601000}}`},
		{"by stack and kind", "leadpipe-prod", "contact",
			`{"Kind":"contact","PermanentEmailFailures":1,"Stack":"leadpipe-prod","_aws":{"CloudWatchMetrics":[{"Dimensions":[[],["Kind"],["Stack"],["Stack","Kind"]],"Metrics":[{"Name":"PermanentEmailFailures","Unit":"Count"}],"Namespace":"LeadPipeline"}],"Timestamp":1795874601000}}`},
		{"by stack", "leadpipe-prod", "",
			`{"PermanentEmailFailures":1,"Stack":"leadpipe-prod","_aws":{"CloudWatchMetrics":[{"Dimensions":[[],["Stack"]],"Metrics":[{"Name":"PermanentEmailFailures","Unit":"Count"}],"Namespace":"LeadPipeline"}],"Timestamp":1795874601000}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			c := &Counter{W: &out, Stack: tt.stack, Now: func() time.Time { return at }}
			c.Count("PermanentEmailFailures", tt.kind)
			if got := out.String(); got != tt.want+"\n" {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestAdd(t *testing.T) {
	var out bytes.Buffer
	c := &Counter{W: &out, Stack: "leadpipe-prod", Now: func() time.Time { return at }}
	c.Add("StaffAddressSuppressed", "", 0)
	c.Add("UnreadableLeads", "", 3)
	want := `{"Stack":"leadpipe-prod","StaffAddressSuppressed":0,"_aws":{"CloudWatchMetrics":[{"Dimensions":[[],["Stack"]],"Metrics":[{"Name":"StaffAddressSuppressed","Unit":"Count"}],"Namespace":"LeadPipeline"}],"Timestamp":1795874601000}}
{"Stack":"leadpipe-prod","UnreadableLeads":3,"_aws":{"CloudWatchMetrics":[{"Dimensions":[[],["Stack"]],"Metrics":[{"Name":"UnreadableLeads","Unit":"Count"}],"Namespace":"LeadPipeline"}],"Timestamp":1795874601000}}
`
	if got := out.String(); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
}

func TestNilCounterCountsNothing(t *testing.T) {
	var c *Counter
	c.Count("IntakeFaults", "contact") // must not panic
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("stdout closed") }

func TestFailedWriteIsLogged(t *testing.T) {
	var logs bytes.Buffer
	c := &Counter{W: brokenWriter{}, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	c.Count("IntakeFaults", "contact")
	if !strings.Contains(logs.String(), `"msg":"cannot write metric"`) || !strings.Contains(logs.String(), `"metric":"IntakeFaults"`) {
		t.Errorf("logs = %s, want the failed write reported with the metric's name", logs.String())
	}
}
