package testenv

import (
	"context"
	"testing"

	"github.com/lanyard-id/lanyard/internal/store"
)

// OpenDB opens and migrates the database at dsn, closed when tb ends.
func OpenDB(tb testing.TB, dsn string) *store.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db
}
