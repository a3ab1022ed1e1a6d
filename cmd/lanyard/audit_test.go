package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/auditlog"
	"github.com/lanyard-id/lanyard/internal/config"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// openInstallation opens the installation of c in-process, CA and audit
// key included, as serve does.
func (c *cli) openInstallation() *app {
	c.t.Helper()
	cfg := config.Default()
	cfg.DataDir = c.base[1]
	if len(c.base) > 2 {
		cfg.DB = c.base[3]
	}
	ctx := context.Background()
	a, err := openApp(ctx, env{stdout: io.Discard, stderr: io.Discard, getenv: os.Getenv}, cfg, io.Discard)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { a.Close() })
	if err := a.openCA(ctx); err != nil {
		c.t.Fatal(err)
	}
	return a
}

// rawDB opens the database of c for direct edits, as an intruder would.
func (c *cli) rawDB() *sql.DB {
	c.t.Helper()
	var db *sql.DB
	var err error
	if store.IsPostgresURL(c.dsn()) {
		db, err = sql.Open("pgx", c.dsn())
	} else {
		db, err = sql.Open("sqlite", "file:"+c.dsn())
	}
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { db.Close() })
	return db
}

// auditedInstallation makes an installation with a few audited changes,
// the first ones under a signed checkpoint, and returns the number of
// its events.
func auditedInstallation(t *testing.T, engine string) (*cli, int) {
	t.Helper()
	c := newCLI(t, engine)
	pw := writeFile(t, "pw", "correct horse battery\n")
	for i := range 6 {
		name := "user" + strconv.Itoa(i)
		c.ok("", "user", "add", name, "--email", name+"@example.com", "--name", "User "+strconv.Itoa(i), "--password-file", pw)
		if i == 3 {
			c.openInstallation().checkpointAudit(context.Background())
		}
	}
	out := c.ok("", "audit", "verify")
	var n, uncovered int
	if _, err := fmt.Sscanf(out, "audit: %d events verified, %d not yet covered by a signed checkpoint\n", &n, &uncovered); err != nil || n < 6 || uncovered != 2 {
		t.Fatalf("audit verify on an untouched log: %q (%v)", out, err)
	}
	return c, n
}

func TestAuditVerifyFindsTampering(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			cases := []struct {
				name  string
				edit  []string
				event int // the event verify must name; 0: the last checkpointed one
				want  string
			}{
				{"edited", []string{`UPDATE audit_log SET detail = 'email=someone@else.example' WHERE seq = 3`}, 3, "changed since it was written"},
				{"edited with its hash", []string{`UPDATE audit_log SET actor = 'nobody', hash = 'x' WHERE seq = 2`}, 2, "changed"},
				{"deleted", []string{`DELETE FROM audit_log WHERE seq = 3`}, 3, "missing"},
				{"reordered", []string{`UPDATE audit_log SET seq = -1 WHERE seq = 3`, `UPDATE audit_log SET seq = 3 WHERE seq = 4`, `UPDATE audit_log SET seq = 4 WHERE seq = -1`}, 3, "does not follow event 2"},
				{"tail cut below a checkpoint", []string{`DELETE FROM audit_log WHERE seq >= 2`, `UPDATE audit_head SET seq = 1`}, 2, "missing: a signed checkpoint covers"},
				{"checkpoint forged", []string{`UPDATE audit_checkpoints SET hash = 'ab'`}, 0, "signature is not the audit key's"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					c, _ := auditedInstallation(t, engine)
					db := c.rawDB()
					for _, q := range tc.edit {
						if _, err := db.Exec(q); err != nil {
							t.Fatalf("%s: %v", q, err)
						}
					}
					code, out, errOut := c.run("", "audit", "verify")
					want := "audit: event " + strconv.Itoa(tc.event) + ": "
					if tc.event == 0 {
						want = "audit: event "
					}
					if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, want) || !strings.Contains(errOut, tc.want) {
						t.Fatalf("audit verify: exit %d, stdout %q, stderr %q; want exit 1 and %q…%q", code, out, errOut, want, tc.want)
					}
				})
			}
		})
	}
}

// TestAuditVerifyExport checks an export, whole and tampered with.
func TestAuditVerifyExport(t *testing.T) {
	c, n := auditedInstallation(t, "sqlite")
	a := c.openInstallation()
	export := func(edit func(*lanyard.AuditEvent)) string {
		var buf bytes.Buffer
		w, _ := auditlog.NewCSVWriter(&buf)
		cps, _ := a.db.AuditCheckpoints(t.Context())
		for _, cp := range cps {
			w.Checkpoint(cp)
		}
		a.db.EachAuditEvent(t.Context(), func(e *lanyard.AuditEvent) error {
			edit(e)
			return w.Event(e)
		})
		w.Flush()
		return writeFile(t, "audit.csv", buf.String())
	}
	out := c.ok("", "audit", "verify", "--file", export(func(*lanyard.AuditEvent) {}))
	if !strings.HasPrefix(out, "audit: "+strconv.Itoa(n)+" events verified") {
		t.Fatalf("verify --file of an untouched export: %q", out)
	}
	tampered := export(func(e *lanyard.AuditEvent) {
		if e.Seq == 5 {
			e.Time = e.Time.Add(time.Microsecond)
		}
	})
	code, _, errOut := c.run("", "audit", "verify", "--file", tampered)
	if code != 1 || !strings.HasPrefix(errOut, "audit: event 5: changed") {
		t.Fatalf("verify --file of a changed export: exit %d, %q", code, errOut)
	}
	if code, _, errOut := c.run("", "audit", "verify", "--file", filepath.Join(t.TempDir(), "none.csv")); code != 1 || !strings.Contains(errOut, "--file") {
		t.Fatalf("verify --file of a missing file: exit %d, %q", code, errOut)
	}
}
