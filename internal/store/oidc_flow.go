package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/oidc"
)

// codeReplayWindow is how long a request with a code is kept after the
// code expired, so that a replay is still recognised and revokes what the
// code issued: as long as the access tokens it issued live.
const codeReplayWindow = 2 * time.Hour

// CreateAuthRequest stores r and sweeps requests past their time.
func (s *OIDCStore) CreateAuthRequest(ctx context.Context, r *oidc.AuthRequest, ttl time.Duration) error {
	req, err := json.Marshal(r.Request)
	if err != nil {
		return fmt.Errorf("encode authorization request: %w", err)
	}
	err = s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, sweepAuthRequests, encodeTime(tx.now)); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, sweepOIDCTokens, encodeTime(tx.now.Add(-time.Hour))); err != nil {
			return err
		}
		r.CreatedAt, r.ExpiresAt = tx.now, tx.now.Add(ttl)
		_, err := tx.exec(ctx, `INSERT INTO oidc_auth_requests (id, client_id, request, authorize_uri, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			r.ID, r.ClientID, string(req), r.AuthorizeURI, encodeTime(r.CreatedAt), encodeTime(r.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("create authorization request: %w", err)
	}
	return nil
}

const authRequestColumns = `id, client_id, request, authorize_uri, user_id, subject, method, auth_time, done, created_at, expires_at`

func scanAuthRequest(s scanner) (*oidc.AuthRequest, error) {
	var r oidc.AuthRequest
	var req string
	var authTime, created, expires int64
	var done int
	if err := s.Scan(&r.ID, &r.ClientID, &req, &r.AuthorizeURI, &r.UserID, &r.Subject, &r.Method, &authTime, &done, &created, &expires); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(req), &r.Request); err != nil {
		return nil, fmt.Errorf("decode authorization request: %w", err)
	}
	r.Done = done != 0
	r.AuthTime, r.CreatedAt, r.ExpiresAt = decodeTime(authTime), decodeTime(created), decodeTime(expires)
	return &r, nil
}

// FindAuthRequest returns a live request.
func (s *OIDCStore) FindAuthRequest(ctx context.Context, id string) (*oidc.AuthRequest, error) {
	if !validKey(id) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "This login request is unknown or used. Please start again from the application.")
	}
	r, err := scanAuthRequest(s.db.queryRow(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests WHERE id = ? AND code_hash IS NULL`, id))
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "This login request is unknown or used. Please start again from the application.")
	} else if err != nil {
		return nil, fmt.Errorf("find authorization request: %w", err)
	}
	if !s.db.Now().Before(r.ExpiresAt) {
		return nil, lanyard.Errorf(lanyard.EEXPIRED, "This login request has expired. Please start again from the application.")
	}
	return r, nil
}

// CompleteAuthRequest records the user and marks the request done.
func (s *OIDCStore) CompleteAuthRequest(ctx context.Context, id string, userID int64, subject, method string, authTime time.Time) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE oidc_auth_requests SET user_id = ?, subject = ?, method = ?, auth_time = ?, done = 1 WHERE id = ? AND code_hash IS NULL AND expires_at > ?`,
			userID, subject, method, encodeTime(authTime), id, encodeTime(tx.now))
		if err != nil {
			return fmt.Errorf("complete authorization request: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lanyard.Errorf(lanyard.ENOTFOUND, "This login request is unknown or used. Please start again from the application.")
		}
		return nil
	})
}

// DeleteAuthRequest deletes a request without a code.
func (s *OIDCStore) DeleteAuthRequest(ctx context.Context, id string) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `DELETE FROM oidc_auth_requests WHERE id = ? AND code_hash IS NULL`, id)
		return err
	})
}

// SaveCode attaches a code to a done request, once.
func (s *OIDCStore) SaveCode(ctx context.Context, id string, codeHash []byte, ttl time.Duration) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE oidc_auth_requests SET code_hash = ?, code_expires_at = ?, expires_at = ? WHERE id = ? AND done = 1 AND code_hash IS NULL`,
			codeHash, encodeTime(tx.now.Add(ttl)), encodeTime(tx.now.Add(ttl+codeReplayWindow)), id)
		if err != nil {
			return fmt.Errorf("save code: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lanyard.Errorf(lanyard.ENOTFOUND, "This login request is unknown or used. Please start again from the application.")
		}
		return nil
	})
}

