package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgTx is a PostgreSQL transaction on a connection of its own, sent in as
// few round trips as its statements allow: each round trip costs both
// processes more than most statements do. BEGIN goes with the first
// statement, the writes whose answers the transaction does not wait for
// (Tx.execLater) go with the next statement it does wait for, and COMMIT
// goes with the last of them.
type pgTx struct {
	conn *pgxpool.Conn
	// begun is set once BEGIN has been sent, and done once COMMIT or
	// ROLLBACK ended the transaction.
	begun, done bool
	// pending are the statements queued and not yet sent.
	pending []pgStatement
	// err, once set, ends the transaction: every statement after it
	// fails with it.
	err error
	// roundTrips counts the answers waited for (Counters.RoundTrips).
	roundTrips *atomic.Int64
}

// pgStatement is a statement sent later (Tx.later), and how its failure
// is reported.
type pgStatement struct {
	sql  string
	args []any
	fail func(error) error // see Tx.execLater
	// none, when set, is the failure of the transaction when the
	// statement finds or changes no row: it is sent wrapped in
	// expectRows, so that the server fails it, and COMMIT sent after it
	// does not run.
	none error
	// read, when set, reads the statement's rows (Tx.queryLater).
	read func(rows) error
}

// errCodeNoRows is the SQLSTATE of expect_rows (migration 027) when a
// statement found or changed no row.
const errCodeNoRows = "LY002"

// expectRows wraps a statement that returns a row for each row it finds
// or changes so that it fails with errCodeNoRows when there is none.
func expectRows(query string) string {
	return `WITH x AS (` + query + `) SELECT expect_rows(COUNT(*)) FROM x`
}

// beginPostgres takes a connection of the pool for a transaction; BEGIN
// is sent with its first statement.
func (db *DB) beginPostgres(ctx context.Context) (*pgTx, error) {
	conn, err := db.pg.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return &pgTx{conn: conn, roundTrips: &db.count.roundTrips}, nil
}

// laterError is the failure of a statement queued earlier, reported by
// the statement after it. It names the statement, and is never taken for
// the failure of the one that reports it (see isUniqueViolation).
type laterError struct {
	sql string
	err error
}

func (e *laterError) Error() string {
	q, _, _ := strings.Cut(strings.TrimSpace(e.sql), "\n")
	return fmt.Sprintf("%s: %v", q, e.err)
}
func (e *laterError) Unwrap() error { return e.err }

// queue adds a statement to be sent with the next one that is answered.
func (p *pgTx) queue(s pgStatement) { p.pending = append(p.pending, s) }

// send sends query with BEGIN, if not yet sent, and the statements
// queued before it. It returns nil, and the statement goes on its own,
// when there is nothing to send with it.
func (p *pgTx) send(ctx context.Context, query string, args []any) (pgx.BatchResults, error) {
	if p.err != nil {
		return nil, p.err
	}
	p.roundTrips.Add(1)
	if p.begun && len(p.pending) == 0 {
		return nil, nil
	}
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(p.pending)+2)}
	if !p.begun {
		b.Queue("begin")
	}
	for _, s := range p.pending {
		b.Queue(s.sql, s.args...)
	}
	b.Queue(query, args...)
	br := p.conn.SendBatch(ctx, b)
	if !p.begun {
		p.begun = true
		if _, err := br.Exec(); err != nil {
			// Whether BEGIN ran or not (a batch that fails before it is
			// sent fails here), the transaction is over: what came after
			// it must not run on its own.
			br.Close()
			p.err = fmt.Errorf("begin transaction: %w", err)
			return nil, p.err
		}
	}
	pending := p.pending
	p.pending = nil
	for _, s := range pending {
		var err error
		if s.read != nil {
			err = readLater(br, s.read)
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			br.Close()
			return nil, s.failed(err)
		}
	}
	return br, nil
}

// failed is the error reported of the queued statement s, which failed
// with err. Only the server's own answer to s is s's failure: one of the
// whole batch (a statement that could not be prepared or encoded, the
// connection, the context) is reported as it is.
func (s *pgStatement) failed(err error) error {
	var pgErr *pgconn.PgError
	var batchErr pgx.ErrPreprocessingBatch
	if !errors.As(err, &pgErr) || errors.As(err, &batchErr) {
		return err
	}
	switch {
	case s.none != nil && pgErr.Code == errCodeNoRows:
		return s.none
	case s.fail != nil:
		return s.fail(err)
	}
	return &laterError{s.sql, err}
}

