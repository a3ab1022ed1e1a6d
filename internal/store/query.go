package store

import (
	"context"
	"strings"
)

// conn is what reading helpers need: a transaction, or the database itself
// for reads that need no transaction (on SQLite a transaction takes the
// writer, so plain reads go without one, on the read-only connections).
type conn interface {
	query(ctx context.Context, query string, args ...any) (rows, error)
	queryRow(ctx context.Context, query string, args ...any) scanner
}

// rows are the rows a query returns: *sql.Rows, or those of a PostgreSQL
// transaction (pgRows).
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Close() error
	Err() error
}

var (
	_ conn = (*Tx)(nil)
	_ conn = (*DB)(nil)
)

func (db *DB) query(ctx context.Context, query string, args ...any) (rows, error) {
	db.countStatement()
	query = db.rebind(query)
	if db.pg != nil {
		r, err := db.pg.Query(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		return &pgRows{Rows: r}, nil
	}
	if s := db.readStmts.get(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return db.sql.QueryContext(ctx, query, args...)
}

func (db *DB) queryRow(ctx context.Context, query string, args ...any) scanner {
	if db.pg != nil {
		r, err := db.query(ctx, query, args...)
		return queryRow{r, err}
	}
	db.countStatement()
	query = db.rebind(query)
	if s := db.readStmts.get(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return db.sql.QueryRowContext(ctx, query, args...)
}

// scanner is a *sql.Row, a queryRow or rows.
type scanner interface{ Scan(dest ...any) error }

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, c conn, q string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanInt64 scans a row of one integer, an ID, for queryAll.
func scanInt64(s scanner) (int64, error) {
	var n int64
	return n, s.Scan(&n)
}

// prefixed qualifies each column of a column list with a table alias.
func prefixed(alias, columns string) string {
	cs := strings.Split(columns, ",")
	for i, c := range cs {
		cs[i] = alias + strings.TrimSpace(c)
	}
	return strings.Join(cs, ", ")
}
