package notify

import (
	"encoding/json"

	"github.com/clinicleads/leadpipe/internal/lead"
)

// Metrics, in CloudWatch Embedded Metric Format: a JSON log line that
// CloudWatch turns into a metric, with no API call and no extra permission.
// Each count is published twice: without dimensions (what the template's
// alarm watches) and by form kind. Nothing personal is ever a dimension or
// a value.
const (
	metricNamespace = "LeadPipeline"
	// metricPermanentEmail counts staff emails SES will never accept as
	// they are; its alarm is the signal that leads are going to the
	// dead-letter queue.
	metricPermanentEmail = "PermanentEmailFailures"
	// metricPermanentConfirmation counts confirmations that could not be
	// sent (usually an address that bounces or is suppressed). Kept apart
	// so it does not trip the staff alarm.
	metricPermanentConfirmation = "PermanentConfirmationFailures"
)

// count adds one to metric for kind.
func (h *Handler) count(metric string, kind lead.Kind) {
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": h.now().UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  metricNamespace,
				"Dimensions": [][]string{{}, {"Kind"}},
				"Metrics":    []any{map[string]string{"Name": metric, "Unit": "Count"}},
			}},
		},
		"Kind": string(kind),
		metric: 1,
	}
	b, err := json.Marshal(line)
	if err == nil {
		_, err = h.metrics.Write(append(b, '\n'))
	}
	if err != nil {
		h.log.Error("cannot write metric", "metric", metric, "error", err)
	}
}
