package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
)

const certColumns = `c.serial, c.user_id, c.usage, c.not_before, c.not_after, c.status, c.revoked_at, c.reason, c.der, c.issued_at, COALESCE(k.id, 0), c.crl_shard`

const certFrom = ` FROM certificates c LEFT JOIN key_archive k ON k.certificate_id = c.id`

func scanCertificate(s scanner) (*lanyard.Certificate, error) {
	var c lanyard.Certificate
	var notBefore, notAfter, revoked, issued int64
	if err := s.Scan(&c.Serial, &c.UserID, &c.Usage, &notBefore, &notAfter, &c.Status, &revoked, &c.Reason,
		&c.DER, &issued, &c.ArchivedKeyID, &c.CRLShard); err != nil {
		return nil, err
	}
	c.NotBefore, c.NotAfter = decodeTime(notBefore), decodeTime(notAfter)
	c.RevokedAt, c.IssuedAt = decodeTime(revoked), decodeTime(issued)
	return &c, nil
}

// InsertCertificate stores a newly issued certificate and, for a server-made
// key, its archive record, with one audit event.
func (s *PKIStore) InsertCertificate(ctx context.Context, actor lanyard.Actor, c *lanyard.Certificate, key *pki.ArchivedKey) error {
	return s.db.inTx(ctx, func(tx *Tx) error { return tx.insertCertificate(ctx, actor, c, key) })
}

// insertCertificate records a signed certificate, and its archived key if
// key is not nil, with its audit event.
func (tx *Tx) insertCertificate(ctx context.Context, actor lanyard.Actor, c *lanyard.Certificate, key *lanyard.ArchivedKey) error {
	return tx.insertCertificates(ctx, actor, []lanyard.SignedCertificate{{Certificate: c, Archive: key}})
}

// insertCertificates records signed certificates, in one statement, and
// the archived keys of those that have one, each with its audit event.
func (tx *Tx) insertCertificates(ctx context.Context, actor lanyard.Actor, certs []lanyard.SignedCertificate) error {
	if len(certs) == 0 {
		return nil
	}
	row := `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	q := `INSERT INTO certificates (serial, user_id, usage, not_before, not_after, status, revoked_at, reason, der, issued_at,
		crl_shard, ocsp_der, ocsp_status, ocsp_this_update) VALUES ` + row + strings.Repeat(`, `+row, len(certs)-1)
	args := make([]any, 0, 14*len(certs))
	archive := false
	for _, sc := range certs {
		c := sc.Certificate
		c.IssuedAt = tx.now
		resp := tx.presignOCSP(c)
		args = append(args, c.Serial, c.UserID, string(c.Usage), encodeTime(c.NotBefore), encodeTime(c.NotAfter), string(c.Status),
			encodeTime(c.RevokedAt), int(c.Reason), c.DER, encodeTime(tx.now), c.CRLShard, resp.der, resp.status, resp.thisUpdate)
		archive = archive || sc.Archive != nil
	}
	fail := func(err error) error {
		if isUniqueViolation(err) {
			return lanyard.Errorf(lanyard.ECONFLICT, "A certificate with serial %s exists already.", certs[0].Certificate.Serial)
		}
		return fmt.Errorf("insert certificate: %w", err)
	}
	// The rows' IDs are read back only for the archived keys that name
	// them; otherwise the insert waits for no answer.
	var ids map[string]int64
	if !archive {
		if err := tx.execLater(ctx, fail, q, args...); err != nil {
			return err
		}
	} else {
		type inserted struct {
			id     int64
			serial string
		}
		rows, err := queryAll(ctx, tx, q+` RETURNING id, serial`, args, func(s scanner) (inserted, error) {
			var r inserted
			return r, s.Scan(&r.id, &r.serial)
		})
		if err != nil {
			return fail(err)
		}
		// The order of RETURNING is not the order of VALUES on every
		// engine.
		ids = make(map[string]int64, len(rows))
		for _, r := range rows {
			ids[r.serial] = r.id
		}
	}
	for _, sc := range certs {
		if err := tx.certificateRecorded(ctx, actor, sc.Certificate, sc.Archive, ids[sc.Certificate.Serial]); err != nil {
			return err
		}
	}
	return nil
}

// certificateRecorded records the rest of a certificate's issue: its CRL
// shard, its archived key if key is not nil (for the certificate's row
// id), and its audit event.
func (tx *Tx) certificateRecorded(ctx context.Context, actor lanyard.Actor, c *lanyard.Certificate, key *lanyard.ArchivedKey, id int64) error {
	if err := tx.recordCRLShard(ctx, c.CRLShard); err != nil {
		return err
	}
	detail := fmt.Sprintf("user=%d usage=%s not_after=%s", c.UserID, c.Usage, c.NotAfter.Format(time.RFC3339))
	if key != nil {
		key.CreatedAt = tx.now
		err := tx.queryRow(ctx, `INSERT INTO key_archive (certificate_id, user_id, serial, algorithm, wrapped_key, ciphertext, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			id, key.UserID, key.Serial, key.Algorithm, key.WrappedKey, key.Ciphertext, encodeTime(tx.now)).Scan(&key.ID)
		if err != nil {
			return fmt.Errorf("archive key: %w", err)
		}
		c.ArchivedKeyID = key.ID
		detail += " key=archived"
	}
	return tx.insertAudit(ctx, actor, "certificate.issue", c.Serial, detail)
}

