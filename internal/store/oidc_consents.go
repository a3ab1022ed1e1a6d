package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/oidc"
)

// FindConsent returns the user's consent for an application.
func (s *OIDCStore) FindConsent(ctx context.Context, userID int64, clientID string) (*oidc.Consent, error) {
	if !validKey(clientID) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "No consent was given to this application.")
	}
	cs, err := s.findConsents(ctx, `AND c.client_id = ?`, userID, clientID)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "No consent was given to this application.")
	}
	return cs[0], nil
}

// FindConsents returns the user's consents by application name.
func (s *OIDCStore) FindConsents(ctx context.Context, userID int64) ([]*oidc.Consent, error) {
	return s.findConsents(ctx, ``, userID)
}

func (s *OIDCStore) findConsents(ctx context.Context, where string, args ...any) ([]*oidc.Consent, error) {
	cs, err := queryAll(ctx, s.db, `SELECT k.user_id, c.client_id, c.name, k.scopes, k.created_at FROM oidc_consents k JOIN oidc_clients c ON c.id = k.client
		WHERE k.user_id = ? `+where+` ORDER BY c.name, c.id`, args, func(sc scanner) (*oidc.Consent, error) {
		var k oidc.Consent
		var scopes string
		var created int64
		err := sc.Scan(&k.UserID, &k.ClientID, &k.ClientName, &scopes, &created)
		k.Scopes, k.CreatedAt = strings.Fields(scopes), decodeTime(created)
		return &k, err
	})
	if err != nil {
		return nil, fmt.Errorf("find consents: %w", err)
	}
	return cs, nil
}

// SaveConsent records or widens a user's consent.
func (s *OIDCStore) SaveConsent(ctx context.Context, actor lanyard.Actor, userID int64, clientID string, scopes []string) error {
	if !validKey(clientID) {
		return errNoClient()
	}
	err := s.db.inTx(ctx, func(tx *Tx) error {
		var client int64
		if err := tx.queryRow(ctx, `SELECT id FROM oidc_clients WHERE client_id = ?`, clientID).Scan(&client); errNoRows(err) {
			return lanyard.Errorf(lanyard.ENOTFOUND, "There is no application with this client ID.")
		} else if err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO oidc_consents (user_id, client, scopes, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id, client) DO UPDATE SET scopes = excluded.scopes, created_at = excluded.created_at`,
			userID, client, strings.Join(scopes, " "), encodeTime(tx.now))
		if err != nil {
			return err
		}
		return tx.insertAudit(ctx, actor, "oidc.consent.grant", clientID, "consented to "+strings.Join(scopes, " "))
	})
	if err != nil {
		return fmt.Errorf("save consent: %w", err)
	}
	return nil
}

// DeleteConsent withdraws a consent and revokes the application's tokens
// of the user.
func (s *OIDCStore) DeleteConsent(ctx context.Context, actor lanyard.Actor, userID int64, clientID string) error {
	if !validKey(clientID) {
		return lanyard.Errorf(lanyard.ENOTFOUND, "No consent was given to this application.")
	}
	err := s.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM oidc_consents WHERE user_id = ? AND client = (SELECT id FROM oidc_clients WHERE client_id = ?)`, userID, clientID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lanyard.Errorf(lanyard.ENOTFOUND, "No consent was given to this application.")
		}
		if err := tx.revokeUserTokens(ctx, userID, clientID); err != nil {
			return err
		}
		return tx.insertAudit(ctx, actor, "oidc.consent.withdraw", clientID, "consent withdrawn")
	})
	if err != nil {
		return fmt.Errorf("withdraw consent: %w", err)
	}
	return nil
}
