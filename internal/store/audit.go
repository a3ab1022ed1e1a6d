package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/auditlog"
)

var _ lanyard.AuditService = (*DB)(nil)

// insertAudit writes an audit event in tx, so it commits with the change it
// describes. Detail must never hold a secret.
//
// The event is kept until tx commits, and then written (appendAudit).
func (tx *Tx) insertAudit(ctx context.Context, actor lanyard.Actor, action, subject, detail string) error {
	tx.audit = append(tx.audit, tx.auditEvent(actor, action, subject, detail))
	return nil
}

// auditEvent is an event of tx, not yet chained.
func (tx *Tx) auditEvent(actor lanyard.Actor, action, subject, detail string) *lanyard.AuditEvent {
	return &lanyard.AuditEvent{Time: time.UnixMicro(encodeTime(tx.now)).UTC(),
		Actor: actor.Username, Addr: actor.Addr, Action: action, Subject: subject, Detail: detail}
}

// appendAudit writes the events tx recorded, just before tx commits.
//
// On SQLite they join the chain at once: the transaction holds the write
// lock, so the head of the chain (audit_head) is the transaction's alone.
// Each event gets the next number and the hash that chains it to the one
// before, and the head moves to the last. The head as this process last
// moved it is a guess that saves reading it: the head moves only if it is
// still there; when another process moved it meanwhile, it is read and
// moved as it is.
//
// On PostgreSQL they are written unchained, and ChainAudit chains them
// once they have committed, in the order it finds them. Chaining
// them here would make every writer of every instance wait for the head's
// row lock, which PostgreSQL holds until the commit is on disk: the
// commits would run one after the other, each with its own flush of the
// write-ahead log, instead of together.
func (tx *Tx) appendAudit(ctx context.Context) error {
	if len(tx.audit) == 0 {
		return nil
	}
	if tx.pg != nil {
		err := tx.insertEvents(ctx, tx.audit, false)
		tx.audit = nil
		return err
	}
	seq, head, known := tx.db.head.guess()
	moved := false
	if known {
		lastSeq, lastHash := chainEvents(tx.audit, seq, head)
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
		seq, head, err := tx.lockAuditHead(ctx)
		if err != nil {
			return err
		}
		lastSeq, lastHash := chainEvents(tx.audit, seq, head)
		if err := tx.moveAuditHead(ctx, lastSeq, lastHash); err != nil {
			return err
		}
	}
	if err := tx.insertEvents(ctx, tx.audit, true); err != nil {
		return err
	}
	last := tx.audit[len(tx.audit)-1]
	tx.movedHead = &auditHeadAt{seq: last.Seq, hash: last.Hash}
	tx.audit = nil
	return nil
}

// chainEvents numbers and hashes events after the head (seq, hash) and
// returns the new head.
func chainEvents(events []*lanyard.AuditEvent, seq int64, head string) (int64, string) {
	for _, e := range events {
		seq++
		e.Seq, e.PrevHash = seq, head
		e.Hash = auditlog.Hash(e.PrevHash, e)
		head = e.Hash
	}
	return seq, head
}

// auditInsertBatch bounds the events one INSERT writes.
const auditInsertBatch = 50

// insertEvents writes events, up to auditInsertBatch a statement: chained,
// with their numbers and hashes, or not, without them (ChainAudit).
func (tx *Tx) insertEvents(ctx context.Context, events []*lanyard.AuditEvent, chained bool) error {
	cols, row := `at, actor, addr, action, subject, detail`, `(?, ?, ?, ?, ?, ?)`
	if chained {
		cols, row = `seq, prev_hash, hash, `+cols, `(?, ?, ?, ?, ?, ?, ?, ?, ?)`
	}
	for len(events) > 0 {
		batch := events[:min(len(events), auditInsertBatch)]
		events = events[len(batch):]
		q := `INSERT INTO audit_log (` + cols + `) VALUES ` + row + strings.Repeat(`, `+row, len(batch)-1)
		args := make([]any, 0, 9*len(batch))
		for _, e := range batch {
			if chained {
				args = append(args, e.Seq, e.PrevHash, e.Hash)
			}
			args = append(args, encodeTime(e.Time), e.Actor, e.Addr, e.Action, e.Subject, e.Detail)
		}
		if err := tx.execLater(ctx, nil, q, args...); err != nil {
			return fmt.Errorf("write audit events: %w", err)
		}
	}
	return nil
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
}

