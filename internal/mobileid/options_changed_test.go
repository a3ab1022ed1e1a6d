package mobileid_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/mobileid"
	"github.com/lanyard-id/lanyard/internal/options"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// failsForBob is the Get script with a server name that only alice, the
// sample user scripts are validated with, has: it fails for any bob.
var failsForBob = strings.Replace(options.DefaultGetScript, `"server_name": "Smart ID",`,
	`"server_name": {"alice": "Smart ID"}[user.username],`, 1)

// TestStartSeesScriptSavedElsewhere: a script saved by another process
// or instance (the command line, with options of its own, on the same
// database) between the introduction and the start applies to the start,
// whatever this instance read for the introduction: its options, its
// failure, or the end of the failure of the one before. A user is told of
// a failure only when the current script fails.
func TestStartSeesScriptSavedElsewhere(t *testing.T) {
	tests := []struct {
		name          string
		before, after string
		wantErr       string // part of the message; "" for a start
		wantValidity  int
	}{
		{"new options", options.DefaultGetScript, strings.Replace(options.DefaultGetScript, "validity_years = 2", "validity_years = 5", 1), "", 5},
		{"the one before failed", failsForBob, options.DefaultGetScript, "", 2},
		{"the new one fails", options.DefaultGetScript, failsForBob, "its options failed", 0},
	}
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ctx := context.Background()
		cli := &options.Service{Store: e.db, Users: e.users, Engine: options.New(options.Config{})}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u := e.addUser(t, "bob"+strconv.Itoa(i))
				actor := lanyard.Actor{Username: u.Username}
				save := func(src string) {
					t.Helper()
					if _, _, err := cli.Save(ctx, lanyard.CLIActor, mobileid.GetProcess, src, ""); err != nil && lanyard.ErrorCode(err) != lanyard.ECONFLICT {
						t.Fatalf("save script: %v", err)
					}
				}
				save(tt.before)
				e.svc.Intro(ctx, actor, u) // reads the script before, and fails with it
				save(tt.after)
				en, err := e.svc.Start(ctx, actor, u, mobileid.StartRequest{})
				failed := e.failedMails(t, u)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(lanyard.ErrorMessage(err), tt.wantErr) {
						t.Fatalf("start: %v, want %q", err, tt.wantErr)
					}
					if failed != 1 {
						t.Errorf("%d mails of the failure, want 1", failed)
					}
					return
				}
				if err != nil {
					t.Fatalf("start: %v", err)
				}
				if failed != 0 {
					t.Errorf("%d mails of a failure, want none", failed)
				}
				var o options.MobileID
				if err := json.Unmarshal(en.Options, &o); err != nil {
					t.Fatal(err)
				}
				if o.ValidityYears != tt.wantValidity {
					t.Errorf("the process started with validity %d, want %d", o.ValidityYears, tt.wantValidity)
				}
			})
		}
	})
}

// TestStartAfterAnUnheardSave: a script saved where this instance has not
// heard of it yet (another instance's save, its notification not yet
// come; here one whose trigger is held back) leaves the instance keeping
// the script before, so that the introduction still shows those options:
// the start's statement refuses them, and the start tried again opens the
// process with the new options.
func TestStartAfterAnUnheardSave(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ctx := context.Background()
		u := e.addUser(t, "bob")
		actor := lanyard.Actor{Username: u.Username}
		keptScript(t, e, u)
		saveUnheard(t, dsn, strings.Replace(options.DefaultGetScript, "validity_years = 2", "validity_years = 5", 1))
		in, err := e.svc.Intro(ctx, actor, u)
		if err != nil || in.Options.ValidityYears != 2 {
			t.Fatalf("the introduction after the save: %+v, %v; want the kept script's validity 2", in, err)
		}
		en, err := e.svc.Start(ctx, actor, u, mobileid.StartRequest{})
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		var o options.MobileID
		if err := json.Unmarshal(en.Options, &o); err != nil {
			t.Fatal(err)
		}
		if o.ValidityYears != 5 {
			t.Errorf("the process started with validity %d, want the new script's 5", o.ValidityYears)
		}
	})
}

// saveUnheard saves source as the next version of the Get script by hand,
// so that no instance hears of it: on SQLite the count of kept changes is
// put back in the same transaction, on PostgreSQL the notifying trigger is
// held back.
func saveUnheard(t *testing.T, dsn, source string) {
	t.Helper()
	driver, name := "sqlite", "file:"+dsn
	undo := `UPDATE kept_changes SET n = n - 1`
	if store.IsPostgresURL(dsn) {
		driver, name, undo = "pgx", dsn, `SELECT 1`
	}
	raw, err := sql.Open(driver, name)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	tx, err := raw.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	statements := []string{
		`INSERT INTO option_scripts (process, version, source, created_at, created_by)
			SELECT process, MAX(version) + 1, $1, 0, 'test' FROM option_scripts WHERE process = $2 GROUP BY process`,
		undo,
	}
	if store.IsPostgresURL(dsn) {
		statements = append([]string{`ALTER TABLE option_scripts DISABLE TRIGGER option_scripts_changed`}, statements...)
		statements = append(statements, `ALTER TABLE option_scripts ENABLE TRIGGER option_scripts_changed`)
	}
	for _, q := range statements {
		var args []any
		if strings.Contains(q, "$1") {
			args = []any{source, mobileid.GetProcess}
		}
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// failedMails counts the mails queued for u that say a mobile ID could
// not be created.
func (e *env) failedMails(t *testing.T, u *lanyard.User) int {
	t.Helper()
	list, err := e.outbox.ListMail(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range list {
		if m.Kind == "failed" && m.To == u.Email {
			n++
		}
	}
	return n
}
