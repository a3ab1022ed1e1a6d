package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
)

// RecordAuditBatch writes n audit events in one transaction, each chained
// as any event is, for tests that need many.
func (db *DB) RecordAuditBatch(ctx context.Context, actor lanyard.Actor, action string, n int) error {
	return db.inTx(ctx, func(tx *Tx) error {
		for i := range n {
			if err := tx.insertAudit(ctx, actor, action, "subject "+strconv.Itoa(i), "detail"); err != nil {
				return err
			}
		}
		return nil
	})
}

// InsertUnchainedAudit writes n events as a version of Lanyard before the
// chain wrote them: without number or hashes.
func (db *DB) InsertUnchainedAudit(ctx context.Context, n int) error {
	return db.inTx(ctx, func(tx *Tx) error {
		for i := range n {
			if _, err := tx.exec(ctx, `INSERT INTO audit_log (at, actor, addr, action, subject, detail) VALUES (?, 'cli', 'cli', 'user.create', ?, '')`,
				encodeTime(tx.now), "old"+strconv.Itoa(i)); err != nil {
				return err
			}
		}
		return nil
	})
}

// FailBeforeWrite makes every transaction of db fail before its nth write,
// or at its commit when it has n-1 writes; 0 turns the failure off.
func FailBeforeWrite(db *DB, n int) {
	if n == 0 {
		db.failWrite = nil
		return
	}
	db.failWrite = func(w int) bool { return w == n }
}

// CountWrites makes db record the writes of each transaction in *last:
// after an operation of one transaction it holds that transaction's count.
func CountWrites(db *DB, last *int) {
	db.failWrite = func(w int) bool {
		*last = w - 1 // asked once more at commit, with w one past the writes
		return false
	}
}

