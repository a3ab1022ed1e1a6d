package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// fastHash keeps argon2id cheap in tests; production uses password.Default.
var fastHash = password.Params{Memory: 1024, Time: 1, Threads: 1}

// openDB opens and migrates the database at dsn.
func openDB(tb testing.TB, dsn string) *store.DB { return testenv.OpenDB(tb, dsn) }

func TestMigrateTwiceAndReady(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		if err := db.Ready(ctx); err != nil {
			t.Fatalf("ready: %v", err)
		}
	})
}

func TestOpenRefusesUnreachablePostgres(t *testing.T) {
	// Port 1 has no server; the context is live, so the failure is the
	// connection's, not a cancelled context's.
	if _, err := store.Open(context.Background(), "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"); err == nil {
		t.Fatal("open succeeded on a closed port")
	}
}

// TestSweepsUseIndexes: every sweep of expired rows finds them through an
// index, never by reading its whole table, on both engines.
func TestSweepsUseIndexes(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		db := openDB(t, dsn)
		for _, q := range store.Sweeps {
			if strings.Contains(q, "ocsp_changes") && store.IsPostgresURL(dsn) {
				continue // PostgreSQL notifies instead
			}
			plan := store.ExplainSweep(t, db, q)
			if strings.Contains(plan, "Seq Scan") || strings.HasPrefix(plan, "SCAN ") || strings.Contains(plan, "; SCAN ") {
				t.Errorf("%s reads the whole table: %s", q, plan)
			}
		}
	})
}
