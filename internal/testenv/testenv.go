// Package testenv gives tests the real services they run against: a fresh
// SQLite database, a fresh PostgreSQL schema, the openssl binary and
// Chromium. When LANYARD_REQUIRE_ALL=1 (as in CI) a missing service fails
// the test instead of skipping it.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// Required reports whether missing services must fail tests.
func Required() bool { return os.Getenv("LANYARD_REQUIRE_ALL") == "1" }

// Unavailable skips tb, or fails it when services are required.
func Unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if Required() {
		tb.Fatalf("required service unavailable: "+format, args...)
	}
	tb.Skipf("service unavailable: "+format, args...)
}

// PostgresURL is the server tests use: LANYARD_TEST_POSTGRES, or the local
// default.
func PostgresURL() string {
	if u := os.Getenv("LANYARD_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// Engines are the database engines every store test runs on.
var Engines = []string{"sqlite", "postgres"}

// DSN returns a fresh, empty database of the given engine for tb: an SQLite
// file in a temporary folder, or a new PostgreSQL schema dropped at the end.
func DSN(tb testing.TB, engine string) string {
	tb.Helper()
	switch engine {
	case "sqlite":
		return filepath.Join(tb.TempDir(), "lanyard.db")
	case "postgres":
		return PostgresSchema(tb)
	}
	tb.Fatalf("unknown engine %q", engine)
	return ""
}

// PostgresSchema creates a schema on the test server and returns a URL whose
// connections use it.
func PostgresSchema(tb testing.TB) string {
	tb.Helper()
	base := PostgresURL()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		Unavailable(tb, "postgres: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		Unavailable(tb, "postgres at %s: %v", base, err)
	}
	schema := "t_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// ForEachEngine runs fn as a subtest on a fresh database of each engine.
func ForEachEngine(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	for _, e := range Engines {
		t.Run(e, func(t *testing.T) { fn(t, DSN(t, e)) })
	}
}

// OpenSSL returns the path of the openssl binary.
func OpenSSL(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		Unavailable(tb, "openssl: %v", err)
	}
	return p
}

// Run runs a command and fails tb with its output when it fails.
func Run(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Context returns a context cancelled when tb ends.
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	return ctx
}
