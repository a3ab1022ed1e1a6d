package e2e_test

import (
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to read PostgreSQL
	_ "modernc.org/sqlite"             // the "sqlite" driver, to read the SQLite file
)

// TestNoSecretInDatabaseOrLogs uses passwords the way users do — a right
// one, a wrong one, the administrator's one-time password and its
// replacement — on a server that logs at debug level, and then looks for
// each of them in the whole database, in the files of the data folder, in
// the log and in the audit log. The one-time password may appear once, in
// the line on stdout that announces it, and nowhere else.
func TestNoSecretInDatabaseOrLogs(t *testing.T) {
	tests := []struct {
		engine    string
		logFormat string
		debugMark string // how a debug line looks in this log format
	}{
		{"sqlite", "text", "level=DEBUG"},
		{"postgres", "json", `"level":"DEBUG"`},
	}
	for _, tt := range tests {
		t.Run(tt.engine, func(t *testing.T) {
			in := newInstance(t, tt.engine)
			s := startServer(t, in, "--log-level", "debug", "--log-format", tt.logFormat)
			s.waitReady()

			secrets := map[string]string{
				"alice's password":   "alice-" + randomText(),
				"a wrong password":   "wrong-" + randomText(),
				"the admin's new pw": "admin-" + randomText(),
			}
			// The administration command logs at debug level too.
			cli := addUser(t, in, "alice", secrets["alice's password"], "--log-level", "debug")

			mustLogin(t, s.url, "alice", secrets["alice's password"])
			r := login(t, nil, s.url, "alice", secrets["a wrong password"])
			if r.status != http.StatusUnauthorized {
				t.Errorf("log in with a wrong password: status %d, want 401", r.status)
			}
			if strings.Contains(r.body, secrets["a wrong password"]) {
				t.Errorf("the login page shows the wrong password it was sent")
			}

			// A login with the mobile ID begun: its link's token and the
			// browser's secret stay out of the database and the logs.
			lr := fetch(t, nil, s.url+"/login/mobile-id", url.Values{"next": {"/"}})
			var secret, token string
			for _, c := range lr.cookies {
				if c.Name == "lanyard_login_request" {
					secret, token, _ = strings.Cut(c.Value, ".")
				}
			}
			if lr.status != http.StatusSeeOther || secret == "" || token == "" {
				t.Fatalf("Log in with mobile ID: status %d, cookies %v", lr.status, lr.cookies)
			}
			secrets["a login request's token"], secrets["a login request's browser secret"] = token, secret

			if !waitFor(readyTimeout, func() bool { return len(adminPasswordLines(s.stdout.String())) > 0 }) {
				t.Fatalf("no admin password line on stdout: %q", s.stdout)
			}
			otp := adminPassword(t, s.stdout.String())
			secrets["the admin's one-time password"] = otp
			admin := mustLogin(t, s.url, "admin", otp)
			newPW := secrets["the admin's new pw"]
			r = fetch(t, nil, s.url+"/password", url.Values{"current": {otp}, "new": {newPW}, "repeat": {newPW}}, admin)
			if r.status != http.StatusOK || !strings.Contains(r.body, "Your password has been changed.") {
				t.Fatalf("change the admin's password: status %d, want 200 and \"Your password has been changed.\"; body:\n%s", r.status, r.body)
			}
			// A changed password ends the other sessions and renews this one.
			if renewed := r.sessionCookie(); renewed != nil {
				admin = renewed
			} else {
				t.Fatal("the password change set no new session cookie")
			}
			audit := fetch(t, nil, s.url+"/admin/audit", nil, admin)
			if audit.status != http.StatusOK {
				t.Fatalf("GET /admin/audit: status %d, want 200", audit.status)
			}
			for _, action := range []string{"session.login", "session.login_failed", "session.login_request", "user.set_password"} {
				if !strings.Contains(audit.body, action) {
					t.Errorf("the audit page has no %s event", action)
				}
			}
			s.stopOK()

			dump := dumpDatabase(t, in)
			checkDumpCovers(t, dump)
			places := map[string]string{
				"the log (stderr of serve)":        s.stderr.String(),
				"the audit page":                   audit.body,
				"the output of lanyard user add":   cli.stdout + cli.stderr,
				"the files of the data folder":     readFolder(t, in.data),
				"stdout without the one-time line": strings.Replace(s.stdout.String(), "initial admin password: "+otp+"\n", "", 1),
			}
			if !strings.Contains(s.stderr.String(), tt.debugMark) {
				t.Errorf("the log has no %s line: serve did not log at debug level", tt.debugMark)
			}
			checkNoSecrets(t, secrets, places, dump)
		})
	}
}

