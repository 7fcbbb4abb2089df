package lead

// The staff workflow. Intake writes New (or Spam for the honeypot); staff
// move a lead on from there in the inbox.
const (
	StatusContacted Status = "contacted"
	StatusScheduled Status = "scheduled"
	StatusClosed    Status = "closed"
	StatusNotAFit   Status = "not_a_fit"
)

// Statuses lists every status in the order the inbox shows its filters.
var Statuses = []Status{StatusNew, StatusContacted, StatusScheduled, StatusClosed, StatusNotAFit, StatusSpam}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Open reports whether someone still has to act on a lead in status s.
func (s Status) Open() bool {
	return s == StatusNew || s == StatusContacted || s == StatusScheduled
}

// Label is the status as staff read it.
func (s Status) Label() string {
	switch s {
	case StatusNew:
		return "New"
	case StatusContacted:
		return "Contacted"
	case StatusScheduled:
		return "Scheduled"
	case StatusClosed:
		return "Closed"
	case StatusNotAFit:
		return "Not a fit"
	case StatusSpam:
		return "Spam"
	}
	return string(s)
}

// next holds the forward steps of the workflow.
var next = map[Status]Status{
	StatusNew:       StatusContacted,
	StatusContacted: StatusScheduled,
	StatusScheduled: StatusClosed,
}

// CanMove reports whether the workflow lets a lead go from one status to
// another: one step forward (new → contacted → scheduled → closed),
// not_a_fit from any open status, spam from any other status, and back
// from spam to new (how a person caught by the honeypot is rescued).
// Staying in the same status is not a move.
func CanMove(from, to Status) bool {
	if !from.Valid() || !to.Valid() || from == to {
		return false
	}
	switch {
	case next[from] == to:
		return true
	case to == StatusNotAFit:
		return from.Open()
	case to == StatusSpam:
		return true
	case from == StatusSpam:
		return to == StatusNew
	}
	return false
}

// MaxNoteLength bounds a staff note, in characters.
const MaxNoteLength = 2000
