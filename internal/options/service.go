package options

import (
	"context"
	"fmt"
	"strings"

	"github.com/lanyard-id/lanyard"
)

// Service keeps the option scripts of every process: it validates a script
// before it is saved, versions and audits it through the store, and
// evaluates it for a user. The script a process starts from is checked
// against the newest version when the process is created
// (lanyard.ErrOptionsChanged), so a saved script applies to the next
// process started on every instance without a restart.
type Service struct {
	Store  lanyard.OptionScriptStore
	Users  lanyard.UserService
	Engine *Engine
}

// UserOf converts a domain user into what a script sees.
func UserOf(u *lanyard.User) User {
	return User{Username: u.Username, Email: u.Email, CommonName: u.CommonName, Attributes: u.Attributes}
}

// EnsureDefaults stores the default script of every process that has none.
func (s *Service) EnsureDefaults(ctx context.Context) error {
	for _, p := range Processes() {
		src, _ := DefaultScript(p)
		if err := s.Store.EnsureScript(ctx, p, src); err != nil {
			return fmt.Errorf("store default options of %s: %w", p, err)
		}
	}
	return nil
}

// checkProcess refuses names that are not processes.
func checkProcess(process string) error {
	if !IsProcess(process) {
		return lanyard.Errorf(lanyard.ENOTFOUND, "There is no process named %q; the processes are %s.",
			truncate(process, 80), strings.Join(Processes(), ", "))
	}
	return nil
}

// Current returns the current script of a process.
func (s *Service) Current(ctx context.Context, process string) (*lanyard.OptionScript, error) {
	if err := checkProcess(process); err != nil {
		return nil, err
	}
	return s.Store.CurrentScript(ctx, process)
}

// Versions returns every version of a process's script, newest first.
func (s *Service) Versions(ctx context.Context, process string) ([]*lanyard.OptionScript, error) {
	if err := checkProcess(process); err != nil {
		return nil, err
	}
	return s.Store.ScriptVersions(ctx, process)
}

// Validate checks a script against the sample user without saving it.
func (s *Service) Validate(process, source string) error {
	if err := checkProcess(process); err != nil {
		return err
	}
	return s.Engine.Validate(process, source, User{})
}

// DryRun evaluates a script, saved or not, for a real user and returns the
// options it gives them, keyed by script name.
func (s *Service) DryRun(ctx context.Context, process, source, username string) (map[string]any, error) {
	if err := checkProcess(process); err != nil {
		return nil, err
	}
	u, err := s.Users.FindUserByUsername(ctx, username)
	if err != nil {
		return nil, err
	}
	return s.Engine.DryRun(process, source, UserOf(u))
}

// Save validates and stores source as the next version. When dryRunUser is
// given and the script fails for that user, the script is still saved (it
// is valid) and the failure is returned as a warning.
func (s *Service) Save(ctx context.Context, actor lanyard.Actor, process, source, dryRunUser string) (*lanyard.OptionScript, string, error) {
	source = NormalizeSource(source)
	if err := checkProcess(process); err != nil {
		return nil, "", err
	}
	// The cheap comparison first: an unchanged script needs no evaluation.
	old := ""
	if cur, err := s.Store.CurrentScript(ctx, process); err == nil {
		old = cur.Source
	} else if lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		return nil, "", err
	}
	if old == source {
		return nil, "", lanyard.Errorf(lanyard.ECONFLICT, "The script is unchanged; nothing was saved.")
	}
	if err := s.Engine.Validate(process, source, User{}); err != nil {
		return nil, "", err
	}
	var warning string
	if dryRunUser != "" {
		if _, err := s.DryRun(ctx, process, source, dryRunUser); err != nil {
			if IsLimit(err) {
				return nil, "", err
			}
			warning = "Saved, but the script fails for " + dryRunUser + ": " + lanyard.ErrorMessage(err)
		}
	}
	if err := s.trySample(ctx, process, source); err != nil {
		return nil, "", err
	}
	sc, err := s.Store.SaveScript(ctx, actor, process, source, Diff(old, source))
	return sc, warning, err
}

// sampleSize is how many real users a script is tried on before it is
// saved.
const sampleSize = 50

// trySample runs a script for a sample of real users, active ones first,
// and refuses it if any run exceeds a limit of the engine: a script that
// blows up only for some users must not pass because the sample user is
// not one of them. A script that fails for a user in another way (an
// attribute the user lacks) is saved, as a dry run's failure is.
func (s *Service) trySample(ctx context.Context, process, source string) error {
	if s.Users == nil {
		return nil
	}
	users, err := s.Users.FindUsers(ctx, lanyard.UserFilter{State: lanyard.UserActive, Limit: sampleSize})
	if err != nil {
		return err
	}
	for _, u := range users {
		if _, err := s.Engine.Evaluate(process, source, UserOf(u)); IsLimit(err) {
			return err
		}
	}
	return nil
}

// Restore saves an old version again as the newest.
func (s *Service) Restore(ctx context.Context, actor lanyard.Actor, process string, version int) (*lanyard.OptionScript, error) {
	if err := checkProcess(process); err != nil {
		return nil, err
	}
	old, err := s.Store.FindScript(ctx, process, version)
	if err != nil {
		return nil, err
	}
	sc, _, err := s.Save(ctx, actor, process, old.Source, "")
	return sc, err
}

// MobileIDOf evaluates the script sc of a mobile ID process for u.
func (s *Service) MobileIDOf(sc *lanyard.OptionScript, u *lanyard.User) (MobileID, error) {
	return s.Engine.MobileID(sc.Process, sc.Source, UserOf(u))
}

// Expiring evaluates the current script for expiring mobile IDs for u.
func (s *Service) Expiring(ctx context.Context, u *lanyard.User) (Expiring, error) {
	sc, err := s.Current(ctx, MobileIDExpiring)
	if err != nil {
		return Expiring{}, err
	}
	return s.Engine.Expiring(sc.Source, UserOf(u))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// NormalizeSource gives a script the line endings it is stored with, so a
// script pasted into a browser (which sends CRLF) diffs cleanly.
func NormalizeSource(source string) string {
	source = strings.ReplaceAll(source, "\r\n", "\n")
	if source != "" && !strings.HasSuffix(source, "\n") {
		source += "\n"
	}
	return source
}
