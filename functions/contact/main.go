// Command contact is the Lambda behind POST /contact: the short contact
// form. All of its logic lives in internal/intake and internal/lead.
package main

import (
	"github.com/clinicleads/leadpipe/internal/intake"
	"github.com/clinicleads/leadpipe/internal/lead"
)

func main() {
	intake.Main(func() lead.Form { return new(lead.Contact) })
}
