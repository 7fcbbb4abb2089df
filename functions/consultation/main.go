// Command consultation is the Lambda behind POST /consultations: the
// consultation request. All of its logic lives in internal/intake and
// internal/lead.
package main

import (
	"github.com/clinicleads/leadpipe/internal/intake"
	"github.com/clinicleads/leadpipe/internal/lead"
)

func main() {
	intake.Main(func() lead.Form { return new(lead.Consultation) })
}
