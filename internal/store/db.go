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

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
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
//
// On SQLite it holds two pools on the one file: write, a single connection
// that every transaction and every other write takes in turn, and sql, a
// few read-only connections for the reads outside transactions, which WAL
// lets go on while the writer writes. Writers queue in the process instead
// of polling the file lock, and commit in groups (groupcommit.go); a read
// never waits behind a write. On
// PostgreSQL both are the same pool.
type DB struct {
	sql   *sql.DB // reads outside a transaction
	write *sql.DB // transactions and other writes
	// pg is the pool of PostgreSQL, used through pgx's own interface,
	// which sends a transaction's statements together (pgTx); sql and
	// write are database/sql on the same pool, for the odd use. Nil on
	// SQLite.
	pg      *pgxpool.Pool
	dialect Dialect
	dsn     string

	// stmts keeps the statements prepared on each SQLite pool, by their
	// text; PostgreSQL's driver keeps its own per connection.
	readStmts, writeStmts *stmtCache

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
	watches changeWatches
	// kept is what this process keeps in memory from the database: the
	// sessions it read and the current option scripts (kept.go).
	kept keptCache
	// crlShards holds the CRL shards this process knows to be recorded,
	// so that only a shard's first certificate records it.
	crlShards sync.Map
	// head is where this process last moved the audit chain's head.
	head auditHead
	// writers hands SQLite's writer from one transaction to the next,
	// and groups their commits (groupcommit.go).
	writers writeQueue
	// rebound holds the PostgreSQL form of each statement rebind has
	// turned, up to maxRebound of them (reboundN).
	rebound  sync.Map
	reboundN atomic.Int64
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
	db.writers.head, db.writers.commits = &db.head, &db.count.commits
	var err error
	if IsPostgresURL(dsn) {
		err = db.openPostgres(ctx, dsn)
	} else {
		err = db.openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	return db, nil
}

// openPostgres opens one pool, used through pgx's own interface, which
// sends several statements of a transaction in one round trip. pgx
// prepares each statement once per connection and keeps it (its
// statement cache), so the pool keeps its connections for an hour.
func (db *DB) openPostgres(ctx context.Context, dsn string) error {
	db.dialect = Postgres
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") { // the URL's own, if it has one
		cfg.MaxConns = 20
	}
	cfg.MaxConnIdleTime = time.Hour
	if db.pg, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	pool := stdlib.OpenDBFromPool(db.pg)
	if err := ping(ctx, pool, db.dialect); err != nil {
		pool.Close()
		db.pg.Close()
		return err
	}
	db.sql, db.write = pool, pool
	return nil
}

// sqliteReaders is the number of read-only connections on an SQLite file.
const sqliteReaders = 4

// openSQLite opens the writer first, which creates the file and turns on
// WAL (a setting the file keeps), then the readers.
func (db *DB) openSQLite(ctx context.Context, dsn string) error {
	db.dialect = SQLite
	if err := os.MkdirAll(filepath.Dir(dsn), 0o700); err != nil {
		return fmt.Errorf("create database folder: %w", err)
	}
	// Immediate transactions take the write lock up front, so that a
	// writer of another process (the admin CLI) waits on busy_timeout
	// instead of failing with SQLITE_BUSY midway. Statement journals stay
	// in memory (temp_store), where SQLite would otherwise make, write and
	// delete a file for each statement of a transaction that changes many
	// pages. The write-ahead log is checkpointed every 4,000 pages (16 MB)
	// rather than 1,000: a page written by many commits in between goes
	// to the database once, with half the fsyncs, for checkpoints that
	// still take a few milliseconds. Every commit syncs the write-ahead
	// log (synchronous FULL): with NORMAL, a power cut or a crash of the
	// machine could take back the last commits, certificates a phone has
	// already received and mails already accepted among them.
	write, err := sql.Open("sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(4000)&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	if err := ping(ctx, write, db.dialect); err != nil {
		write.Close()
		return err
	}
	if err := os.Chmod(dsn, 0o600); err != nil {
		write.Close()
		return fmt.Errorf("protect database file: %w", err)
	}
	read, err := sql.Open("sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return fmt.Errorf("open database: %w", err)
	}
	read.SetMaxOpenConns(sqliteReaders)
	read.SetMaxIdleConns(sqliteReaders)
	if err := ping(ctx, read, db.dialect); err != nil {
		read.Close()
		write.Close()
		return err
	}
	db.sql, db.write = read, write
	db.readStmts, db.writeStmts = newStmtCache(read), newStmtCache(write)
	return nil
}

