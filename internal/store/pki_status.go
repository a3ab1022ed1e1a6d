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
	var row scanner
	if s.db.pg != nil {
		// pgx keeps the statement prepared on each connection.
		row = s.db.queryRow(ctx, s.status.query, serial)
	} else {
		stmt, err := s.status.prepared(ctx, s.db)
		if err != nil {
			return nil, err
		}
		s.db.count.statements.Add(1)
		row = stmt.QueryRowContext(ctx, serial)
	}
	err := row.Scan(&c.Status, &revoked, &c.Reason)
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "No certificate with serial %s.", serial)
	} else if err != nil {
		return nil, fmt.Errorf("find certificate status: %w", err)
	}
	c.RevokedAt = decodeTime(revoked)
	return &c, nil
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
