package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/lanyard-id/lanyard"
)

// The audit log's search terms: each event's actor, action and subject
// are in audit_terms, keyed by (kind, term, event ID), up to the event
// that audit_terms_mark names. IndexAuditTerms adds the events after it,
// in batches, from the background work; a search looks the older events
// up there and reads the newer ones, a few seconds' worth, from the log.
//
// Events get their IDs in the order they commit, after the chain's head
// is locked (appendAudit), so no event can commit below the mark once it
// has passed.

// The kinds of term.
const (
	termActor   = 1
	termAction  = 2
	termSubject = 3
)

// auditTermsBatch bounds the events one transaction of IndexAuditTerms
// indexes, and so how long it holds SQLite's writer.
const auditTermsBatch = 1000

// IndexAuditTerms adds the search terms of the events after the mark and
// moves the mark past them; it returns how many events it indexed. Several
// instances may run it at once: the mark's row takes them in turn.
func (db *DB) IndexAuditTerms(ctx context.Context) (int, error) {
	// A read first: an idle log costs no write transaction, which would
	// take SQLite's writer and end the commit group under way.
	var pending bool
	if err := db.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_log WHERE id > (SELECT upto FROM audit_terms_mark WHERE id = 1))`).Scan(&pending); err != nil {
		return 0, fmt.Errorf("read audit terms mark: %w", err)
	}
	if !pending {
		return 0, nil
	}
	total := 0
	for {
		n, err := db.indexAuditBatch(ctx)
		total += n
		if err != nil || n < auditTermsBatch {
			return total, err
		}
	}
}

type auditTerm struct {
	kind  int
	term  string
	event int64
}

func (db *DB) indexAuditBatch(ctx context.Context) (int, error) {
	n := 0
	// Solo: a batch takes milliseconds, which the requests of a commit
	// group would otherwise wait for.
	err := db.inSoloTx(ctx, func(tx *Tx) error {
		var upto int64
		if err := tx.queryRow(ctx, `SELECT upto FROM audit_terms_mark WHERE id = 1`+tx.forUpdate("")).Scan(&upto); err != nil {
			return fmt.Errorf("read audit terms mark: %w", err)
		}
		events, err := queryAll(ctx, tx, `SELECT id, actor, action, subject FROM audit_log WHERE id > ? ORDER BY id LIMIT ?`,
			[]any{upto, auditTermsBatch}, func(s scanner) (*lanyard.AuditEvent, error) {
				var e lanyard.AuditEvent
				return &e, s.Scan(&e.ID, &e.Actor, &e.Action, &e.Subject)
			})
		if err != nil || len(events) == 0 {
			return err
		}
		terms := make([]auditTerm, 0, 3*len(events))
		for _, e := range events {
			for kind, term := range [...]string{termActor: e.Actor, termAction: e.Action, termSubject: e.Subject} {
				if term != "" {
					terms = append(terms, auditTerm{kind, term, e.ID})
				}
			}
		}
		// In the index's order: each page of it is written once.
		slices.SortFunc(terms, func(a, b auditTerm) int {
			return cmp.Or(cmp.Compare(a.kind, b.kind), strings.Compare(a.term, b.term), cmp.Compare(a.event, b.event))
		})
		const rows = 300
		for len(terms) > 0 {
			batch := terms[:min(len(terms), rows)]
			terms = terms[len(batch):]
			args := make([]any, 0, 3*len(batch))
			for _, t := range batch {
				args = append(args, t.kind, t.term, t.event)
			}
			q := `INSERT INTO audit_terms (kind, term, event_id) VALUES (?, ?, ?)` + strings.Repeat(`, (?, ?, ?)`, len(batch)-1) + ` ON CONFLICT DO NOTHING`
			if _, err := tx.exec(ctx, q, args...); err != nil {
				return fmt.Errorf("index audit events: %w", err)
			}
		}
		if _, err := tx.exec(ctx, `UPDATE audit_terms_mark SET upto = ? WHERE id = 1`, events[len(events)-1].ID); err != nil {
			return fmt.Errorf("move audit terms mark: %w", err)
		}
		n = len(events)
		return nil
	})
	return n, err
}

// findAuditByTerm is FindAuditEvents with at least one of actor, action
// and subject: one of them (the subject, else the actor, else the action,
// from the likely fewest events to the most) leads to the events through
// audit_terms, conds filter them all, and the events after the mark come
// first, read from the log.
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
	recent, err := queryAll(ctx, db, `SELECT `+auditColumns+` FROM audit_log WHERE id > ?`+andAll("", conds)+fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, f.Limit),
		append([]any{upto}, args...), scanChained)
	if err != nil || len(recent) == f.Limit {
		return recent, wrapFind(err)
	}
	older, err := queryAll(ctx, db, `SELECT `+prefixed("a.", auditColumns)+` FROM audit_terms t JOIN audit_log a ON a.id = t.event_id
		WHERE t.kind = ? AND t.term = ? AND t.event_id <= ?`+andAll("a.", conds)+
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
