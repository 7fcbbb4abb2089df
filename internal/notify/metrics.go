package notify

import (
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/metrics"
)

// Metrics (internal/metrics, Embedded Metric Format). Each count is
// published without dimensions (what the template's alarm watches) and by
// form kind. Nothing personal is ever a dimension or a value.
const (
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
	c := metrics.Counter{W: h.metrics, Now: h.now, Log: h.log}
	c.Count(metric, string(kind))
}
