package store

import (
	"context"
	"fmt"

	"github.com/lanyard-id/lanyard"
)

var _ lanyard.OptionScriptStore = (*DB)(nil)

const scriptColumns = `process, version, source, created_at, created_by`

func scanScript(s scanner) (*lanyard.OptionScript, error) {
	var sc lanyard.OptionScript
	var at int64
	if err := s.Scan(&sc.Process, &sc.Version, &sc.Source, &at, &sc.CreatedBy); err != nil {
		return nil, err
	}
	sc.CreatedAt = decodeTime(at)
	return &sc, nil
}

// CurrentScript returns the newest version of a process's script.
func (db *DB) CurrentScript(ctx context.Context, process string) (*lanyard.OptionScript, error) {
	now := db.Now()
	db.kept.start(db)
	if sc, ok := db.kept.script(process, now); ok {
		return sc, nil
	}
	gen, _ := db.kept.generation()
	sc, err := findScript(ctx, db, `process = ? ORDER BY version DESC LIMIT 1`, process)
	if err != nil {
		return nil, err
	}
	db.kept.keepScript(process, gen, now, sc)
	return sc, nil
}

// FindScript returns one version of a process's script.
func (db *DB) FindScript(ctx context.Context, process string, version int) (*lanyard.OptionScript, error) {
	return findScript(ctx, db, `process = ? AND version = ?`, process, version)
}

func findScript(ctx context.Context, c conn, where string, args ...any) (*lanyard.OptionScript, error) {
	sc, err := scanScript(c.queryRow(ctx, `SELECT `+scriptColumns+` FROM option_scripts WHERE `+where, args...))
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "There is no such option script.")
	} else if err != nil {
		return nil, fmt.Errorf("find option script: %w", err)
	}
	return sc, nil
}

// newestScriptVersion is the expression of the newest version of the
// script of a process, the parameter: a statement that acts on options
// returns it, to refuse with lanyard.ErrOptionsChanged options of an older
// one. On SQLite no script can be saved until the transaction ends, since
// it holds the only writer; on PostgreSQL one saved after the statement is
// one saved after the options were used.
const newestScriptVersion = `(SELECT COALESCE(MAX(version), 0) FROM option_scripts WHERE process = ?)`

// ScriptVersions returns every version of a process's script, newest first.
func (db *DB) ScriptVersions(ctx context.Context, process string) ([]*lanyard.OptionScript, error) {
	scripts, err := queryAll(ctx, db, `SELECT `+scriptColumns+` FROM option_scripts WHERE process = ? ORDER BY version DESC`,
		[]any{process}, scanScript)
	if err != nil {
		return nil, fmt.Errorf("list option script versions: %w", err)
	}
	return scripts, nil
}

// SaveScript stores source as the next version of the process's script.
// Two administrators saving at once both succeed, one after the other: the
// unique (process, version) pair makes the later one retry.
func (db *DB) SaveScript(ctx context.Context, actor lanyard.Actor, process, source, detail string) (*lanyard.OptionScript, error) {
	var sc *lanyard.OptionScript
	var err error
	for range 5 {
		err = db.inTx(ctx, func(tx *Tx) error {
			var next int
			if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM option_scripts WHERE process = ?`, process).Scan(&next); err != nil {
				return fmt.Errorf("next script version: %w", err)
			}
			if sc, err = tx.insertScript(ctx, actor, process, source, next); err != nil {
				return err
			}
			return tx.insertAudit(ctx, actor, "options.save", process, fmt.Sprintf("version %d\n%s", next, detail))
		})
		if !isUniqueViolation(err) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return sc, nil
}

func (tx *Tx) insertScript(ctx context.Context, actor lanyard.Actor, process, source string, version int) (*lanyard.OptionScript, error) {
	sc := &lanyard.OptionScript{Process: process, Version: version, Source: source, CreatedAt: tx.now, CreatedBy: actor.Username}
	tx.keptChanged = true
	_, err := tx.exec(ctx, `INSERT INTO option_scripts (`+scriptColumns+`) VALUES (?, ?, ?, ?, ?)`,
		process, version, source, encodeTime(tx.now), actor.Username)
	if err != nil {
		return nil, fmt.Errorf("insert option script: %w", err)
	}
	return sc, nil
}

// EnsureScript stores the default script of a process on first start.
// Instances starting together may race; the loser's insert is refused by
// the unique (process, version) pair and ignored.
func (db *DB) EnsureScript(ctx context.Context, process, source string) error {
	err := db.inTx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM option_scripts WHERE process = ?`, process).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.insertScript(ctx, lanyard.SystemActor, process, source, 1); err != nil {
			return err
		}
		return tx.insertAudit(ctx, lanyard.SystemActor, "options.create", process, "default script, version 1")
	})
	if isUniqueViolation(err) {
		return nil
	}
	return err
}
