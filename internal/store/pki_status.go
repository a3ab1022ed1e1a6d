package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
)

var _ pki.StatusFinder = (*PKIStore)(nil)

// statusQuery reads what an OCSP response says of a certificate, by the
// serial's unique index.
const statusQuery = `SELECT status, revoked_at, reason FROM certificates WHERE serial = ?`

// onceStmt is a query prepared once on SQLite's readers for the
// PKIStore: OCSP runs its queries for requests, and parsing them each time
// cost more than running them. On PostgreSQL pgx keeps each statement
// prepared on its connections.
type onceStmt struct {
	query string
	mu    sync.Mutex
	stmt  *sql.Stmt
}

// FindCertificateStatus returns the certificate with the given serial with
// its status, revocation time and reason only, or ENOTFOUND.
func (s *PKIStore) FindCertificateStatus(ctx context.Context, serial string) (*lanyard.Certificate, error) {
	c := lanyard.Certificate{Serial: serial}
	var revoked int64
	row, err := s.status.queryRow(ctx, s.db, serial)
	if err != nil {
		return nil, err
	}
	err = row.Scan(&c.Status, &revoked, &c.Reason)
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "No certificate with serial %s.", serial)
	} else if err != nil {
		return nil, fmt.Errorf("find certificate status: %w", err)
	}
	c.RevokedAt = decodeTime(revoked)
	return &c, nil
}

// queryRow runs the query with args: on SQLite prepared once, on
// PostgreSQL as any other, which pgx keeps prepared on each connection.
func (p *onceStmt) queryRow(ctx context.Context, db *DB, args ...any) (scanner, error) {
	if db.pg != nil {
		return db.queryRow(ctx, p.query, args...), nil
	}
	stmt, err := p.prepared(ctx, db)
	if err != nil {
		return nil, err
	}
	db.countStatement()
	return stmt.QueryRowContext(ctx, args...), nil
}

// prepared returns the statement, preparing it on first use; a failed
// preparation is tried again on the next call.
func (p *onceStmt) prepared(ctx context.Context, db *DB) (*sql.Stmt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stmt == nil {
		stmt, err := db.sql.PrepareContext(ctx, db.rebind(p.query))
		if err != nil {
			return nil, fmt.Errorf("prepare %q: %w", p.query, err)
		}
		p.stmt = stmt
	}
	return p.stmt, nil
}
