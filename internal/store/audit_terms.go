package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/lanyard-id/lanyard"
)

// The audit log's search terms: each event's actor, action and subject
// are in audit_terms, keyed by (kind, term, event ID), up to the number in
// the chain that audit_terms_mark names. IndexAuditTerms adds the events
// after it, in batches, from the background work; a search looks the
// older events up there and reads the newer ones, a few seconds' worth,
// and those not yet chained, from the log.
//
// The mark is a number in the chain, not an ID: events get their numbers
// after they commit (ChainAudit), and never below one already given, so
// none can come to stand below the mark once it has passed. IDs are given
// as the events are written, and on PostgreSQL a transaction may commit
// after others that wrote later.

// The kinds of term.
const (
	termActor   = 1
	termAction  = 2
	termSubject = 3
)

// auditTermsBatch bounds the events one transaction of IndexAuditTerms
// indexes, and so how long it holds SQLite's writer.
const auditTermsBatch = 1000

// IndexAuditTerms chains the events not yet chained (ChainAudit), adds the
// search terms of the events after the mark and moves the mark past them; it
// returns how many events it indexed. Several instances may run it at
// once: the mark's row takes them in turn.
func (db *DB) IndexAuditTerms(ctx context.Context) (int, error) {
	if _, err := db.ChainAudit(ctx); err != nil {
		return 0, err
	}
	// A read first: an idle log costs no write transaction, which would
	// take SQLite's writer and end the commit group under way.
	var pending bool
	if err := db.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_log WHERE seq > (SELECT upto FROM audit_terms_mark WHERE id = 1))`).Scan(&pending); err != nil {
		return 0, fmt.Errorf("read audit terms mark: %w", err)
	}
	if !pending {
		return 0, nil
	}
	total := 0
	for {
		n, err := db.indexAuditBatch(ctx, indexTermsQuery)
		if isUniqueViolation(err) {
			// Some of the batch's terms are there already: the mark was
			// set back, by hand or by a restore of one table without the
			// other. The batch is done again without them.
			n, err = db.indexAuditBatch(ctx, indexTermsQuery+` ON CONFLICT DO NOTHING`)
		}
		total += n
		if err != nil || n < auditTermsBatch {
			return total, err
		}
	}
}

// indexTermsQuery adds the terms of the events numbered (lo, hi] to
// audit_terms in the index's order, so that each of its pages is written
// once. The database reads and sorts them itself, and the statement's text
// does not depend on the batch, so it is prepared once.
//
// The batch begins at the mark, read under its lock, so none of its terms
// is there yet, and the statement says nothing of conflicts: on
// PostgreSQL, ON CONFLICT would make each row a speculative insertion (a
// look into the index first, and one more record in the write-ahead log
// to confirm it), which costs two thirds more than the insert.
var indexTermsQuery = fmt.Sprintf(`INSERT INTO audit_terms (kind, term, event_id)
	SELECT kind, term, id FROM (
		SELECT %d AS kind, actor AS term, id FROM audit_log WHERE seq > ? AND seq <= ? AND actor <> ''
		UNION ALL SELECT %d, action, id FROM audit_log WHERE seq > ? AND seq <= ? AND action <> ''
		UNION ALL SELECT %d, subject, id FROM audit_log WHERE seq > ? AND seq <= ? AND subject <> ''
	) AS t ORDER BY kind, term, id`, termActor, termAction, termSubject)

// batchEndQuery finds the number of the last of the next auditTermsBatch
// events after the mark, and how many there are. The limit is written
// into the text: SQLite plans a statement again at every run when its
// LIMIT is a parameter.
var batchEndQuery = fmt.Sprintf(`SELECT MAX(seq), COUNT(*) FROM (SELECT seq FROM audit_log WHERE seq > ? ORDER BY seq LIMIT %d) AS batch`, auditTermsBatch)

// indexAuditBatch indexes the next batch after the mark with query,
// indexTermsQuery or a form of it.
func (db *DB) indexAuditBatch(ctx context.Context, query string) (int, error) {
	n := 0
	// Solo: a batch takes milliseconds, which the requests of a commit
	// group would otherwise wait for.
	err := db.inSoloTx(ctx, func(tx *Tx) error {
		var upto int64
		if err := tx.queryRow(ctx, `SELECT upto FROM audit_terms_mark WHERE id = 1`+tx.forUpdate("")).Scan(&upto); err != nil {
			return fmt.Errorf("read audit terms mark: %w", err)
		}
		var last sql.NullInt64
		if err := tx.queryRow(ctx, batchEndQuery, upto).Scan(&last, &n); err != nil {
			return fmt.Errorf("read audit events to index: %w", err)
		}
		if n == 0 {
			return nil
		}
		hi := last.Int64
		if _, err := tx.exec(ctx, query, upto, hi, upto, hi, upto, hi); err != nil {
			return fmt.Errorf("index audit events: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE audit_terms_mark SET upto = ? WHERE id = 1`, hi); err != nil {
			return fmt.Errorf("move audit terms mark: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// findAuditByTerm is FindAuditEvents with at least one of actor, action
// and subject: one of them (the subject, else the actor, else the action,
// from the likely fewest events to the most) leads to the events through
// audit_terms, conds filter them all, and the events after the mark come
// first, read from the log, with those not yet chained.
func (db *DB) findAuditByTerm(ctx context.Context, f lanyard.AuditFilter, conds []string, args []any) ([]*lanyard.AuditEvent, error) {
	kind, term := termSubject, f.Subject
	if term == "" {
		kind, term = termActor, f.Actor
	}
	if term == "" {
		kind, term = termAction, f.Action
	}
	// One mark for both reads: what the first reads after it, the second
	// does not read again, whatever the indexing does meanwhile.
	var upto int64
	if err := db.queryRow(ctx, `SELECT upto FROM audit_terms_mark WHERE id = 1`).Scan(&upto); err != nil {
		return nil, fmt.Errorf("find audit events: %w", err)
	}
	recent, err := queryAll(ctx, db, `SELECT `+auditColumns+` FROM audit_log WHERE (seq > ? OR seq IS NULL)`+andAll("", conds)+fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, f.Limit),
		append([]any{upto}, args...), scanChained)
	if err != nil || len(recent) == f.Limit {
		return recent, wrapFind(err)
	}
	older, err := queryAll(ctx, db, `SELECT `+prefixed("a.", auditColumns)+` FROM audit_terms t JOIN audit_log a ON a.id = t.event_id
		WHERE t.kind = ? AND t.term = ? AND a.seq <= ?`+andAll("a.", conds)+
		fmt.Sprintf(` ORDER BY t.event_id DESC LIMIT %d`, f.Limit-len(recent)),
		append([]any{kind, term, upto}, args...), scanChained)
	return append(recent, older...), wrapFind(err)
}

func wrapFind(err error) error {
	if err != nil {
		return fmt.Errorf("find audit events: %w", err)
	}
	return nil
}
