package lead

import "time"

// Actor is the staff member behind a request, from the verified access
// token: its subject and email.
type Actor struct {
	Subject string
	Email   string
}

// AuditAction says what a staff member did to a lead.
type AuditAction string

// Audited actions. Listing leads is not audited per row; opening one is.
const (
	AuditViewed        AuditAction = "viewed"
	AuditStatusChanged AuditAction = "status_changed"
	AuditNoteAdded     AuditAction = "note_added"
)

// AuditEntry is one record of the audit trail. It is kept without expiry,
// so it holds who, what and when, never a note's text or a form answer.
type AuditEntry struct {
	LeadID    string
	At        time.Time
	Actor     Actor
	Action    AuditAction
	From, To  Status // for AuditStatusChanged
	SourceIP  string
	UserAgent string
}

// StatusChange is one step of a lead's status history, kept on the lead.
type StatusChange struct {
	At       time.Time
	By       Actor
	From, To Status
}

// Note is a staff note on a lead. It lives on the lead and expires with it.
type Note struct {
	At   time.Time
	By   Actor
	Text string
}