func ping(ctx context.Context, pool *sql.DB, dialect Dialect) error {
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.PingContext(pingCtx); err != nil {
		return fmt.Errorf("connect to the %s database: %w", dialect, err)
	}
	return nil
}

// Dialect returns the engine behind db.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close closes the database.
func (db *DB) Close() error {
	db.watches.closeAll()
	db.kept.close()
	db.readStmts.close()
	db.writeStmts.close()
	err := db.sql.Close()
	if db.write != db.sql {
		err = errors.Join(err, db.write.Close())
	}
	if db.pg != nil {
		db.pg.Close()
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// Tx is a transaction with the time it started; everything it writes is
// stamped with that one time.
type Tx struct {
	tx *sql.Tx // SQLite
	pg *pgTx   // PostgreSQL
	db *DB
	// group is the SQLite database transaction this one shares, in
	// savepoint (see groupcommit.go); nil on PostgreSQL.
	group     *writeGroup
	savepoint string
	ended     bool // committed or rolled back
	// unprepared are the statements the transaction ran that the writer
	// has not prepared yet: preparing takes the writer's connection, which
	// the transaction holds, so they are prepared once it ends.
	unprepared map[string]struct{}
	now        time.Time
	writes     int  // the writes so far, for the fault hook
	failed     bool // the fault hook abandoned the transaction
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
	// keptChanged is set once the transaction changed a user or an option
	// script, or ended a session: what this process keeps is stale once
	// it commits (keptCache).
	keptChanged bool

	// audit holds the audit events of the transaction until it commits.
	audit []*lanyard.AuditEvent
	// movedHead is where the transaction moved the audit chain's head.
	movedHead *auditHeadAt
	// lockedUser is the user whose row the transaction locked
	// (PostgreSQL), until it ends.
	lockedUser int64
}

// writerWait bounds the wait for SQLite's writer connection, as
// busy_timeout bounds the wait for another process's write lock.
const writerWait = 10 * time.Second

// begin starts a transaction. Callers defer tx.rollback() and call commit.
func (db *DB) begin(ctx context.Context) (*Tx, error) { return db.beginTx(ctx, false) }

// beginTx is begin; solo marks a transaction that may hold SQLite's writer
// long, which commits on its own (see writeGroup.solo).
func (db *DB) beginTx(ctx context.Context, solo bool) (*Tx, error) {
	t := &Tx{db: db}
	var err error
	if db.dialect == SQLite {
		if t.group, t.savepoint, err = db.join(ctx, solo); err != nil {
			return nil, err
		}
		t.tx = t.group.tx
	} else if t.pg, err = db.beginPostgres(ctx); err != nil {
		return nil, err
	}
	db.count.transactions.Add(1)
	t.now = db.Now().UTC()
	return t, nil
}

func (tx *Tx) commit(ctx context.Context) error {
	if tx.pg != nil && tx.pg.reading() {
		// The rows still to come may add to what the commit writes.
		if err := tx.pg.flush(ctx); err != nil {
			return err
		}
	}
	if err := tx.writeCRLOwed(ctx); err != nil {
		return err
	}
	if tx.failed || tx.db.failWrite != nil && tx.db.failWrite(tx.writes+1) {
		tx.abandon()
		return fmt.Errorf("commit: %w", errInjected)
	}
	if err := tx.announceStatus(ctx); err != nil {
		return err
	}
	// The transaction's audit events go last, so that on SQLite the
	// chain's head is locked only for a moment.
	if err := tx.appendAudit(ctx); err != nil {
		return err
	}
	if tx.group != nil {
		// The transactions after this one in its group see where it
		// left the chain's head.
		if tx.movedHead != nil {
			tx.db.head.moved(tx.movedHead)
		}
		err := tx.leave(true)
		tx.ended = true
		if err != nil {
			return err
		}
	} else {
		tx.db.count.commits.Add(1)
		err := tx.pg.commit(ctx)
		tx.ended = true
		tx.pg.end() // after a failed commit, rolls back
		if err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	tx.db.watches.publish(tx.statusChanged)
	if tx.keptChanged {
		tx.db.kept.changed()
	}
	for _, shard := range tx.newShards {
		tx.db.crlShards.Store(shard, true)
	}
	tx.release()
	return nil
}

// rollback is safe to defer after commit.
func (tx *Tx) rollback() {
	if tx.ended {
		return
	}
	tx.ended = true
	if tx.group != nil {
		_ = tx.leave(false)
	} else {
		tx.pg.end()
	}
	tx.release()
}

// abandon rolls tx back where it stands, as a connection that dies there
// would: every statement after it fails (the fault hook).
func (tx *Tx) abandon() {
	if tx.pg != nil {
		tx.pg.end()
		return
	}
	_ = tx.tx.Rollback()
}

// release prepares what the transaction ran unprepared, once it is over.
func (tx *Tx) release() {
	if len(tx.unprepared) == 0 {
		return
	}
	// Briefly: behind a long transaction of another request, preparing
	// is left for the next time the statement runs.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for q := range tx.unprepared {
		tx.db.writeStmts.prepare(ctx, q)
	}
	tx.unprepared = nil
}

// inTx runs fn in a transaction and commits when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *Tx) error) error {
	return db.runTx(ctx, false, fn)
}

// inSoloTx is inTx for a transaction that may hold SQLite's writer long:
// an import, a directory sync, a CRL of many entries.
func (db *DB) inSoloTx(ctx context.Context, fn func(tx *Tx) error) error {
	return db.runTx(ctx, true, fn)
}

func (db *DB) runTx(ctx context.Context, solo bool, fn func(tx *Tx) error) error {
	tx, err := db.beginTx(ctx, solo)
	if err != nil {
		return err
	}
	defer tx.rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.commit(ctx)
}

// stmt returns the writer's prepared statement of query for use in tx, or
// nil to run it unprepared (and prepare it when tx ends).
func (tx *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if tx.db.writeStmts == nil {
		return nil
	}
	s := tx.db.writeStmts.lookup(query)
	if s == nil {
		if tx.unprepared == nil {
			tx.unprepared = make(map[string]struct{})
		}
		tx.unprepared[query] = struct{}{}
		return nil
	}
	return tx.tx.StmtContext(ctx, s)
}

// statementCtx is the context a statement of tx runs with. On SQLite,
// cancelling a write interrupts it and rolls back the whole database
// transaction, which may hold the transactions of others in its group: so
// a statement there starts only while ctx lives, and then runs to its end,
// which needs no wait (the transaction holds the writer).
func (tx *Tx) statementCtx(ctx context.Context) context.Context {
	if tx.group == nil || ctx.Err() != nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = tx.statementCtx(ctx)
	tx.beforeStatement(query)
	query = tx.db.rebind(query)
	if tx.pg != nil {
		tag, err := tx.pg.exec(ctx, query, args)
		if err != nil {
			return nil, err
		}
		return pgResult(tag.RowsAffected()), nil
	}
	if s := tx.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return tx.tx.ExecContext(ctx, query, args...)
}

// execLater is exec for a write whose answer tx does not wait for (see
// later). fail, if not nil, makes the error reported of its failure;
// without it, the failure is reported as a laterError on PostgreSQL.
func (tx *Tx) execLater(ctx context.Context, fail func(error) error, query string, args ...any) error {
	return tx.later(ctx, pgStatement{sql: query, args: args, fail: fail})
}

// queryLater is execLater for a statement whose rows tx reads, with
// read, once they come: what read does must not be needed before then.
func (tx *Tx) queryLater(ctx context.Context, read func(rows) error, query string, args ...any) error {
	return tx.later(ctx, pgStatement{sql: query, args: args, read: read})
}

// execLaterFinding is execLater for a statement that returns a row for
// each row it finds or changes (RETURNING 1, or a SELECT … FOR UPDATE),
// and must find one: with none, the transaction fails with none.
func (tx *Tx) execLaterFinding(ctx context.Context, fail func(error) error, none error, query string, args ...any) error {
	return tx.later(ctx, pgStatement{sql: query, args: args, fail: fail, none: none})
}

// later runs s, a statement whose answer tx does not wait for. On
// PostgreSQL it is queued, and sent with the next statement that is
// answered, or with COMMIT, which report its failure (pgStatement.failed);
// a statement that must find a row is sent so that the server fails it
// when there is none (expectRows). On SQLite, where a statement costs no
// round trip, it runs at once, with the same outcomes.
func (tx *Tx) later(ctx context.Context, s pgStatement) error {
	if tx.pg != nil {
		tx.beforeStatement(s.sql)
		s.sql = tx.db.rebind(s.sql)
		if s.none != nil {
			s.sql = expectRows(s.sql)
		}
		tx.pg.queue(s)
		return nil
	}
	var err error
	found := true
	if s.read == nil && s.none == nil {
		_, err = tx.exec(ctx, s.sql, s.args...)
	} else {
		var rs rows
		if rs, err = tx.query(ctx, s.sql, s.args...); err == nil {
			if s.read != nil {
				err = s.read(rs)
			} else {
				found = rs.Next()
			}
			if cerr := rs.Close(); err == nil {
				err = cerr
			}
		}
	}
	switch {
	case err != nil && s.fail != nil:
		return s.fail(err)
	case err != nil:
		return err
	case !found:
		return s.none
	}
	return nil
}

func (tx *Tx) query(ctx context.Context, query string, args ...any) (rows, error) {
	ctx = tx.statementCtx(ctx)
	tx.beforeStatement(query)
	query = tx.db.rebind(query)
	if tx.pg != nil {
		return tx.pg.query(ctx, query, args)
	}
	if s := tx.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return tx.tx.QueryContext(ctx, query, args...)
}

func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) scanner {
	if tx.pg != nil {
		r, err := tx.query(ctx, query, args...)
		return queryRow{r, err}
	}
	ctx = tx.statementCtx(ctx)
	tx.beforeStatement(query)
	query = tx.db.rebind(query)
	if s := tx.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, query, args...)
}

