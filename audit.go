package lanyard

import (
	"context"
	"time"
)

// Actor is who makes a change: a logged-in user, an administrator at the
// shell, or the system itself. It is recorded with every audit event.
type Actor struct {
	Username string // "" for the system
	Addr     string // remote address for web requests, "cli" for the shell
}

// SystemActor is the actor of changes Lanyard makes on its own, such as
// first-start setup and scheduled jobs.
var SystemActor = Actor{Username: "system", Addr: "local"}

// CLIActor is the actor of changes made with the lanyard command.
var CLIActor = Actor{Username: "cli", Addr: "cli"}

// AuditEvent records one state change: who did what, to what, when and from where.
type AuditEvent struct {
	ID int64
	// Seq is the event's place in the audit log's chain, 1, 2, 3, … with
	// no gaps: the number Admin › Audit log shows and verification names.
	Seq int64
	// PrevHash and Hash chain the event to the one before it: Hash covers
	// PrevHash and every field of the event (hex SHA-256).
	PrevHash string
	Hash     string
	Time     time.Time
	Actor    string
	Addr     string
	Action   string // e.g. "user.create", "session.login"
	Subject  string // what was changed, e.g. a username or a serial number
	Detail   string // a short human-readable description, never a secret
}

// AuditFilter selects audit events, newest first.
type AuditFilter struct {
	Actor    string
	Action   string
	Subject  string
	From, To time.Time // events at or after From and before To, when set
	Limit    int
	BeforeID int64 // for paging: events with a smaller ID
}

// AuditCheckpoint is a signature over the audit log's chain up to an
// event: whoever holds the audit key's public half can tell that the events
// up to Seq are those that were there when it was made.
type AuditCheckpoint struct {
	Seq       int64
	Hash      string // the Hash of event Seq
	Time      time.Time
	Signature []byte
}

// AuditService stores and reads the audit log. Stores also write audit
// events inside the transaction of the change they describe.
type AuditService interface {
	RecordAudit(ctx context.Context, actor Actor, action, subject, detail string) error
	FindAuditEvents(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)
}
