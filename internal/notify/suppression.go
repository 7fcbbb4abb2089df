package notify

import (
	"context"
	"log/slog"
	"time"

	"github.com/clinicleads/leadpipe/internal/sesmail"
)

// suppressionList tells whether SES's account-level suppression list
// holds an address, and why. *sesmail.SuppressionList has it.
type suppressionList interface {
	Suppressed(ctx context.Context, address string) (reason string, listed bool, err error)
}

// staffCheckTimeout bounds one check of all staff addresses.
const staffCheckTimeout = 10 * time.Second

// checkStaff looks every staff address up in SES's suppression list and
// returns how many are listed. Staff mail goes through a configuration set
// that ignores the list; an address on it still means mail to it bounced
// or was marked as spam, and any mail sent to it without that set is
// dropped. So each one is logged as an error with SES's reason (the
// address is the clinic's configuration, not a lead's data) and counted
// in StaffAddressSuppressed, which is alarmed. A look-up that fails is
// logged and counted, and stops nothing.
//
// Every scheduled sweep runs it (every 15 minutes): the alarm sums the
// count over 30 minutes, so it holds while two checks a period find the
// address. A few look-ups a run cost next to nothing.
func (h *Handler) checkStaff(ctx context.Context, log *slog.Logger) int {
	ctx, cancel := context.WithTimeout(ctx, staffCheckTimeout)
	defer cancel()
	listed, failed := 0, 0
	for _, a := range h.staffAddresses {
		reason, ok, err := h.suppressions.Suppressed(ctx, a)
		switch {
		case err != nil:
			failed++
			log.Error("cannot check a staff address against SES's suppression list", "address", a, "error_code", sesmail.ErrorCode(err))
		case ok:
			listed++
			log.Error("staff address is on SES's account suppression list: remove it there once its mailbox works again",
				"address", a, "reason", reason)
		}
	}
	// A count of 0 clears the alarm, so it is only reported when every
	// address was looked up.
	if listed > 0 || failed == 0 {
		h.countAll(metricStaffSuppressed, listed)
	}
	if failed > 0 {
		h.countAll(metricSuppressionCheckFailures, failed)
	}
	return listed
}
