package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/auditlog"
)

var _ lanyard.AuditService = (*DB)(nil)

// insertAudit writes an audit event in tx, so it commits with the change it
// describes. Detail must never hold a secret.
//
// The event joins the chain when tx commits (see appendAudit): it is kept
// until then, so that the head of the chain, which every writer of every
// instance locks, is locked last in a transaction and only for a moment.
func (tx *Tx) insertAudit(ctx context.Context, actor lanyard.Actor, action, subject, detail string) error {
	tx.audit = append(tx.audit, tx.auditEvent(actor, action, subject, detail))
	return nil
}

// auditEvent is an event of tx, not yet chained.
func (tx *Tx) auditEvent(actor lanyard.Actor, action, subject, detail string) *lanyard.AuditEvent {
	return &lanyard.AuditEvent{Time: time.UnixMicro(encodeTime(tx.now)).UTC(),
		Actor: actor.Username, Addr: actor.Addr, Action: action, Subject: subject, Detail: detail}
}

// appendAudit appends the events tx recorded to the chain, just before tx
// commits: the head row is locked (on SQLite the transaction holds the
// write lock already), each event gets the next number and the hash that
// chains it to the one before, and the head moves to the last. Writers
// take turns at the head, so the chain is ordered by the database, and a
// transaction rolled back leaves no gap.
//
// The head as this process last moved it is a guess that saves reading
// it: the head moves only if it is still there, which takes its lock as a
// read for update would; when another process moved it meanwhile, it is
// read and moved as it is. The events then go in with one statement.
//
// On PostgreSQL the transactions of this process take their turn at the
// head (see auditHead.turn) before they guess, so that the guess is wrong
// only when another instance wrote. There the move and the events go with
// COMMIT, in a savepoint: when the guess was wrong, the statement fails,
// COMMIT is not run, and commitPostgres chains the events again.
func (tx *Tx) appendAudit(ctx context.Context) error {
	if len(tx.audit) == 0 {
		return nil
	}
	if err := tx.takeHeadTurn(ctx); err != nil {
		return err
	}
	seq, head, known := tx.db.head.guess()
	moved := false
	if known && tx.pg != nil && len(tx.audit) <= auditInsertBatch {
		tx.queueMoveHeadAndInsert(ctx, seq, head)
		last := tx.audit[len(tx.audit)-1]
		tx.movedHead = &auditHeadAt{seq: last.Seq, hash: last.Hash}
		tx.guessedHead = true
		return nil
	}
	if known {
		lastSeq, lastHash := tx.chainAudit(seq, head)
		res, err := tx.exec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ? AND hash = ?`, lastSeq, lastHash, seq, head)
		if err != nil {
			return fmt.Errorf("move audit chain head: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("move audit chain head: %w", err)
		}
		moved = n == 1
	}
	if !moved {
		return tx.appendAtLockedHead(ctx)
	}
	return tx.appendChained(ctx)
}

// appendAtLockedHead locks and reads the chain's head, chains the events
// of tx after it, moves it and writes them.
func (tx *Tx) appendAtLockedHead(ctx context.Context) error {
	seq, head, err := tx.lockAuditHead(ctx)
	if err != nil {
		return err
	}
	lastSeq, lastHash := tx.chainAudit(seq, head)
	if err := tx.moveAuditHead(ctx, lastSeq, lastHash); err != nil {
		return err
	}
	return tx.appendChained(ctx)
}

// appendChained writes the chained events of tx, which then moved the
// head to the last of them.
func (tx *Tx) appendChained(ctx context.Context) error {
	if err := tx.insertChained(ctx, tx.audit); err != nil {
		return err
	}
	last := tx.audit[len(tx.audit)-1]
	tx.movedHead = &auditHeadAt{seq: last.Seq, hash: last.Hash}
	tx.audit = nil
	return nil
}

// chainAudit numbers and hashes the events of tx after the head (seq,
// hash) and returns the new head.
func (tx *Tx) chainAudit(seq int64, head string) (int64, string) {
	for _, e := range tx.audit {
		seq++
		e.Seq, e.PrevHash = seq, head
		e.Hash = auditlog.Hash(e.PrevHash, e)
		head = e.Hash
	}
	return seq, head
}

// auditInsertBatch bounds the events one INSERT writes.
const auditInsertBatch = 50

// insertChained writes chained events, up to auditInsertBatch a statement.
func (tx *Tx) insertChained(ctx context.Context, events []*lanyard.AuditEvent) error {
	for len(events) > 0 {
		batch := events[:min(len(events), auditInsertBatch)]
		events = events[len(batch):]
		q := `INSERT INTO audit_log (seq, prev_hash, hash, at, actor, addr, action, subject, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)` +
			strings.Repeat(`, (?, ?, ?, ?, ?, ?, ?, ?, ?)`, len(batch)-1)
		if err := tx.execLater(ctx, nil, q, appendAuditRows(make([]any, 0, 9*len(batch)), batch)...); err != nil {
			return fmt.Errorf("write audit events: %w", err)
		}
	}
	return nil
}

// appendAuditRows appends the columns of chained events, in the order the
// INSERTs name them (seq, prev_hash, hash, at, actor, addr, action,
// subject, detail).
func appendAuditRows(args []any, events []*lanyard.AuditEvent) []any {
	for _, e := range events {
		args = append(args, e.Seq, e.PrevHash, e.Hash, encodeTime(e.Time), e.Actor, e.Addr, e.Action, e.Subject, e.Detail)
	}
	return args
}

// auditHeadSavepoint is where a PostgreSQL transaction that guessed the
// audit chain's head goes back to when the guess was wrong.
const auditHeadSavepoint = "audit_head"

// queueMoveHeadAndInsert chains the events of tx after the guessed head
// (seq, hash) and queues, in a savepoint, one PostgreSQL statement that
// moves the head from there and inserts them. When the head was elsewhere
// it fails with errCodeAuditHeadMoved (migration 027), having written
// nothing.
func (tx *Tx) queueMoveHeadAndInsert(ctx context.Context, seq int64, head string) {
	lastSeq, lastHash := tx.chainAudit(seq, head)
	row := `(?::bigint, ?, ?, ?::bigint, ?, ?, ?, ?, ?)`
	q := `WITH h AS (UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ? AND hash = ? RETURNING 1)
		INSERT INTO audit_log (seq, prev_hash, hash, at, actor, addr, action, subject, detail)
		SELECT v.* FROM (VALUES ` + row + strings.Repeat(`, `+row, len(tx.audit)-1) + `) AS v(seq, prev_hash, hash, at, actor, addr, action, subject, detail)
		WHERE CASE WHEN EXISTS (SELECT 1 FROM h) THEN true ELSE audit_head_moved() END`
	args := append(make([]any, 0, 4+9*len(tx.audit)), lastSeq, lastHash, seq, head)
	_ = tx.execLater(ctx, nil, `SAVEPOINT `+auditHeadSavepoint)
	_ = tx.execLater(ctx, nil, q, appendAuditRows(args, tx.audit)...)
}

// errCodeAuditHeadMoved is the SQLSTATE of audit_head_moved().
const errCodeAuditHeadMoved = "LY001"

// commitPostgres commits tx; when the audit chain's head it guessed had
// moved, it goes back to the savepoint before the move, chains the events
// again after the head as it is, and commits.
func (tx *Tx) commitPostgres(ctx context.Context) error {
	err := tx.pg.commit(ctx)
	var pgErr *pgconn.PgError
	if !tx.guessedHead || !errors.As(err, &pgErr) || pgErr.Code != errCodeAuditHeadMoved {
		return err
	}
	tx.guessedHead, tx.movedHead = false, nil
	if _, err := tx.exec(ctx, `ROLLBACK TO SAVEPOINT `+auditHeadSavepoint); err != nil {
		return fmt.Errorf("write audit events: %w", err)
	}
	if err := tx.appendAtLockedHead(ctx); err != nil {
		return err
	}
	return tx.pg.commit(ctx)
}

// auditHeadAt is a position of the chain's head.
type auditHeadAt struct {
	seq  int64
	hash string
}

// auditHead is the head as this process last moved it, once known.
type auditHead struct {
	mu sync.Mutex
	at *auditHeadAt
	// turn is held by the PostgreSQL transaction of this process that
	// moves the head, from its guess until it commits or ends. The head's
	// row lock lets one writer at a time from there to the commit anyway;
	// taking turns in the process first means that each one guesses where
	// the one before left the head, instead of several guessing the same
	// place and all but one reading it again. A channel of one, so that a
	// wait for it ends with its request, or after headTurnWait.
	turn chan struct{}
}

func newAuditHead() auditHead { return auditHead{turn: make(chan struct{}, 1)} }

// forget drops the guess: the head it names may not have committed.
func (h *auditHead) forget() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.at = nil
}

// takeHeadTurn waits for tx's turn at the audit chain's head, on
// PostgreSQL, for at most headTurnWait or until ctx ends; the turn ends
// with tx's commit, or with tx (endHeadTurn).
//
// The turn makes guesses right; the head's row lock, and the statement
// that fails when the guess is wrong, keep the chain whole without it. So
// a transaction that waited long enough goes on without the turn: the
// one holding it may be waiting for a row that this one has locked (the
// writes sent with COMMIT run after the turn is taken), and would wait
// for ever.
func (tx *Tx) takeHeadTurn(ctx context.Context) error {
	if tx.db.dialect != Postgres || tx.hasHeadTurn {
		return nil
	}
	select {
	case tx.db.head.turn <- struct{}{}:
		tx.hasHeadTurn = true
		return nil
	default:
	}
	wait := time.NewTimer(headTurnWait)
	defer wait.Stop()
	select {
	case tx.db.head.turn <- struct{}{}:
		tx.hasHeadTurn = true
		return nil
	case <-wait.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for the audit chain's head: %w", ctx.Err())
	}
}

// headTurnWait bounds the wait for the turn at the audit chain's head: far
// longer than the turns of a busy process take one after the other.
const headTurnWait = 250 * time.Millisecond

// endHeadTurn gives tx's turn at the head to the next transaction; safe
// to call more than once.
func (tx *Tx) endHeadTurn() {
	if tx.hasHeadTurn {
		tx.hasHeadTurn = false
		<-tx.db.head.turn
	}
}

func (h *auditHead) guess() (int64, string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.at == nil {
		return 0, "", false
	}
	return h.at.seq, h.at.hash, true
}

// moved records where a committed transaction left the head.
func (h *auditHead) moved(at *auditHeadAt) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.at == nil || at.seq > h.at.seq {
		h.at = at
	}
}

func (tx *Tx) lockAuditHead(ctx context.Context) (int64, string, error) {
	if err := tx.takeHeadTurn(ctx); err != nil {
		return 0, "", err
	}
	q := `SELECT seq, hash FROM audit_head WHERE id = 1`
	if tx.db.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	var seq int64
	var hash string
	if err := tx.queryRow(ctx, q).Scan(&seq, &hash); err != nil {
		return 0, "", fmt.Errorf("read audit chain head: %w", err)
	}
	return seq, hash, nil
}

func (tx *Tx) moveAuditHead(ctx context.Context, seq int64, hash string) error {
	if err := tx.execLater(ctx, nil, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, seq, hash); err != nil {
		return fmt.Errorf("move audit chain head: %w", err)
	}
	return nil
}

// chainOldAuditEvents chains the events written before the log had a
// chain, in the order they were written, once, at the first start after
// the migration.
func (db *DB) chainOldAuditEvents(ctx context.Context) error {
	var n int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE seq IS NULL`).Scan(&n); err != nil {
		return fmt.Errorf("count unchained audit events: %w", err)
	}
	if n == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx *Tx) error {
		seq, head, err := tx.lockAuditHead(ctx)
		if err != nil {
			return err
		}
		events, err := queryAll(ctx, tx, `SELECT id, at, actor, addr, action, subject, detail FROM audit_log WHERE seq IS NULL ORDER BY id`, nil, scanAuditEvent)
		if err != nil {
			return fmt.Errorf("read unchained audit events: %w", err)
		}
		for _, e := range events {
			seq++
			e.Seq, e.PrevHash = seq, head
			e.Hash = auditlog.Hash(head, e)
			head = e.Hash
			if _, err := tx.exec(ctx, `UPDATE audit_log SET seq = ?, prev_hash = ?, hash = ? WHERE id = ?`, e.Seq, e.PrevHash, e.Hash, e.ID); err != nil {
				return fmt.Errorf("chain audit event: %w", err)
			}
		}
		return tx.moveAuditHead(ctx, seq, head)
	})
}