// checkNoSecrets fails the test for every secret found, in any of the
// forms it could be written in, in one of the places or a cell of the
// database dump.
func checkNoSecrets(t *testing.T, secrets, places map[string]string, dump []cell) {
	t.Helper()
	for what, secret := range secrets {
		for _, form := range encodings(secret) {
			for where, text := range places {
				if strings.Contains(text, form.value) {
					t.Errorf("%s appears %s in %s", what, form.name, where)
				}
			}
			for _, c := range dump {
				if strings.Contains(c.text, form.value) {
					t.Errorf("%s appears %s in the database: table %s, row %d, column %s", what, form.name, c.table, c.row, c.column)
				}
			}
		}
	}
}

// encoded is a secret in one of the forms it could be stored in.
type encoded struct{ name, value string }

// encodings returns a secret as it is and in the encodings a careless
// program might store it in.
func encodings(secret string) []encoded {
	return []encoded{
		{"in clear", secret},
		{"as hex", hex.EncodeToString([]byte(secret))},
		{"as HEX", strings.ToUpper(hex.EncodeToString([]byte(secret)))},
		{"in base64", base64.RawStdEncoding.EncodeToString([]byte(secret))},
		{"in URL-safe base64", base64.RawURLEncoding.EncodeToString([]byte(secret))},
	}
}

// cell is one value of the database, as text.
type cell struct {
	table, column string
	row           int
	text          string
}

// dumpDatabase reads every column of every row of every table of the
// installation's database, each value as text, and blobs as text and hex.
func dumpDatabase(t *testing.T, in instance) []cell {
	t.Helper()
	var db *sql.DB
	var err error
	var tablesQuery string
	var tablesArgs []any
	quote := func(table string) string { return `"` + table + `"` }
	if in.db == "" {
		db, err = sql.Open("sqlite", "file:"+filepath.Join(in.data, "lanyard.db")+"?mode=ro")
		tablesQuery = `SELECT name FROM sqlite_master WHERE type = 'table'`
	} else {
		db, err = sql.Open("pgx", in.db)
		u, perr := url.Parse(in.db)
		if perr != nil {
			t.Fatal(perr)
		}
		schema := u.Query().Get("search_path")
		tablesQuery = `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`
		tablesArgs = []any{schema}
		quote = func(table string) string { return `"` + schema + `"."` + table + `"` }
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables []string
	rows, err := db.Query(tablesQuery, tablesArgs...)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	var dump []cell
	for _, table := range tables {
		dump = append(dump, dumpTable(t, db, table, quote(table))...)
	}
	return dump
}

func dumpTable(t *testing.T, db *sql.DB, table, quoted string) []cell {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM ` + quoted)
	if err != nil {
		t.Fatalf("read table %s: %v", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var dump []cell
	for n := 1; rows.Next(); n++ {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("read table %s: %v", table, err)
		}
		for i, v := range vals {
			dump = append(dump, cell{table: table, column: cols[i], row: n, text: cellText(v)})
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read table %s: %v", table, err)
	}
	return dump
}

// cellText renders a value: blobs as text and as hex, times in RFC 3339,
// everything else as fmt prints it.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(x) + "\n" + hex.EncodeToString(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// checkDumpCovers fails the test if the dump misses what it must hold, so
// that an empty or partial dump cannot pass for a clean one.
func checkDumpCovers(t *testing.T, dump []cell) {
	t.Helper()
	want := map[string]bool{
		"users.username=alice":                  false,
		"users.username=admin":                  false,
		"audit_log.action=session.login":        false,
		"audit_log.action=user.set_password":    false,
		"audit_log.action=session.login_failed": false,
	}
	for _, c := range dump {
		key := c.table + "." + c.column + "=" + c.text
		if _, ok := want[key]; ok {
			want[key] = true
		}
	}
	for key, found := range want {
		if !found {
			t.Errorf("the database dump has no %s", key)
		}
	}
}

// readFolder returns the contents of every file under dir, concatenated,
// to search the raw bytes of the database files and whatever else serve
// keeps there.
func readFolder(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b.Write(data)
		b.WriteByte('\n')
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatalf("read %s: %v", dir, err)
	}
	return b.String()
}
