package lanyard

import (
	"context"
	"time"
)

// OptionScript is one saved version of the option script of a process.
// Versions are never changed or removed: restoring an old version saves it
// again as the newest.
type OptionScript struct {
	Process   string
	Version   int
	Source    string
	CreatedAt time.Time
	CreatedBy string
}

// ErrOptionsChanged refuses to open a process whose options came from a
// version of its script that is no longer the newest: the options are to
// be evaluated again from the newest.
var ErrOptionsChanged = Errorf(ECONFLICT, "The options of the process changed while it started. Please try again.")

// OptionScriptStore keeps the versions of every process's option script.
type OptionScriptStore interface {
	// CurrentScript returns the newest version, or ENOTFOUND.
	CurrentScript(ctx context.Context, process string) (*OptionScript, error)
	// ScriptVersions returns every version, newest first.
	ScriptVersions(ctx context.Context, process string) ([]*OptionScript, error)
	FindScript(ctx context.Context, process string, version int) (*OptionScript, error)
	// SaveScript stores source as the next version and audits it with
	// detail, in one transaction.
	SaveScript(ctx context.Context, actor Actor, process, source, detail string) (*OptionScript, error)
	// EnsureScript stores source as version 1 when the process has no
	// script yet, and does nothing otherwise.
	EnsureScript(ctx context.Context, process, source string) error
}
