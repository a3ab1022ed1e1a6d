package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/prometheus/client_golang/prometheus"
)

// StateChanger changes a user's state and carries it to the user's mobile
// IDs and certificates: the mobile ID service.
type StateChanger interface {
	SetUserState(ctx context.Context, actor lanyard.Actor, username string, state lanyard.UserState) (*lanyard.User, error)
}

// Syncer makes Lanyard's users follow the directory: at start, every
// Interval (once per cluster), and when asked.
type Syncer struct {
	Dir    *Directory
	Store  lanyard.DirectoryStore
	States StateChanger
	Logger *slog.Logger
	// MaxDeactivatePercent stops a sync that would deactivate more than
	// this share of the directory's users.
	MaxDeactivatePercent int
	Interval             time.Duration

	mu       sync.Mutex // serialises syncs of this instance
	statusMu sync.Mutex
	status   Status
}

// Status is what the instance knows of the directory, for /readyz,
// /metrics and Admin › Directory.
type Status struct {
	// LastSuccess is when a sync last succeeded, on any instance.
	LastSuccess time.Time
	// LastError is why the latest sync of this instance failed; empty
	// after a success.
	LastError string
	// Unreachable is set while the directory does not answer.
	Unreachable bool
}

// managedRoles are the roles the configured groups decide.
func (s *Syncer) managedRoles() []lanyard.Role {
	var roles []lanyard.Role
	if s.Dir.cfg.GroupOperator != "" {
		roles = append(roles, lanyard.RoleOperator)
	}
	if s.Dir.cfg.GroupAdmin != "" {
		roles = append(roles, lanyard.RoleAdmin)
	}
	return roles
}

// Sync reads the directory and applies it, or in a dry run only says what
// it would change; by names who asked for it. The changes are audited with
// the directory as their actor. Every run is recorded, and a failed one
// changes nothing. The returned run holds the result even when err is set
// by a state change that failed after the sync committed.
func (s *Syncer) Sync(ctx context.Context, by string, dryRun bool) (*lanyard.DirectoryRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	run := &lanyard.DirectoryRun{StartedAt: time.Now(), DryRun: dryRun, Actor: by}
	res, err := s.sync(ctx, lanyard.DirectoryActor, dryRun)
	if res != nil {
		run.Result = *res
	}
	run.FinishedAt, run.OK = time.Now(), err == nil
	if err != nil {
		run.Error = oneLine(err)
		if ctx.Err() != nil {
			return run, err // stopped, not failed: nothing to record
		}
	}
	if rerr := s.Store.RecordDirectoryRun(context.WithoutCancel(ctx), run); rerr != nil {
		s.Logger.Error("record directory sync", "err", rerr)
	}
	s.statusMu.Lock()
	if err == nil && !dryRun {
		s.status.LastSuccess = run.FinishedAt
	}
	if err == nil || res != nil {
		s.status.LastError, s.status.Unreachable = "", false
	}
	if err != nil {
		s.status.LastError, s.status.Unreachable = run.Error, isUnreachable(err)
	}
	s.statusMu.Unlock()
	return run, err
}

func (s *Syncer) sync(ctx context.Context, actor lanyard.Actor, dryRun bool) (*lanyard.DirectoryResult, error) {
	sp, err := s.Dir.read(ctx)
	if err != nil {
		return nil, err
	}
	defer sp.close()
	res, err := s.Store.SyncDirectory(ctx, actor, sp.entries(), lanyard.DirectorySyncOptions{
		DryRun: dryRun, MaxDeactivatePercent: s.MaxDeactivatePercent, ManagedRoles: s.managedRoles(),
	})
	if err != nil || dryRun {
		return res, err
	}
	// The users' states change through the mobile ID service, each whole
	// with the user's mobile IDs and certificates. One that fails is
	// tried again by the next sync, which finds it unchanged.
	var errs []error
	for _, c := range res.StateChanges {
		if _, err := s.States.SetUserState(ctx, actor, c.Username, c.State); err != nil {
			errs = append(errs, fmt.Errorf("set %s %s: %w", c.Username, c.State, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	return res, nil
}

// Runs returns the records of the latest syncs, newest first.
func (s *Syncer) Runs(ctx context.Context, limit int) ([]*lanyard.DirectoryRun, error) {
	return s.Store.DirectoryRuns(ctx, limit)
}

// Status returns what this instance knows of the directory.
func (s *Syncer) Status() Status {
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	return s.status
}

// Init reads the time of the last successful sync from the database, so
// that /metrics shows it before this instance's first sync ends.
func (s *Syncer) Init(ctx context.Context) error {
	t, err := s.Store.LastDirectorySuccess(ctx)
	if err != nil {
		return err
	}
	s.statusMu.Lock()
	if s.status.LastSuccess.Before(t) {
		s.status.LastSuccess = t
	}
	s.statusMu.Unlock()
	return nil
}

// Run syncs at once, then whenever this instance claims the periodic sync,
// until ctx ends.
func (s *Syncer) Run(ctx context.Context) {
	if err := s.Init(ctx); err != nil {
		s.Logger.Error("read last directory sync", "err", err)
	}
	if _, err := s.Store.ClaimDirectorySync(ctx, s.Interval); err != nil {
		s.Logger.Error("claim directory sync", "err", err)
	}
	s.runOnce(ctx)
	tick := min(s.Interval, 15*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ok, err := s.Store.ClaimDirectorySync(ctx, s.Interval)
			if err != nil {
				s.Logger.Error("claim directory sync", "err", err)
			} else if ok {
				s.runOnce(ctx)
			} else if err := s.Init(ctx); err != nil {
				s.Logger.Error("read last directory sync", "err", err)
			}
		}
	}
}

func (s *Syncer) runOnce(ctx context.Context) {
	run, err := s.Sync(ctx, "schedule", false)
	if err != nil {
		if ctx.Err() == nil {
			s.Logger.Error("directory sync failed; nothing changed", "err", run.Error)
		}
		return
	}
	r := run.Result
	s.Logger.Info("directory synced", "entries", r.Entries, "added", r.Added, "updated", r.Updated,
		"deactivated", r.Deactivated, "reactivated", r.Reactivated, "conflicts", r.Conflicts, "skipped", r.Skipped)
}

// ReadyDetail is the directory's line in /readyz: the directory never makes
// an instance unready, but its state is said.
func (s *Syncer) ReadyDetail() string {
	st := s.Status()
	switch {
	case st.Unreachable:
		return "directory: unreachable: " + st.LastError
	case st.LastError != "":
		return "directory: last sync failed: " + st.LastError
	case st.LastSuccess.IsZero():
		return "directory: not synced yet"
	}
	return "directory: synced " + st.LastSuccess.UTC().Format(time.RFC3339)
}

// Collectors are the directory's metrics.
func (s *Syncer) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lanyard_directory_last_sync_success_timestamp_seconds",
			Help: "Unix time of the last successful directory sync (0: none yet).",
		}, func() float64 {
			if t := s.Status().LastSuccess; !t.IsZero() {
				return float64(t.UnixMilli()) / 1000
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lanyard_directory_reachable",
			Help: "1 unless the latest directory sync found the directory unreachable.",
		}, func() float64 {
			if s.Status().Unreachable {
				return 0
			}
			return 1
		}),
	}
}

// oneLine renders err as one line, with a domain error's message.
func oneLine(err error) string {
	msg := err.Error()
	var le *lanyard.Error
	if errors.As(err, &le) {
		msg = le.Message
	}
	return strings.Join(strings.Fields(msg), " ")
}
