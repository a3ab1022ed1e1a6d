package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/oidc"
)

// CreateRefreshToken stores the hash of a refresh token and sweeps the
// expired ones.
func (s *OIDCStore) CreateRefreshToken(ctx context.Context, rt *oidc.RefreshToken, ttl time.Duration) error {
	if err := s.db.inTx(ctx, func(tx *Tx) error { return tx.createRefreshToken(ctx, rt, ttl) }); err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	return nil
}

func (tx *Tx) createRefreshToken(ctx context.Context, rt *oidc.RefreshToken, ttl time.Duration) error {
	if _, err := tx.exec(ctx, sweepRefreshTokens, encodeTime(tx.now)); err != nil {
		return err
	}
	rt.ExpiresAt = tx.now.Add(ttl)
	_, err := tx.exec(ctx, `INSERT INTO oidc_refresh_tokens (token_hash, auth_request_id, client_id, user_id, subject, method, auth_time, scopes, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rt.Hash, rt.AuthRequestID, rt.ClientID, rt.UserID, rt.Subject, rt.Method, encodeTime(rt.AuthTime), strings.Join(rt.Scopes, " "),
		encodeTime(tx.now), encodeTime(rt.ExpiresAt))
	return err
}

// FindRefreshToken returns a live refresh token; a used one revokes its
// grant.
func (s *OIDCStore) FindRefreshToken(ctx context.Context, hash []byte) (*oidc.RefreshToken, error) {
	var rt *oidc.RefreshToken
	var refusal error
	err := s.db.inTx(ctx, func(tx *Tx) error {
		var used, revoked int
		var err error
		rt, used, revoked, err = findRefreshToken(ctx, tx, hash)
		switch {
		case errNoRows(err):
			refusal = lanyard.Errorf(lanyard.ENOTFOUND, "The refresh token is unknown.")
			return nil
		case err != nil:
			return err
		case used != 0:
			refusal = lanyard.Errorf(lanyard.ECONFLICT, "The refresh token was used before.")
			return tx.refuseRefreshReplay(ctx, rt)
		case revoked != 0 || !tx.now.Before(rt.ExpiresAt):
			refusal = errRefreshEnded()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find refresh token: %w", err)
	}
	if refusal != nil {
		return nil, refusal
	}
	return rt, nil
}

func findRefreshToken(ctx context.Context, tx *Tx, hash []byte) (*oidc.RefreshToken, int, int, error) {
	var rt oidc.RefreshToken
	var scopes string
	var authTime, expires int64
	var used, revoked int
	err := tx.queryRow(ctx, `SELECT token_hash, auth_request_id, client_id, user_id, subject, method, auth_time, scopes, used, revoked, expires_at FROM oidc_refresh_tokens WHERE token_hash = ?`, hash).
		Scan(&rt.Hash, &rt.AuthRequestID, &rt.ClientID, &rt.UserID, &rt.Subject, &rt.Method, &authTime, &scopes, &used, &revoked, &expires)
	rt.Scopes, rt.AuthTime, rt.ExpiresAt = strings.Fields(scopes), decodeTime(authTime), decodeTime(expires)
	return &rt, used, revoked, err
}

// refuseRefreshReplay revokes the grant of a refresh token used twice —
// one of the two users holds a stolen token (RFC 9700 §4.14.2) — and
// audits it.
func (tx *Tx) refuseRefreshReplay(ctx context.Context, rt *oidc.RefreshToken) error {
	if err := tx.revokeGrant(ctx, rt.AuthRequestID); err != nil {
		return err
	}
	return tx.insertAudit(ctx, lanyard.Actor{Username: rt.ClientID, Addr: "oidc"}, "oidc.refresh.replay", rt.ClientID, "a used refresh token was presented again; its grant is revoked")
}

// UseRefreshToken marks a refresh token used. Of two uses at once one wins;
// the other is a replay.
func (s *OIDCStore) UseRefreshToken(ctx context.Context, hash []byte) error {
	var refusal error
	err := s.db.inTx(ctx, func(tx *Tx) error {
		var err error
		refusal, err = tx.useRefreshToken(ctx, hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("use refresh token: %w", err)
	}
	return refusal
}

func (tx *Tx) useRefreshToken(ctx context.Context, hash []byte) (refusal, err error) {
	res, err := tx.exec(ctx, `UPDATE oidc_refresh_tokens SET used = 1 WHERE token_hash = ? AND used = 0 AND revoked = 0 AND expires_at > ?`,
		hash, encodeTime(tx.now))
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil, nil
	}
	rt, used, _, err := findRefreshToken(ctx, tx, hash)
	switch {
	case errNoRows(err):
		return lanyard.Errorf(lanyard.ENOTFOUND, "The refresh token is unknown."), nil
	case err != nil:
		return nil, err
	case used == 0:
		// Revoked or expired since it was found: no replay.
		return errRefreshEnded(), nil
	}
	return lanyard.Errorf(lanyard.ECONFLICT, "The refresh token was used before."), tx.refuseRefreshReplay(ctx, rt)
}

func errRefreshEnded() error {
	return lanyard.Errorf(lanyard.EEXPIRED, "The refresh token has expired or was revoked.")
}
