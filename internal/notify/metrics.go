package notify

import (
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/metrics"
)

// Metrics (internal/metrics, Embedded Metric Format). Each count is
// published without dimensions, by form kind when it has one, and the
// same again by Stack (STACK_NAME) when that is set: the template's newer
// alarms read the Stack series, so two stacks in one account do not mix.
// Nothing personal is ever a dimension or a value.
const (
	// metricPermanentEmail counts staff emails SES will never accept as
	// they are; its alarm is the signal that leads are going to the
	// dead-letter queue.
	metricPermanentEmail = "PermanentEmailFailures"
	// metricPermanentConfirmation counts confirmations that could not be
	// sent (usually an address that bounces or is suppressed). Kept apart
	// so it does not trip the staff alarm.
	metricPermanentConfirmation = "PermanentConfirmationFailures"
	// metricUnreadable counts lead items the sweep skipped because it
	// could not read them (logged by key). Each needs a person.
	metricUnreadable = "UnreadableLeads"
	// metricStaffSuppressed is how many staff addresses the scheduled
	// check found on SES's suppression list (0 included, so its alarm
	// clears once they are removed).
	metricStaffSuppressed = "StaffAddressSuppressed"
	// metricSuppressionCheckFailures counts look-ups of the check that
	// failed (a missing IAM grant, SES down).
	metricSuppressionCheckFailures = "SuppressionCheckFailures"
	// metricLeadsOverdue is a gauge: how many leads still new are past
	// their service level, published by every scheduled run (0 included,
	// so its alarm clears).
	metricLeadsOverdue = "LeadsOverdue"
)

// count adds one to metric for kind.
func (h *Handler) count(metric string, kind lead.Kind) {
	h.counter().Count(metric, string(kind))
}

// countAll records n for metric without a form kind: for what is not
// about one lead of a known kind.
func (h *Handler) countAll(metric string, n int) {
	h.counter().Add(metric, "", n)
}

func (h *Handler) counter() *metrics.Counter {
	return &metrics.Counter{W: h.metrics, Stack: h.stack, Now: h.now, Log: h.log}
}