// exec runs a write outside a transaction, on the writer; on SQLite it
// waits at most writerWait for the writer, as begin does.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	db.countStatement()
	query = db.rebind(query)
	if db.pg != nil {
		tag, err := db.pg.Exec(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		return pgResult(tag.RowsAffected()), nil
	}
	wctx, cancel := context.WithTimeout(ctx, writerWait)
	defer cancel()
	var res sql.Result
	var err error
	if s := db.writeStmts.get(wctx, query); s != nil {
		res, err = s.ExecContext(wctx, args...)
	} else {
		res, err = db.write.ExecContext(wctx, query, args...)
	}
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return nil, lanyard.Errorf(lanyard.EUNAVAILABLE, "The database is busy. Try again in a moment.")
	}
	return res, err
}

// rebind turns the ? placeholders the store's SQL is written with into
// PostgreSQL's $1, $2, …. No statement of the store has a literal "?".
// The statements are few, and each is rebound once (rebound).
func (db *DB) rebind(query string) string {
	if db.dialect != Postgres || !strings.Contains(query, "?") {
		return query
	}
	if q, ok := db.rebound.Load(query); ok {
		return q.(string)
	}
	q := rebindPostgres(query)
	if db.reboundN.Add(1) <= maxRebound {
		db.rebound.Store(query, q)
	}
	return q
}

// maxRebound bounds the statements rebind keeps: those of the store are
// far fewer, but some are made for a number of rows.
const maxRebound = 4096

func rebindPostgres(query string) string {
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

// Undurable names the settings of the database under which a crash of its
// machine could take back commits that were already confirmed: PostgreSQL's
// fsync or synchronous_commit turned off, or an SQLite writer that does not
// sync every commit (synchronous below FULL).
func (db *DB) Undurable(ctx context.Context) ([]string, error) {
	var weak []string
	if db.dialect != Postgres {
		var sync int
		if err := db.write.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			return nil, fmt.Errorf("read the setting synchronous: %w", err)
		}
		if sync < 2 {
			weak = append(weak, "synchronous="+strconv.Itoa(sync))
		}
		return weak, nil
	}
	var fsync, commit string
	if err := db.sql.QueryRowContext(ctx, "SELECT current_setting('fsync'), current_setting('synchronous_commit')").Scan(&fsync, &commit); err != nil {
		return nil, fmt.Errorf("read the settings fsync and synchronous_commit: %w", err)
	}
	if fsync == "off" {
		weak = append(weak, "fsync=off")
	}
	if commit == "off" {
		weak = append(weak, "synchronous_commit=off")
	}
	return weak, nil
}