// RecoverArchivedKey returns the sealed archive record of the user's
// certificate with the given serial and audits the recovery in the same
// transaction. A serial of another user's certificate is not found.
func (s *PKIStore) RecoverArchivedKey(ctx context.Context, actor lanyard.Actor, userID int64, serial string) (*pki.ArchivedKey, error) {
	var k pki.ArchivedKey
	err := s.db.inTx(ctx, func(tx *Tx) error {
		var created int64
		err := tx.queryRow(ctx, `SELECT id, user_id, serial, algorithm, wrapped_key, ciphertext, created_at
			FROM key_archive WHERE serial = ? AND user_id = ?`, serial, userID).
			Scan(&k.ID, &k.UserID, &k.Serial, &k.Algorithm, &k.WrappedKey, &k.Ciphertext, &created)
		if errNoRows(err) {
			return lanyard.Errorf(lanyard.ENOTFOUND, "No archived key for certificate %s.", serial)
		} else if err != nil {
			return fmt.Errorf("find archived key: %w", err)
		}
		k.CreatedAt = decodeTime(created)
		return tx.insertAudit(ctx, actor, "certificate.key_recover", serial, fmt.Sprintf("user=%d", userID))
	})
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// FindCertificate returns the certificate with the given serial.
func (s *PKIStore) FindCertificate(ctx context.Context, serial string) (*lanyard.Certificate, error) {
	return findCertificate(ctx, s.db, serial)
}

func findCertificate(ctx context.Context, c conn, serial string) (*lanyard.Certificate, error) {
	cert, err := scanCertificate(c.queryRow(ctx, `SELECT `+certColumns+certFrom+` WHERE c.serial = ?`, serial))
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "No certificate with serial %s.", serial)
	} else if err != nil {
		return nil, fmt.Errorf("find certificate: %w", err)
	}
	return cert, nil
}

// FindCertificates lists a user's certificates, newest first.
func (s *PKIStore) FindCertificates(ctx context.Context, userID int64, archived bool) ([]*lanyard.Certificate, error) {
	q := `SELECT ` + certColumns + certFrom + ` WHERE c.user_id = ?`
	if archived {
		// From the user's archived keys: a user's revoked certificates
		// pile up with every replacement, and most have no archived key.
		q = `SELECT ` + certColumns + ` FROM key_archive k JOIN certificates c ON c.id = k.certificate_id WHERE k.user_id = ?`
	}
	certs, err := queryAll(ctx, s.db, q+` ORDER BY c.issued_at DESC, c.id DESC`, []any{userID}, scanCertificate)
	if err != nil {
		return nil, fmt.Errorf("find certificates: %w", err)
	}
	return certs, nil
}

