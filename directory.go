package lanyard

import (
	"context"
	"fmt"
	"iter"
	"time"
)

// DirectoryActor is the actor of the changes a directory sync makes.
var DirectoryActor = Actor{Username: "directory", Addr: "ldap"}

// DirectoryEntry is one person as the directory describes them, mapped to
// a Lanyard user's fields.
type DirectoryEntry struct {
	DN         string
	Username   string // lower case
	Email      string
	CommonName string
	Attributes map[string]string
	// Roles are the roles the directory's groups give, among the roles
	// the directory manages (see DirectorySyncOptions.ManagedRoles).
	Roles []Role
	// Disabled is set for an account the directory keeps but has
	// disabled (Active Directory's account-disabled bit).
	Disabled bool
}

// Kinds of DirectoryChange.
const (
	DirectoryAdded       = "added"
	DirectoryUpdated     = "updated"
	DirectoryDeactivated = "deactivated"
	DirectoryReactivated = "reactivated"
	DirectoryConflict    = "conflict" // a local user has the directory user's username
	DirectorySkipped     = "skipped"  // an entry that cannot be a user, with the reason
)

// DirectoryChange is one change a sync makes, or would make in a dry run.
type DirectoryChange struct {
	Kind     string `json:"kind"`
	Username string `json:"username"`
	Detail   string `json:"detail,omitempty"`
}

// DirectoryResult counts what a sync did.
type DirectoryResult struct {
	Entries     int // entries read from the directory
	Added       int
	Updated     int // users whose mapped attributes or roles changed
	Deactivated int
	Reactivated int
	Conflicts   int
	Skipped     int
	// Changes lists the first MaxDirectoryChanges changes.
	Changes []DirectoryChange
	// StateChanges are the users whose state the sync changes; their
	// mobile IDs follow once the sync has committed.
	StateChanges []DirectoryStateChange
}

// MaxDirectoryChanges bounds DirectoryResult.Changes, so a first sync of a
// large directory keeps a bounded record.
const MaxDirectoryChanges = 500

// DirectoryStateChange is a user the sync deactivates or reactivates.
type DirectoryStateChange struct {
	Username string
	State    UserState
}

// Summary is the one line `lanyard directory sync` prints.
func (r *DirectoryResult) Summary() string { return "directory: " + r.Counts() }

// Counts says how many users were added, updated, deactivated and
// reactivated.
func (r *DirectoryResult) Counts() string {
	return fmt.Sprintf("%d added, %d updated, %d deactivated, %d reactivated", r.Added, r.Updated, r.Deactivated, r.Reactivated)
}

// Note records c, keeping at most MaxDirectoryChanges of them.
func (r *DirectoryResult) Note(c DirectoryChange) {
	if len(r.Changes) < MaxDirectoryChanges {
		r.Changes = append(r.Changes, c)
	}
}

// DirectorySyncOptions steer one sync.
type DirectorySyncOptions struct {
	DryRun bool
	// MaxDeactivatePercent stops a sync that would deactivate more than
	// this share of the directory's users (one is always allowed).
	MaxDeactivatePercent int
	// ManagedRoles are the roles the directory's groups decide; other
	// roles of directory users are left as they are.
	ManagedRoles []Role
}

// DirectoryRun is the record of one sync, shown in Admin › Directory.
type DirectoryRun struct {
	ID         int64
	StartedAt  time.Time
	FinishedAt time.Time
	DryRun     bool
	Actor      string
	OK         bool
	Result     DirectoryResult
	Error      string
}

// DirectoryStore applies what a directory says to Lanyard's users.
type DirectoryStore interface {
	// SyncDirectory makes the directory users match entries, the whole
	// directory as read by one search, in one transaction: it adds and
	// updates users, and marks the state changes of users who left,
	// came back or were disabled. A dry run changes nothing.
	SyncDirectory(ctx context.Context, actor Actor, entries iter.Seq2[*DirectoryEntry, error], opts DirectorySyncOptions) (*DirectoryResult, error)
	// DirectoryDN returns the DN of a directory user, and false for a
	// local or unknown user.
	DirectoryDN(ctx context.Context, username string) (dn string, ok bool, err error)
	// RecordDirectoryRun stores the record of a sync.
	RecordDirectoryRun(ctx context.Context, run *DirectoryRun) error
	// DirectoryRuns returns the newest records, newest first.
	DirectoryRuns(ctx context.Context, limit int) ([]*DirectoryRun, error)
	// LastDirectorySuccess returns when the last sync that was not a dry
	// run succeeded, zero if none has.
	LastDirectorySuccess(ctx context.Context) (time.Time, error)
	// ClaimDirectorySync claims the periodic sync due now for this
	// instance, moving the next one interval ahead; false when another
	// instance has it or it is not due.
	ClaimDirectorySync(ctx context.Context, interval time.Duration) (bool, error)
}
