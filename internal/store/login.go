package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
)

var _ lanyard.LoginRequestStore = (*DB)(nil)

const loginRequestColumns = `id, public_id, challenge, match, choices, user_agent, addr, next, state, detail,
	COALESCE(user_id, 0), COALESCE(mobile_id, 0), created_at, expires_at`

func scanLoginRequest(s scanner) (*lanyard.LoginRequest, error) {
	var r lanyard.LoginRequest
	var choices string
	var created, expires int64
	if err := s.Scan(&r.ID, &r.PublicID, &r.Challenge, &r.Match, &choices, &r.UserAgent, &r.Addr, &r.Next, &r.State, &r.Detail,
		&r.UserID, &r.MobileID, &created, &expires); err != nil {
		return nil, err
	}
	r.Choices = strings.Split(choices, ",")
	r.CreatedAt, r.ExpiresAt = decodeTime(created), decodeTime(expires)
	return &r, nil
}

// CreateLoginRequest stores a new pending login request, open for
// LoginRequestTTL from now; requests that ended long ago are swept on the
// way.
func (db *DB) CreateLoginRequest(ctx context.Context, actor lanyard.Actor, r *lanyard.LoginRequest, tokenHash, browserHash []byte) error {
	return db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, sweepLoginRequests, encodeTime(tx.now.Add(-time.Hour))); err != nil {
			return fmt.Errorf("sweep login requests: %w", err)
		}
		r.State, r.CreatedAt, r.ExpiresAt = lanyard.LoginPending, tx.now, tx.now.Add(lanyard.LoginRequestTTL)
		err := tx.queryRow(ctx, `INSERT INTO login_requests (public_id, token_hash, browser_hash, challenge, match, choices,
			user_agent, addr, next, state, created_at, expires_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.PublicID, tokenHash, browserHash, r.Challenge, r.Match, strings.Join(r.Choices, ","),
			r.UserAgent, r.Addr, r.Next, r.State, encodeTime(tx.now), encodeTime(r.ExpiresAt), encodeTime(tx.now)).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("store login request: %w", err)
		}
		return tx.insertAudit(ctx, actor, "session.login_request", r.PublicID, "browser "+r.UserAgent)
	})
}

// FindLoginRequestByToken finds a login request by its link token's hash.
func (db *DB) FindLoginRequestByToken(ctx context.Context, tokenHash []byte) (*lanyard.LoginRequest, error) {
	r, err := scanLoginRequest(db.queryRow(ctx, `SELECT `+loginRequestColumns+` FROM login_requests WHERE token_hash = ?`, tokenHash))
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "There is no such login request. Start again on the login page.")
	} else if err != nil {
		return nil, fmt.Errorf("find login request: %w", err)
	}
	return r, nil
}

// FindLoginRequest finds a login request by its public ID for the browser
// that asked for it.
func (db *DB) FindLoginRequest(ctx context.Context, publicID string, browserHash []byte) (*lanyard.LoginRequest, error) {
	if !lanyard.ValidText(publicID) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "There is no such login request.")
	}
	r, err := scanLoginRequest(db.queryRow(ctx, `SELECT `+loginRequestColumns+` FROM login_requests WHERE public_id = ? AND browser_hash = ?`,
		publicID, browserHash))
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "There is no such login request in this browser. Start again on the login page.")
	} else if err != nil {
		return nil, fmt.Errorf("find login request: %w", err)
	}
	return r, nil
}

// AnswerLoginRequest records the phone's answer to a pending request.
func (db *DB) AnswerLoginRequest(ctx context.Context, actor lanyard.Actor, id int64, state lanyard.LoginState, userID, mobileID int64, detail string) error {
	return db.inTx(ctx, func(tx *Tx) error {
		var publicID string
		err := tx.queryRow(ctx, `UPDATE login_requests SET state = ?, detail = ?, user_id = ?, mobile_id = ?, updated_at = ?
			WHERE id = ? AND state = ? RETURNING public_id`,
			state, detail, nullID(userID), nullID(mobileID), encodeTime(tx.now), id, lanyard.LoginPending).Scan(&publicID)
		if errNoRows(err) {
			return lanyard.Errorf(lanyard.ECONFLICT, "The login request was answered already.")
		} else if err != nil {
			return fmt.Errorf("answer login request: %w", err)
		}
		return tx.insertAudit(ctx, actor, "session.login_request_"+string(state), publicID, detail)
	})
}

// CompleteLoginRequest turns an approved request into a session.
func (db *DB) CompleteLoginRequest(ctx context.Context, actor lanyard.Actor, id int64, ttl time.Duration) (string, *lanyard.User, error) {
	var token string
	var u *lanyard.User
	err := db.inTx(ctx, func(tx *Tx) error {
		var publicID, addr string
		var userID int64
		err := tx.queryRow(ctx, `UPDATE login_requests SET state = ?, updated_at = ? WHERE id = ? AND state = ?
			RETURNING public_id, user_id, addr`, lanyard.LoginDone, encodeTime(tx.now), id, lanyard.LoginApproved).Scan(&publicID, &userID, &addr)
		if errNoRows(err) {
			return lanyard.Errorf(lanyard.ECONFLICT, "The login request is not approved, or was used already.")
		} else if err != nil {
			return fmt.Errorf("complete login request: %w", err)
		}
		if u, err = scanUser(tx.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, userID)); err != nil {
			return fmt.Errorf("find the user of the login request: %w", err)
		}
		if u.State != lanyard.UserActive {
			return lanyard.Errorf(lanyard.EUSERSTATE, "The user %s is %s.", u.Username, u.State)
		}
		if token, err = tx.insertSession(ctx, userID, addr, lanyard.AuthMobileID, ttl); err != nil {
			return err
		}
		return tx.insertAudit(ctx, actor, "session.login", u.Username, "with the mobile ID, request "+publicID)
	})
	if err != nil {
		return "", nil, err
	}
	return token, u, nil
}
