package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/lanyard-id/lanyard"
)

var _ lanyard.MobileIDStore = (*DB)(nil)

const mobileIDColumns = `id, public_id, user_id, state, process, profile_name, server_name, profile_user, device_name, transport_key, recovery_pending, created_at, activated_at, updated_at`

func scanMobileID(s scanner) (*lanyard.MobileID, error) {
	var m lanyard.MobileID
	dest, decode := mobileIDFields(&m)
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	decode()
	return &m, nil
}

// mobileIDFields returns what a row of mobileIDColumns scans into for m,
// and what then decodes it.
func mobileIDFields(m *lanyard.MobileID) ([]any, func()) {
	var pending int
	var created, activated, updated int64
	return []any{&m.ID, &m.PublicID, &m.UserID, &m.State, &m.Process, &m.ProfileName, &m.ServerName, &m.ProfileUser,
			&m.DeviceName, &m.TransportKey, &pending, &created, &activated, &updated}, func() {
			m.RecoveryPending = pending != 0
			m.CreatedAt, m.ActivatedAt, m.UpdatedAt = decodeTime(created), decodeTime(activated), decodeTime(updated)
		}
}

// insertMobileIDQuery inserts a mobile ID.
const insertMobileIDQuery = `INSERT INTO mobile_ids (public_id, user_id, state, process, profile_name, server_name, profile_user, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertMobileIDLater inserts m without waiting for its ID (see
// Tx.execLater); whoever needs it reads it by m's public ID.
func (tx *Tx) insertMobileIDLater(ctx context.Context, m *lanyard.MobileID) error {
	m.CreatedAt, m.UpdatedAt = tx.now, tx.now
	err := tx.execLater(ctx, nil, insertMobileIDQuery,
		m.PublicID, m.UserID, string(m.State), m.Process, m.ProfileName, m.ServerName, m.ProfileUser, encodeTime(tx.now), encodeTime(tx.now))
	if err != nil {
		return fmt.Errorf("insert mobile ID: %w", err)
	}
	return nil
}

func (tx *Tx) insertMobileID(ctx context.Context, m *lanyard.MobileID) error {
	m.CreatedAt, m.UpdatedAt = tx.now, tx.now
	err := tx.queryRow(ctx, insertMobileIDQuery+` RETURNING id`,
		m.PublicID, m.UserID, string(m.State), m.Process, m.ProfileName, m.ServerName, m.ProfileUser, encodeTime(tx.now), encodeTime(tx.now)).Scan(&m.ID)
	if err != nil {
		return fmt.Errorf("insert mobile ID: %w", err)
	}
	return nil
}

// findMobileID reads a mobile ID with its certificates.
func findMobileID(ctx context.Context, c conn, where string, args ...any) (*lanyard.MobileID, error) {
	m, err := scanMobileID(c.queryRow(ctx, `SELECT `+mobileIDColumns+` FROM mobile_ids WHERE `+where, args...))
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "There is no such mobile ID.")
	} else if err != nil {
		return nil, fmt.Errorf("find mobile ID: %w", err)
	}
	// A mobile ID gets its certificates when the app enrols it: one still
	// waiting for the app has none to read.
	if m.State == lanyard.MobileIDRegistered {
		return m, nil
	}
	if err := loadCertificates(ctx, c, m); err != nil {
		return nil, err
	}
	return m, nil
}

func loadCertificates(ctx context.Context, c conn, m *lanyard.MobileID) error {
	certs, err := queryAll(ctx, c, `SELECT serial, usage, recovered FROM mobile_id_certificates WHERE mobile_id = ? ORDER BY recovered, usage, serial`,
		[]any{m.ID}, func(s scanner) (lanyard.MobileIDCertificate, error) {
			var mc lanyard.MobileIDCertificate
			var rec int
			err := s.Scan(&mc.Serial, &mc.Usage, &rec)
			mc.Recovered = rec != 0
			return mc, err
		})
	if err != nil {
		return fmt.Errorf("load mobile ID certificates: %w", err)
	}
	m.Certificates = certs
	return nil
}

// FindMobileID returns a mobile ID by its row ID.
func (db *DB) FindMobileID(ctx context.Context, id int64) (*lanyard.MobileID, error) {
	return findMobileID(ctx, db, `id = ?`, id)
}

// FindMobileIDByPublicID returns a mobile ID by the ID the app knows.
func (db *DB) FindMobileIDByPublicID(ctx context.Context, publicID string) (*lanyard.MobileID, error) {
	if !lanyard.ValidText(publicID) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "There is no such mobile ID.")
	}
	return findMobileID(ctx, db, `public_id = ?`, publicID)
}

// FindMobileIDBySerial returns the mobile ID a certificate was issued to
// (not one it was only recovered onto).
func (db *DB) FindMobileIDBySerial(ctx context.Context, serial string) (*lanyard.MobileID, error) {
	if !lanyard.ValidText(serial) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "There is no such mobile ID.")
	}
	return findMobileID(ctx, db, `id = (SELECT mobile_id FROM mobile_id_certificates WHERE serial = ? AND recovered = 0 LIMIT 1)`, serial)
}

// FindMobileIDs lists a user's live mobile IDs and the newest locked ones
// up to lockedLimit, newest first. Locked mobile IDs pile up over the years
// and matter only as history, so callers ask for as many as they show; both
// parts are read by the index on user and state, so a long history costs
// nothing here.
func (db *DB) FindMobileIDs(ctx context.Context, userID int64, lockedLimit int) ([]*lanyard.MobileID, error) {
	q := `SELECT ` + mobileIDColumns + ` FROM mobile_ids WHERE user_id = ? AND state IN (?, ?, ?)`
	args := []any{userID, string(lanyard.MobileIDRegistered), string(lanyard.MobileIDActive), string(lanyard.MobileIDInactive)}
	if lockedLimit > 0 {
		// The limit is written into the text: SQLite plans a statement
		// again at every run when its LIMIT is a parameter.
		q += ` UNION ALL SELECT * FROM (SELECT ` + mobileIDColumns + ` FROM mobile_ids WHERE user_id = ? AND state = ?
			ORDER BY id DESC LIMIT ` + strconv.Itoa(lockedLimit) + `) AS locked`
		args = append(args, userID, string(lanyard.MobileIDLocked))
	}
	ms, err := queryAll(ctx, db, q+` ORDER BY id DESC`, args, scanMobileID)
	if err != nil {
		return nil, fmt.Errorf("find mobile IDs: %w", err)
	}
	for _, m := range ms {
		if err := loadCertificates(ctx, db, m); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

// insertMobileIDCertificates links certificates to a mobile ID in one
// statement; a link that exists already is left as it is.
func (tx *Tx) insertMobileIDCertificates(ctx context.Context, mobileID int64, certs []lanyard.MobileIDCertificate) error {
	if len(certs) == 0 {
		return nil
	}
	q := `INSERT INTO mobile_id_certificates (mobile_id, serial, usage, recovered) VALUES (?, ?, ?, ?)` +
		strings.Repeat(`, (?, ?, ?, ?)`, len(certs)-1) + ` ON CONFLICT DO NOTHING`
	args := make([]any, 0, 4*len(certs))
	for _, c := range certs {
		args = append(args, mobileID, c.Serial, string(c.Usage), boolInt(c.Recovered))
	}
	if err := tx.execLater(ctx, nil, q, args...); err != nil {
		return fmt.Errorf("link certificates: %w", err)
	}
	return nil
}

// AddRecoveredCertificates links recovered encryption certificates to m and
// ends its pending recovery.
func (db *DB) AddRecoveredCertificates(ctx context.Context, actor lanyard.Actor, m *lanyard.MobileID, serials []string) error {
	return db.inTx(ctx, func(tx *Tx) error {
		// Ending the pending state first claims the work: on a cluster the
		// instance that loses the race changes nothing.
		res, err := tx.exec(ctx, `UPDATE mobile_ids SET recovery_pending = 0, updated_at = ? WHERE id = ? AND recovery_pending = 1`, encodeTime(tx.now), m.ID)
		if err != nil {
			return fmt.Errorf("end recovery: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		var recovered []lanyard.MobileIDCertificate
		for _, s := range serials {
			recovered = append(recovered, lanyard.MobileIDCertificate{Serial: s, Usage: lanyard.UsageEncryption, Recovered: true})
		}
		if err := tx.insertMobileIDCertificates(ctx, m.ID, recovered); err != nil {
			return err
		}
		m.Certificates = append(m.Certificates, recovered...)
		m.RecoveryPending = false
		return tx.insertAudit(ctx, actor, "mobileid.recover", m.PublicID, fmt.Sprintf("%d archived encryption certificates recovered: %v", len(serials), serials))
	})
}

// PendingRecoveries lists active mobile IDs waiting for recovered keys,
// from the one after afterID on.
func (db *DB) PendingRecoveries(ctx context.Context, afterID int64, limit int) ([]*lanyard.MobileID, error) {
	// By the partial index of the mobile IDs with recovery pending: the job
	// asks every few seconds, and almost always finds none. The state is
	// compared inside a CASE so that SQLite does not prefer the index on
	// state, which would read every active mobile ID.
	ms, err := queryAll(ctx, db, `SELECT `+mobileIDColumns+` FROM mobile_ids WHERE recovery_pending = 1 AND id > ?
		AND CASE WHEN state = ? THEN 1 ELSE 0 END = 1 ORDER BY id LIMIT `+strconv.Itoa(limit),
		[]any{afterID, string(lanyard.MobileIDActive)}, scanMobileID)
	if err != nil {
		return nil, fmt.Errorf("find pending recoveries: %w", err)
	}
	for _, m := range ms {
		if err := loadCertificates(ctx, db, m); err != nil {
			return nil, err
		}
	}
	return ms, nil
}