// statusAttempts bounds the retries of a status change that raced another.
const statusAttempts = 3

// errStatusRaced reports that the status changed between read and write.
var errStatusRaced = errors.New("certificate status changed concurrently")

// UpdateStatus applies a status change to a certificate in one transaction
// with its audit event; a change that changes nothing is not audited. The
// update is conditional on the status read, so two changes racing on
// PostgreSQL cannot overwrite each other (a hold never undoes a revocation):
// the later one sees the new status and is applied again to it.
func (s *PKIStore) UpdateStatus(ctx context.Context, actor lanyard.Actor, serial, action string,
	change func(c *lanyard.Certificate, now time.Time) (bool, string, error)) (*lanyard.Certificate, error) {
	for attempt := 1; ; attempt++ {
		cert, err := s.updateStatus(ctx, actor, serial, action, change)
		if errors.Is(err, errStatusRaced) && attempt < statusAttempts {
			continue
		}
		return cert, err
	}
}

func (s *PKIStore) updateStatus(ctx context.Context, actor lanyard.Actor, serial, action string,
	change func(c *lanyard.Certificate, now time.Time) (bool, string, error)) (*lanyard.Certificate, error) {
	var cert *lanyard.Certificate
	err := s.db.inTx(ctx, func(tx *Tx) error {
		var err error
		cert, _, err = tx.changeStatus(ctx, actor, serial, action, change)
		return err
	})
	if err != nil {
		return nil, err
	}
	return cert, nil
}

// statusChange is a change of a certificate's status, as the domain's
// Revoke, Hold and Release make it, with the detail of its audit event.
type statusChange func(c *lanyard.Certificate, now time.Time) (changed bool, detail string, err error)

// changeStatus applies change to the certificate with the given serial in
// tx: the new status, its audit event and the CRL owed. A change that
// changes nothing writes nothing. The update is conditional on the status
// read, so two changes racing on PostgreSQL cannot overwrite each other (a
// hold never undoes a revocation).
func (tx *Tx) changeStatus(ctx context.Context, actor lanyard.Actor, serial, action string, change statusChange) (*lanyard.Certificate, bool, error) {
	cert, err := scanCertificate(tx.queryRow(ctx, `SELECT `+certColumns+certFrom+` WHERE c.serial = ?`+tx.forUpdate("c"), serial))
	if errNoRows(err) {
		return nil, false, lanyard.Errorf(lanyard.ENOTFOUND, "No certificate with serial %s.", serial)
	} else if err != nil {
		return nil, false, fmt.Errorf("find certificate: %w", err)
	}
	old := cert.Status
	changed, detail, err := change(cert, tx.now)
	if err != nil || !changed {
		return cert, false, err
	}
	resp := tx.presignOCSP(cert)
	res, err := tx.exec(ctx, `UPDATE certificates SET status = ?, revoked_at = ?, reason = ?, ocsp_der = ?, ocsp_status = ?, ocsp_this_update = ?
		WHERE serial = ? AND status = ?`,
		string(cert.Status), encodeTime(cert.RevokedAt), int(cert.Reason), resp.der, resp.status, resp.thisUpdate, serial, string(old))
	if err != nil {
		return nil, false, fmt.Errorf("update certificate status: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, false, fmt.Errorf("update certificate status: %w", err)
	} else if n != 1 {
		return nil, false, errStatusRaced
	}
	tx.markCRLOwed(cert.CRLShard)
	tx.statusChanged = append(tx.statusChanged, serial)
	return cert, true, tx.insertAudit(ctx, actor, action, serial, detail)
}