func scanAuditEvent(s scanner) (*lanyard.AuditEvent, error) {
	var e lanyard.AuditEvent
	var at int64
	err := s.Scan(&e.ID, &at, &e.Actor, &e.Addr, &e.Action, &e.Subject, &e.Detail)
	e.Time = decodeTime(at)
	return &e, err
}

// RecordAudit writes an audit event on its own, for changes that have no
// row of their own in the database, such as a login or a logout.
func (db *DB) RecordAudit(ctx context.Context, actor lanyard.Actor, action, subject, detail string) error {
	return db.inTx(ctx, func(tx *Tx) error { return tx.insertAudit(ctx, actor, action, subject, detail) })
}

const auditColumns = `id, seq, prev_hash, hash, at, actor, addr, action, subject, detail`

func scanChained(s scanner) (*lanyard.AuditEvent, error) {
	var e lanyard.AuditEvent
	var at int64
	var seq *int64
	err := s.Scan(&e.ID, &seq, &e.PrevHash, &e.Hash, &at, &e.Actor, &e.Addr, &e.Action, &e.Subject, &e.Detail)
	if seq != nil {
		e.Seq = *seq
	}
	e.Time = decodeTime(at)
	return &e, err
}

// FindAuditEvents returns audit events, newest first.
func (db *DB) FindAuditEvents(ctx context.Context, f lanyard.AuditFilter) ([]*lanyard.AuditEvent, error) {
	if !lanyard.ValidText(f.Actor + f.Action + f.Subject) {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The filter must be valid text.")
	}
	var conds []string
	var args []any
	for _, c := range []struct{ col, val string }{{"actor", f.Actor}, {"action", f.Action}, {"subject", f.Subject}} {
		if c.val != "" {
			conds = append(conds, c.col+` = ?`)
			args = append(args, c.val)
		}
	}
	terms := len(conds) > 0
	if !f.From.IsZero() {
		conds = append(conds, `at >= ?`)
		args = append(args, encodeTime(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, `at < ?`)
		args = append(args, encodeTime(f.To))
	}
	if f.BeforeID > 0 {
		conds = append(conds, `id < ?`)
		args = append(args, f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 100_000 {
		f.Limit = 100
	}
	if terms {
		return db.findAuditByTerm(ctx, f, conds, args)
	}
	events, err := queryAll(ctx, db, `SELECT `+auditColumns+` FROM audit_log WHERE 1=1`+andAll("", conds)+fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, f.Limit), args, scanChained)
	return events, wrapFind(err)
}

// andAll joins conditions on the columns of the table with alias as
// " AND c1 AND c2 …".
func andAll(alias string, conds []string) string {
	var b strings.Builder
	for _, c := range conds {
		b.WriteString(" AND " + alias + c)
	}
	return b.String()
}

// EachAuditEvent calls fn for every event of the chain in the order of
// their numbers, reading them in pages so that a long log costs little
// memory; events not yet chained come last. It stops at fn's first error.
func (db *DB) EachAuditEvent(ctx context.Context, fn func(*lanyard.AuditEvent) error) error {
	const page = 2000
	after := int64(0)
	for {
		events, err := queryAll(ctx, db, `SELECT `+auditColumns+` FROM audit_log WHERE seq > ? ORDER BY seq LIMIT `+strconv.Itoa(page), []any{after}, scanChained)
		if err != nil {
			return fmt.Errorf("read audit events: %w", err)
		}
		for _, e := range events {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(events) < page {
			break
		}
		after = events[len(events)-1].Seq
	}
	unchained, err := queryAll(ctx, db, `SELECT `+auditColumns+` FROM audit_log WHERE seq IS NULL ORDER BY id`, nil, scanChained)
	if err != nil {
		return fmt.Errorf("read audit events: %w", err)
	}
	for _, e := range unchained {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// AuditCheckpoints returns every checkpoint, oldest first.
func (db *DB) AuditCheckpoints(ctx context.Context) ([]*lanyard.AuditCheckpoint, error) {
	cps, err := queryAll(ctx, db, `SELECT seq, hash, at, signature FROM audit_checkpoints ORDER BY seq`, nil, func(s scanner) (*lanyard.AuditCheckpoint, error) {
		var c lanyard.AuditCheckpoint
		var at int64
		err := s.Scan(&c.Seq, &c.Hash, &at, &c.Signature)
		c.Time = decodeTime(at)
		return &c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read audit checkpoints: %w", err)
	}
	return cps, nil
}

// CheckpointAudit signs the chain up to its head with sign, unless the
// newest checkpoint covers the head already, and returns the new
// checkpoint or nil. The head is locked while it signs, so the checkpoint
// names an event that is there.
func (db *DB) CheckpointAudit(ctx context.Context, sign func(seq int64, hash string, at time.Time) (*lanyard.AuditCheckpoint, error)) (*lanyard.AuditCheckpoint, error) {
	var cp *lanyard.AuditCheckpoint
	err := db.inTx(ctx, func(tx *Tx) error {
		seq, hash, err := tx.lockAuditHead(ctx)
		if err != nil || seq == 0 {
			return err
		}
		var last int64
		if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints`).Scan(&last); err != nil {
			return fmt.Errorf("read audit checkpoints: %w", err)
		}
		if last >= seq {
			return nil
		}
		if cp, err = sign(seq, hash, tx.now); err != nil {
			return err
		}
		_, err = tx.exec(ctx, `INSERT INTO audit_checkpoints (seq, hash, at, signature) VALUES (?, ?, ?, ?)`,
			cp.Seq, cp.Hash, encodeTime(cp.Time), cp.Signature)
		if err != nil {
			return fmt.Errorf("write audit checkpoint: %w", err)
		}
		return nil
	})
	return cp, err
}
