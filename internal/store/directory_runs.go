package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
)

// DirectoryDN implements lanyard.DirectoryStore.
func (db *DB) DirectoryDN(ctx context.Context, username string) (string, bool, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	if !lanyard.ValidText(username) {
		return "", false, nil
	}
	var dn string
	err := db.queryRow(ctx, `SELECT directory_dn FROM users WHERE username = ?`, username).Scan(&dn)
	if errNoRows(err) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("find directory user: %w", err)
	}
	return dn, dn != "", nil
}

// RecordDirectoryRun implements lanyard.DirectoryStore.
func (db *DB) RecordDirectoryRun(ctx context.Context, run *lanyard.DirectoryRun) error {
	changes, _ := json.Marshal(run.Result.Changes)
	r := run.Result
	return db.inTx(ctx, func(tx *Tx) error {
		err := tx.queryRow(ctx, `INSERT INTO directory_syncs (started_at, finished_at, dry_run, actor, ok, entries, added, updated,
			deactivated, reactivated, conflicts, changes, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			encodeTime(run.StartedAt), encodeTime(run.FinishedAt), boolInt(run.DryRun), run.Actor, boolInt(run.OK), r.Entries,
			r.Added, r.Updated, r.Deactivated, r.Reactivated, r.Conflicts, string(changes), run.Error).Scan(&run.ID)
		if err != nil {
			return fmt.Errorf("record directory sync: %w", err)
		}
		// Only the latest runs are kept; the audit log has the rest.
		_, err = tx.exec(ctx, `DELETE FROM directory_syncs WHERE id <= ?`, run.ID-100)
		return err
	})
}

// DirectoryRuns implements lanyard.DirectoryStore.
func (db *DB) DirectoryRuns(ctx context.Context, limit int) ([]*lanyard.DirectoryRun, error) {
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	runs, err := queryAll(ctx, db, fmt.Sprintf(`SELECT id, started_at, finished_at, dry_run, actor, ok, entries, added, updated,
		deactivated, reactivated, conflicts, changes, error FROM directory_syncs ORDER BY id DESC LIMIT %d`, limit), nil,
		func(sc scanner) (*lanyard.DirectoryRun, error) {
			var r lanyard.DirectoryRun
			var started, finished int64
			var dry, ok int
			var changes string
			err := sc.Scan(&r.ID, &started, &finished, &dry, &r.Actor, &ok, &r.Result.Entries, &r.Result.Added, &r.Result.Updated,
				&r.Result.Deactivated, &r.Result.Reactivated, &r.Result.Conflicts, &changes, &r.Error)
			if err != nil {
				return nil, err
			}
			r.StartedAt, r.FinishedAt, r.DryRun, r.OK = decodeTime(started), decodeTime(finished), dry != 0, ok != 0
			if err := json.Unmarshal([]byte(changes), &r.Result.Changes); err != nil {
				return nil, fmt.Errorf("decode directory changes: %w", err)
			}
			return &r, nil
		})
	if err != nil {
		return nil, fmt.Errorf("find directory syncs: %w", err)
	}
	return runs, nil
}

// LastDirectorySuccess implements lanyard.DirectoryStore.
func (db *DB) LastDirectorySuccess(ctx context.Context) (time.Time, error) {
	var at int64
	if err := db.queryRow(ctx, `SELECT COALESCE(MAX(finished_at), 0) FROM directory_syncs WHERE ok = 1 AND dry_run = 0`).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("read last directory sync: %w", err)
	}
	return decodeTime(at), nil
}

// ClaimDirectorySync implements lanyard.DirectoryStore. The conditional
// update is the claim: of instances that try at once, one moves next_run.
func (db *DB) ClaimDirectorySync(ctx context.Context, interval time.Duration) (bool, error) {
	var claimed bool
	err := db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE directory_schedule SET next_run = ? WHERE id = 1 AND next_run <= ?`,
			encodeTime(tx.now.Add(interval)), encodeTime(tx.now))
		if err != nil {
			return fmt.Errorf("claim directory sync: %w", err)
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	return claimed, err
}
