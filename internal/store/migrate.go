package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFS embed.FS

// migration is one numbered .sql file of an engine's folder.
type migration struct {
	version int
	name    string
	sql     string
}

func (db *DB) migrations() ([]migration, error) {
	dir := path.Join("migrations", string(db.dialect))
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %s: name must be NNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	return ms, nil
}

// Migrate applies every migration not yet recorded, each in its own
// transaction together with its record. On PostgreSQL an advisory lock makes
// instances that start together take turns, so each migration runs once.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := db.migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := db.applyMigration(ctx, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	if err := db.warnWithoutSearchIndex(ctx); err != nil {
		return err
	}
	_, err = db.ChainAudit(ctx)
	return err
}

// warnWithoutSearchIndex logs a warning when a PostgreSQL schema has no
// trigram index for the user search: migration 030 goes on without it
// where the extension pg_trgm could not be made (docs/operations.md).
func (db *DB) warnWithoutSearchIndex(ctx context.Context) error {
	if db.dialect != Postgres {
		return nil
	}
	var found bool
	if err := db.queryRow(ctx, `SELECT to_regclass('users_search') IS NOT NULL`).Scan(&found); err != nil {
		return fmt.Errorf("look for the user search's index: %w", err)
	}
	if !found {
		slog.Warn("the user search has no trigram index, so each search reads every user: the extension pg_trgm could not be made (see docs/operations.md)")
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, m migration) error {
	return db.inTx(ctx, func(tx *Tx) error {
		if db.dialect == Postgres {
			if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(7427261)`); err != nil {
				return err
			}
		}
		if _, err := tx.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
			return err
		}
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.exec(ctx, m.sql); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, encodeTime(tx.now))
		return err
	})
}

// Ready reports an error unless the database answers and every migration
// this program knows has been applied.
func (db *DB) Ready(ctx context.Context) error {
	ms, err := db.migrations()
	if err != nil {
		return err
	}
	var latest int
	row := db.sql.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`)
	if err := row.Scan(&latest); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if want := ms[len(ms)-1].version; latest < want {
		return fmt.Errorf("schema version %d, want %d", latest, want)
	}
	return nil
}