// RedeemCode returns the request of a code that was not used yet. A used
// one is a replay: every token it issued is revoked. The code is marked
// used only by CreateToken, once the client and its PKCE verifier have
// passed, so a failed attempt does not burn it.
func (s *OIDCStore) RedeemCode(ctx context.Context, codeHash []byte) (*oidc.AuthRequest, error) {
	var r *oidc.AuthRequest
	var refusal error
	err := s.db.inTx(ctx, func(tx *Tx) error {
		var used int
		var codeExpires int64
		var err error
		row := tx.queryRow(ctx, `SELECT `+authRequestColumns+`, code_used, code_expires_at FROM oidc_auth_requests WHERE code_hash = ?`, codeHash)
		r, err = scanAuthRequest(extraScanner{s: row, extra: []any{&used, &codeExpires}})
		if errNoRows(err) {
			refusal = lanyard.Errorf(lanyard.ENOTFOUND, "The code is unknown.")
			return nil
		} else if err != nil {
			return err
		}
		switch {
		case used != 0:
			refusal = errReplay()
			return tx.refuseReplay(ctx, r)
		case !tx.now.Before(decodeTime(codeExpires)):
			refusal = lanyard.Errorf(lanyard.EEXPIRED, "The code has expired.")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redeem code: %w", err)
	}
	if refusal != nil {
		return nil, refusal
	}
	return r, nil
}

// refuseReplay revokes what a replayed code issued, since a replayed code
// may be a stolen one (RFC 6749 §4.1.2), and audits it.
func (tx *Tx) refuseReplay(ctx context.Context, r *oidc.AuthRequest) error {
	if err := tx.revokeGrant(ctx, r.ID); err != nil {
		return err
	}
	return tx.insertAudit(ctx, lanyard.Actor{Username: r.ClientID, Addr: "oidc"}, "oidc.code.replay", r.ClientID, "a used code was presented again; the tokens it issued are revoked")
}

// revokeGrant revokes the access and refresh tokens of one grant.
func (tx *Tx) revokeGrant(ctx context.Context, authRequestID string) error {
	if _, err := tx.exec(ctx, `UPDATE oidc_refresh_tokens SET revoked = 1 WHERE auth_request_id = ?`, authRequestID); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `UPDATE oidc_tokens SET revoked = 1 WHERE auth_request_id = ?`, authRequestID)
	return err
}

// RevokeGrant revokes every token of a grant.
func (s *OIDCStore) RevokeGrant(ctx context.Context, authRequestID string) error {
	return s.db.inTx(ctx, func(tx *Tx) error { return tx.revokeGrant(ctx, authRequestID) })
}

func errReplay() error { return lanyard.Errorf(lanyard.ECONFLICT, "The code was used before.") }

// CreateToken stores an access token and uses up the code it is issued
// for. Of two exchanges of one code, at one instance or two, the update
// lets one win; the other is a replay.
func (s *OIDCStore) CreateToken(ctx context.Context, t *oidc.Token, ttl time.Duration) error {
	return s.CreateTokens(ctx, nil, t, ttl, nil, 0)
}

// CreateTokens issues what one token request gets, in one transaction:
// it uses up the refresh token usedRefresh (when set) or the code of t's
// request, stores the access token t and, when rt is set, the refresh
// token rt. A replayed code or refresh token revokes its grant, which
// commits, and is refused; nothing is then issued.
func (s *OIDCStore) CreateTokens(ctx context.Context, usedRefresh []byte, t *oidc.Token, ttl time.Duration, rt *oidc.RefreshToken, rtTTL time.Duration) error {
	var refusal error
	err := s.db.inTx(ctx, func(tx *Tx) error {
		var err error
		if usedRefresh != nil {
			if refusal, err = tx.useRefreshToken(ctx, usedRefresh); err != nil || refusal != nil {
				return err
			}
		}
		if refusal, err = tx.createToken(ctx, t, ttl); err != nil || refusal != nil {
			return err
		}
		if rt != nil {
			return tx.createRefreshToken(ctx, rt, rtTTL)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create tokens: %w", err)
	}
	return refusal
}

// createToken stores t and uses up the code of its request, unless it is
// made for a refresh token; a code used before is refused, and its grant
// revoked.
func (tx *Tx) createToken(ctx context.Context, t *oidc.Token, ttl time.Duration) (refusal, err error) {
	n := int64(1)
	if !t.ByRefresh {
		res, err := tx.exec(ctx, `UPDATE oidc_auth_requests SET code_used = 1 WHERE id = ? AND code_used = 0 AND code_hash IS NOT NULL`, t.AuthRequestID)
		if err != nil {
			return nil, err
		}
		n, _ = res.RowsAffected()
	}
	if n == 0 {
		r, err := scanAuthRequest(tx.queryRow(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests WHERE id = ?`, t.AuthRequestID))
		if errNoRows(err) {
			return lanyard.Errorf(lanyard.ENOTFOUND, "The code is unknown."), nil
		} else if err != nil {
			return nil, err
		}
		return errReplay(), tx.refuseReplay(ctx, r)
	}
	t.ExpiresAt = tx.now.Add(ttl)
	_, err = tx.exec(ctx, `INSERT INTO oidc_tokens (id, auth_request_id, client_id, user_id, subject, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.AuthRequestID, t.ClientID, t.UserID, t.Subject, strings.Join(t.Scopes, " "), encodeTime(tx.now), encodeTime(t.ExpiresAt))
	return nil, err
}

// FindToken returns an access token by its ID.
func (s *OIDCStore) FindToken(ctx context.Context, id string) (*oidc.Token, error) {
	if !validKey(id) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "The access token is unknown.")
	}
	var t oidc.Token
	var scopes string
	var revoked int
	var expires int64
	err := s.db.queryRow(ctx, `SELECT id, auth_request_id, client_id, user_id, subject, scopes, revoked, expires_at FROM oidc_tokens WHERE id = ?`, id).
		Scan(&t.ID, &t.AuthRequestID, &t.ClientID, &t.UserID, &t.Subject, &scopes, &revoked, &expires)
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "The access token is unknown.")
	} else if err != nil {
		return nil, fmt.Errorf("find access token: %w", err)
	}
	t.Scopes, t.Revoked, t.ExpiresAt = strings.Fields(scopes), revoked != 0, decodeTime(expires)
	return &t, nil
}

// RevokeToken revokes one access token.
func (s *OIDCStore) RevokeToken(ctx context.Context, id string) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `UPDATE oidc_tokens SET revoked = 1 WHERE id = ?`, id)
		return err
	})
}

func (tx *Tx) revokeUserTokens(ctx context.Context, userID int64, clientID string) error {
	if _, err := tx.exec(ctx, `UPDATE oidc_refresh_tokens SET revoked = 1 WHERE user_id = ? AND client_id = ?`, userID, clientID); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `UPDATE oidc_tokens SET revoked = 1 WHERE user_id = ? AND client_id = ?`, userID, clientID)
	return err
}