// forget drops the guess: the head it names may not have committed.
func (h *auditHead) forget() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.at = nil
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
	q := `SELECT seq, hash FROM audit_head WHERE id = 1` + tx.forUpdate("")
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

// auditChainBatch bounds the events one transaction of ChainAudit chains.
const auditChainBatch = 1000

// ChainAudit gives the events not yet chained their place in the chain,
// in the order it finds them committed, and returns how many it chained.
// On PostgreSQL those are the events that commits wrote since it last
// ran, or that another instance wrote; on SQLite, only events written
// before the log had a chain (migration 011). Several instances may run
// it at once: the head's row lock takes them in turn, and each reads the
// events still to chain once it holds the lock, so none is chained twice.
// An event gets its number here, never before: one that commits late
// comes after those chained already, and nothing can come to stand
// before an event once chained.
func (db *DB) ChainAudit(ctx context.Context) (int, error) {
	// A read first: with nothing to chain, no write transaction, which
	// would take SQLite's writer and end the commit group under way.
	var pending bool
	if err := db.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_log WHERE seq IS NULL)`).Scan(&pending); err != nil {
		return 0, fmt.Errorf("read unchained audit events: %w", err)
	}
	total := 0
	for pending {
		n, err := db.chainAuditBatch(ctx)
		total += n
		if err != nil {
			return total, err
		}
		pending = n == auditChainBatch
	}
	return total, nil
}

// unchainedQuery reads the next events to chain, in the order they were
// written. The limit is written into the text: SQLite plans a statement
// again at every run when its LIMIT is a parameter.
var unchainedQuery = fmt.Sprintf(`SELECT id, at, actor, addr, action, subject, detail FROM audit_log
	WHERE seq IS NULL ORDER BY id LIMIT %d`, auditChainBatch)

// chainUpdateBatch bounds the events one UPDATE of chainAuditBatch names.
const chainUpdateBatch = 200

// chainAuditBatch chains the next batch of events after the locked head.
func (db *DB) chainAuditBatch(ctx context.Context) (int, error) {
	n := 0
	err := db.inSoloTx(ctx, func(tx *Tx) error {
		seq, head, err := tx.lockAuditHead(ctx)
		if err != nil {
			return err
		}
		events, err := queryAll(ctx, tx, unchainedQuery, nil, scanAuditEvent)
		if err != nil {
			return fmt.Errorf("read unchained audit events: %w", err)
		}
		if n = len(events); n == 0 {
			return nil
		}
		seq, head = chainEvents(events, seq, head)
		for rest := events; len(rest) > 0; {
			batch := rest[:min(len(rest), chainUpdateBatch)]
			rest = rest[len(batch):]
			row := `(CAST(? AS BIGINT), CAST(? AS BIGINT), ?, ?)`
			q := `WITH v(id, seq, prev_hash, hash) AS (VALUES ` + row + strings.Repeat(`, `+row, len(batch)-1) + `)
				UPDATE audit_log SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash FROM v WHERE audit_log.id = v.id`
			args := make([]any, 0, 4*len(batch))
			for _, e := range batch {
				args = append(args, e.ID, e.Seq, e.PrevHash, e.Hash)
			}
			if err := tx.execLater(ctx, nil, q, args...); err != nil {
				return fmt.Errorf("chain audit events: %w", err)
			}
		}
		tx.movedHead = &auditHeadAt{seq: seq, hash: head}
		return tx.moveAuditHead(ctx, seq, head)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
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
// memory; events not yet chained come last (ChainAudit before it leaves
// only those of the last moments). It stops at fn's first error.
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

// CheckpointAudit chains the events not yet chained (ChainAudit) and
// signs the chain up to its head with sign, unless the newest checkpoint
// covers the head already, and returns the new checkpoint or nil. The
// head is locked while it signs, so the checkpoint names an event that is
// there.
func (db *DB) CheckpointAudit(ctx context.Context, sign func(seq int64, hash string, at time.Time) (*lanyard.AuditCheckpoint, error)) (*lanyard.AuditCheckpoint, error) {
	if _, err := db.ChainAudit(ctx); err != nil {
		return nil, err
	}
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
