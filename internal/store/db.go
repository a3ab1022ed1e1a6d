// Package store implements Lanyard's domain services over SQL, on an embedded
// SQLite database or on PostgreSQL. Every public method opens its own
// transaction and composes unexported helpers that take that transaction, so
// a change and its audit event commit together or not at all.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/secret"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Dialect names the SQL engine behind a DB.
type Dialect string

// The supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is a handle on Lanyard's database.
type DB struct {
	sql     *sql.DB
	dialect Dialect
	dsn     string

	// mailBox seals mail bodies; set by NewOutbox.
	mailBox *secret.Box

	// Now returns the current time; tests replace it to control time.
	// Every transaction reads it once, so one change has one timestamp.
	Now func() time.Time

	count counters
	// ocspSigner signs the OCSP response of a certificate issued or
	// changed, in its transaction; nil until the CA sets it.
	ocspSigner atomic.Pointer[pki.OCSPSigner]
	// watches are told of the status changes this process commits.
	watches statusWatches
	// crlShards holds the CRL shards this process knows to be recorded,
	// so that only a shard's first certificate records it.
	crlShards sync.Map
	// failWrite, when set, is asked before the nth write of every
	// transaction whether the transaction fails there (tests of
	// whole-or-nothing set it).
	failWrite func(n int) bool
}

// IsPostgresURL reports whether dsn names a PostgreSQL database.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to the database named by dsn: a postgres:// URL, or the
// path of an SQLite file (created with its folder if missing). It does not
// migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	db := &DB{dsn: dsn, Now: time.Now}
	var err error
	if IsPostgresURL(dsn) {
		db.dialect = Postgres
		db.sql, err = sql.Open("pgx", dsn)
		if err == nil {
			db.sql.SetMaxOpenConns(20)
			db.sql.SetMaxIdleConns(10)
			db.sql.SetConnMaxIdleTime(5 * time.Minute)
		}
	} else {
		db.dialect = SQLite
		if err := os.MkdirAll(filepath.Dir(dsn), 0o700); err != nil {
			return nil, fmt.Errorf("create database folder: %w", err)
		}
		// WAL lets readers go on while one writer writes; immediate
		// transactions take the write lock up front, so concurrent writers
		// wait on busy_timeout instead of failing with SQLITE_BUSY midway.
		q := "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		db.sql, err = sql.Open("sqlite", "file:"+dsn+q)
		if err == nil {
			db.sql.SetMaxOpenConns(4)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.sql.PingContext(pingCtx); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("connect to the %s database: %w", db.dialect, err)
	}
	if db.dialect == SQLite {
		if err := os.Chmod(dsn, 0o600); err != nil {
			db.sql.Close()
			return nil, fmt.Errorf("protect database file: %w", err)
		}
	}
	return db, nil
}

// Dialect returns the engine behind db.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close closes the database.
func (db *DB) Close() error {
	db.watches.closeAll()
	return db.sql.Close()
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// Tx is a transaction with the time it started; everything it writes is
// stamped with that one time.
type Tx struct {
	tx     *sql.Tx
	db     *DB
	now    time.Time
	writes int  // the writes so far, for the fault hook
	failed bool // the fault hook abandoned the transaction
	// crlOwed is set once the transaction changed a certificate status:
	// the CRL generation grows at the commit, and that of each shard in
	// owedShards; newShards are the shards its certificates recorded.
	crlOwed    bool
	owedShards []string
	newShards  []string
	// statusChanged are the serials whose status the transaction changed:
	// announced to the cluster in it, and to this process's watches once
	// it commits.
	statusChanged []string

	// audit holds the audit events of the transaction until it commits.
	audit []*lanyard.AuditEvent
}

// begin starts a transaction. Callers defer tx.rollback() and call commit.
func (db *DB) begin(ctx context.Context) (*Tx, error) {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	db.count.transactions.Add(1)
	return &Tx{tx: tx, db: db, now: db.Now().UTC()}, nil
}

func (tx *Tx) commit(ctx context.Context) error {
	if err := tx.writeCRLOwed(ctx); err != nil {
		return err
	}
	if tx.failed || tx.db.failWrite != nil && tx.db.failWrite(tx.writes+1) {
		_ = tx.tx.Rollback()
		return fmt.Errorf("commit: %w", errInjected)
	}
	// The transaction's audit events join the chain last, so that the
	// chain's head is locked only for a moment.
	if err := tx.appendAudit(ctx); err != nil {
		return err
	}
	if err := tx.announceStatus(ctx); err != nil {
		return err
	}
	if err := tx.tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	tx.db.watches.publish(tx.statusChanged)
	for _, shard := range tx.newShards {
		tx.db.crlShards.Store(shard, true)
	}
	return nil
}

// rollback is safe to defer after commit.
func (tx *Tx) rollback() { _ = tx.tx.Rollback() }

// inTx runs fn in a transaction and commits when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.commit(ctx)
}

func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	tx.beforeStatement(query)
	return tx.tx.ExecContext(ctx, tx.db.rebind(query), args...)
}

func (tx *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	tx.beforeStatement(query)
	return tx.tx.QueryContext(ctx, tx.db.rebind(query), args...)
}

func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	tx.beforeStatement(query)
	return tx.tx.QueryRowContext(ctx, tx.db.rebind(query), args...)
}

// rebind turns the ? placeholders the store's SQL is written with into
// PostgreSQL's $1, $2, …. No statement of the store has a literal "?".
func (db *DB) rebind(query string) string {
	if db.dialect != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Times are stored as Unix microseconds in a BIGINT on both engines, which
// keeps comparisons and ordering identical everywhere.
func encodeTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func decodeTime(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// errNoRows reports whether err is sql.ErrNoRows.
func errNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