// readLater reads the rows of the next statement of br with read.
func readLater(br pgx.BatchResults, read func(rows) error) error {
	r, err := br.Query()
	if err != nil {
		return err
	}
	rs := &pgRows{Rows: r}
	err = read(rs)
	if cerr := rs.Close(); err == nil {
		err = cerr
	}
	return err
}

// flush sends BEGIN, if not yet sent, and what is queued, and reads
// their answers.
func (p *pgTx) flush(ctx context.Context) error {
	if p.begun && len(p.pending) == 0 {
		return p.err
	}
	_, err := p.exec(ctx, "SELECT 1", nil)
	return err
}

// reading reports whether a statement queued has rows to be read.
func (p *pgTx) reading() bool {
	return slices.ContainsFunc(p.pending, func(s pgStatement) bool { return s.read != nil })
}

func (p *pgTx) exec(ctx context.Context, query string, args []any) (pgconn.CommandTag, error) {
	if len(args) == 0 && strings.Contains(query, ";") && (!p.begun || len(p.pending) > 0) {
		// Several statements in one (a migration) go alone, through the
		// simple protocol, which a batch does not use.
		if err := p.flush(ctx); err != nil {
			return pgconn.CommandTag{}, err
		}
	}
	br, err := p.send(ctx, query, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	if br == nil {
		return p.conn.Exec(ctx, query, args...)
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (p *pgTx) query(ctx context.Context, query string, args []any) (rows, error) {
	br, err := p.send(ctx, query, args)
	if err != nil {
		return nil, err
	}
	var r pgx.Rows
	if br == nil {
		r, err = p.conn.Query(ctx, query, args...)
	} else {
		r, err = br.Query()
	}
	if err != nil {
		if br != nil {
			br.Close()
		}
		return nil, err
	}
	return &pgRows{Rows: r, br: br}, nil
}

// commit sends COMMIT with what is queued; a transaction that sent
// nothing has nothing to commit.
func (p *pgTx) commit(ctx context.Context) error {
	if p.err != nil {
		return p.err
	}
	if !p.begun && len(p.pending) == 0 {
		p.done, p.err = true, sql.ErrTxDone
		return nil
	}
	tag, err := p.exec(ctx, "commit", nil)
	if err != nil {
		return err
	}
	p.done, p.err = true, sql.ErrTxDone
	// A transaction that failed answers COMMIT with ROLLBACK.
	if tag.String() != "COMMIT" {
		return errors.New("the transaction was rolled back")
	}
	return nil
}

// end rolls the transaction back, if it began and did not end, and gives
// the connection back to the pool; safe to call more than once. A
// connection left in a transaction or mid-answer is closed by the pool
// instead of reused.
func (p *pgTx) end() {
	if p.conn == nil {
		return
	}
	if p.begun && !p.done {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		p.roundTrips.Add(1)
		_, _ = p.conn.Exec(ctx, "rollback")
		cancel()
	}
	p.done, p.err = true, sql.ErrTxDone
	p.pending = nil
	p.conn.Release()
	p.conn = nil
}

// pgRows are the rows of a query, with the batch they came in, which ends
// when they are closed.
type pgRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r *pgRows) Close() error {
	r.Rows.Close()
	err := r.Rows.Err()
	if r.br != nil {
		if cerr := r.br.Close(); err == nil {
			err = cerr
		}
		r.br = nil
	}
	return err
}

// pgResult is the sql.Result of a statement of a pgTx.
type pgResult int64

func (r pgResult) RowsAffected() (int64, error) { return int64(r), nil }
func (pgResult) LastInsertId() (int64, error) {
	return 0, errors.New("PostgreSQL has no last insert ID; use RETURNING")
}

// queryRow is a query whose first row is scanned, as *sql.Row is.
type queryRow struct {
	rows rows
	err  error
}

func (r queryRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	return r.rows.Close()
}