// Dump returns the rows an operation on mobile IDs may change, in a fixed
// order, so that two dumps are equal exactly when nothing changed.
func Dump(db *DB) (string, error) {
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, state, updated_at FROM users ORDER BY id`,
		`SELECT COUNT(*) FROM sessions`,
		`SELECT id, state, device_name, recovery_pending, activated_at, updated_at FROM mobile_ids ORDER BY id`,
		`SELECT mobile_id, serial, usage, recovered FROM mobile_id_certificates ORDER BY mobile_id, serial`,
		`SELECT serial, status, revoked_at, reason FROM certificates ORDER BY serial`,
		`SELECT serial FROM key_archive ORDER BY serial`,
		`SELECT id, step, CASE WHEN code_hash IS NULL THEN 0 ELSE 1 END, updated_at FROM enrollments ORDER BY id`,
		`SELECT COUNT(*) FROM outbox`,
		`SELECT COUNT(*) FROM audit_log`,
		`SELECT generation FROM crl_generation`,
	} {
		rows, err := db.sql.Query(q)
		if err != nil {
			return "", err
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return "", err
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
		b.WriteString("--\n")
	}
	return b.String(), nil
}

// Exec runs a statement on db outside the store's methods, as an older
// version or a crash between two transactions would have left the data.
func Exec(db *DB, query string, args ...any) error {
	_, err := db.write.Exec(db.rebind(query), args...)
	return err
}

// Sweeps are the store's statements that delete what has expired.
var Sweeps = []string{sweepChallenges, sweepDeviceRequests, sweepLoginRequests, sweepLoginFailures, sweepLoginThrottle,
	sweepSessions, sweepAuthRequests, sweepOIDCTokens, sweepRefreshTokens, sweepOCSPChanges}

// ExplainSweep returns the plan of a sweep on db, its arguments all 0. On
// PostgreSQL, sequential scans are discouraged for it, as a large table
// would make them: the plan reads the whole table only if no index can
// serve.
func ExplainSweep(tb testing.TB, db *DB, query string) string {
	tb.Helper()
	args := make([]any, strings.Count(query, "?"))
	for i := range args {
		args[i] = 0
	}
	return explain(tb, db, query, args)
}

// WriterPragma reads the setting name of an SQLite file's writer
// connection.
func WriterPragma(tb testing.TB, db *DB, name string) string {
	tb.Helper()
	var v string
	if err := db.write.QueryRowContext(context.Background(), "PRAGMA "+name).Scan(&v); err != nil {
		tb.Fatal(err)
	}
	return v
}

// UserSearchPlan returns the plan of the condition of a user search for
// text, as ExplainSweep does.
func UserSearchPlan(tb testing.TB, db *DB, users *UserService, text string) string {
	tb.Helper()
	cond, args, err := users.searchCondition(context.Background(), strings.ToLower(text))
	if err != nil {
		tb.Fatal(err)
	}
	return explain(tb, db, `SELECT id FROM users WHERE 1=1`+cond, args)
}

func explain(tb testing.TB, db *DB, query string, args []any) string {
	tb.Helper()
	ctx := context.Background()
	var plan []string
	if db.pg == nil {
		rows, err := db.write.QueryContext(ctx, `EXPLAIN QUERY PLAN `+query, args...)
		if err != nil {
			tb.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				tb.Fatal(err)
			}
			plan = append(plan, detail)
		}
		return strings.Join(plan, "; ")
	}
	conn, err := db.pg.Acquire(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		tb.Fatal(err)
	}
	rows, err := tx.Query(ctx, `EXPLAIN `+db.rebind(query), args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			tb.Fatal(err)
		}
		plan = append(plan, strings.TrimSpace(line))
	}
	return strings.Join(plan, "; ")
}

// KeptChangeCount returns the count of changes in SQLite's kept_changes.
func KeptChangeCount(tb testing.TB, db *DB) int64 {
	tb.Helper()
	var n int64
	if err := db.write.QueryRow(`SELECT n FROM kept_changes WHERE id = 1`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// AwaitKeptRead waits until db's watch of what it keeps has heard every
// change committed before the call: on SQLite, until it has read the
// changes once after the call; on PostgreSQL, until it has heard a mark
// notified after the call, since notifications come in the order of their
// commits.
func AwaitKeptRead(tb testing.TB, db *DB) {
	tb.Helper()
	w := db.kept.watch
	if w == nil {
		return
	}
	var heard func() bool
	if db.pg != nil {
		mark := "mark " + strconv.FormatInt(time.Now().UnixNano(), 10)
		w.mark.Store(&mark)
		defer w.mark.Store(nil)
		if _, err := db.pg.Exec(context.Background(), `SELECT pg_notify($1, $2)`, keptChannel, mark); err != nil {
			tb.Fatal(err)
		}
		heard = func() bool { return w.mark.Load() == nil }
	} else {
		// Two reads ended: the second began after the call.
		r0 := w.reads.Load()
		heard = func() bool { return w.reads.Load() >= r0+2 }
	}
	for deadline := time.Now().Add(10 * time.Second); !heard(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatal("the watch of what is kept heard nothing in 10 s")
		}
	}
}

// CachedExec runs a write as the store's methods do outside a
// transaction: through the writer's prepared statements.
func CachedExec(db *DB, query string) error {
	_, err := db.exec(context.Background(), query)
	return err
}

// ReadOnlyExec runs a statement on the connections for reads outside
// transactions.
func ReadOnlyExec(db *DB, query string) error {
	_, err := db.sql.Exec(query)
	return err
}

// WriteInTx runs fn in a transaction of db, marked solo (one that may hold
// the writer long) or not, with a function that runs a statement in it,
// and commits when fn returns nil.
func (db *DB) WriteInTx(ctx context.Context, solo bool, fn func(exec func(query string, args ...any) error) error) error {
	return db.runTx(ctx, solo, func(tx *Tx) error {
		return fn(func(query string, args ...any) error {
			_, err := tx.exec(ctx, query, args...)
			return err
		})
	})
}

// WritersWaiting returns how many transactions wait for SQLite's writer.
func WritersWaiting(db *DB) int {
	db.writers.mu.Lock()
	defer db.writers.mu.Unlock()
	return len(db.writers.wait)
}

// Count returns the rows of table that the reads outside transactions
// see: what has committed.
func Count(db *DB, table string) (int, error) {
	var n int
	err := db.sql.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n)
	return n, err
}

// Statement is a write of ExecInTx: Later marks one whose answer the
// transaction does not wait for (Tx.execLater).
type Statement struct {
	SQL   string
	Later bool
}

// ExecInTx runs the statements in one transaction, in order, and commits.
func ExecInTx(ctx context.Context, db *DB, statements ...Statement) error {
	return db.inTx(ctx, func(tx *Tx) error {
		for _, s := range statements {
			var err error
			if s.Later {
				err = tx.execLater(ctx, nil, s.SQL)
			} else {
				_, err = tx.exec(ctx, s.SQL)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// LockUserThenLater locks the user's row and queues the write later, in one
// transaction, and commits.
func LockUserThenLater(ctx context.Context, db *DB, userID int64, later string) error {
	return db.inTx(ctx, func(tx *Tx) error {
		if err := tx.lockUser(ctx, userID); err != nil {
			return err
		}
		return tx.execLater(ctx, nil, later)
	})
}

// IsUniqueViolation is isUniqueViolation.
func IsUniqueViolation(err error) bool { return isUniqueViolation(err) }

// AuditWriter begins a transaction with an audit event of action to
// write when it commits; it returns the transaction's commit and
// rollback.
func AuditWriter(ctx context.Context, db *DB, action string) (commit func(context.Context) error, rollback func(), err error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := tx.insertAudit(ctx, lanyard.SystemActor, action, "", ""); err != nil {
		tx.rollback()
		return nil, nil, err
	}
	return tx.commit, tx.rollback, nil
}

// IgnoreFailedThenExec runs, in one transaction, the statement failing,
// ignoring its error as no store code does, then the write, and rolls
// back; it returns the write's error.
func IgnoreFailedThenExec(ctx context.Context, db *DB, failing, write string) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	_, _ = tx.exec(ctx, failing)
	_, err = tx.exec(ctx, write)
	return err
}

// AuditTerms returns every row of audit_terms as "kind term event", in
// the index's order.
func AuditTerms(ctx context.Context, db *DB) ([]string, error) {
	return queryAll(ctx, db, `SELECT kind, term, event_id FROM audit_terms ORDER BY kind, term, event_id`, nil, func(s scanner) (string, error) {
		var kind int
		var term string
		var event int64
		err := s.Scan(&kind, &term, &event)
		return fmt.Sprintf("%d %s %d", kind, term, event), err
	})
}

// KeptListenerPID returns the PostgreSQL backend on which db listens for
// other instances' changes of what it keeps in memory, or 0.
func KeptListenerPID(db *DB) uint32 {
	if w := db.kept.watch; w != nil {
		return w.ListenerPID()
	}
	return 0
}

// SetAuditTermsMark sets the mark of the audit log's search terms to upto,
// as an operator's hand or a restore of one table might.
func SetAuditTermsMark(ctx context.Context, db *DB, upto int64) error {
	_, err := db.exec(ctx, `UPDATE audit_terms_mark SET upto = ? WHERE id = 1`, upto)
	return err
}
