package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/oidc"
)

var _ oidc.Store = (*OIDCStore)(nil)

// OIDCStore keeps the OpenID Connect provider's applications, requests,
// tokens, keys and consents in the database, for every instance to share.
type OIDCStore struct {
	db *DB
}

// NewOIDCStore returns an OIDCStore on db.
func NewOIDCStore(db *DB) *OIDCStore { return &OIDCStore{db: db} }

// RecordAudit writes an audit event of the provider's, such as a refused
// code replay.
func (s *OIDCStore) RecordAudit(ctx context.Context, actor lanyard.Actor, action, subject, detail string) error {
	return s.db.RecordAudit(ctx, actor, action, subject, detail)
}

const clientColumns = `id, client_id, name, redirect_uris, post_logout_redirect_uris, public, allow_password, refresh_tokens, secret_hash, id_token_alg, disabled, created_at, updated_at`

func scanClient(s scanner) (*oidc.Client, error) {
	var c oidc.Client
	var redirects, logouts string
	var public, allowPW, refresh, disabled int
	var created, updated int64
	if err := s.Scan(&c.ID, &c.ClientID, &c.Name, &redirects, &logouts, &public, &allowPW, &refresh, &c.SecretHash, &c.IDTokenAlg, &disabled, &created, &updated); err != nil {
		return nil, err
	}
	c.RefreshTokens = refresh != 0
	c.RedirectURIs, c.PostLogoutRedirectURIs = splitLines(redirects), splitLines(logouts)
	c.Public, c.AllowPassword, c.Disabled = public != 0, allowPW != 0, disabled != 0
	c.CreatedAt, c.UpdatedAt = decodeTime(created), decodeTime(updated)
	return &c, nil
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// CreateClient stores a new application; its ClientID is made here when
// empty.
func (s *OIDCStore) CreateClient(ctx context.Context, actor lanyard.Actor, c *oidc.Client) error {
	if c.ClientID == "" {
		c.ClientID = strings.ToLower(rand.Text())
	}
	err := s.db.inTx(ctx, func(tx *Tx) error {
		err := tx.queryRow(ctx, `INSERT INTO oidc_clients (client_id, name, redirect_uris, post_logout_redirect_uris, public, allow_password, refresh_tokens, secret_hash, id_token_alg, disabled, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.ClientID, c.Name, strings.Join(c.RedirectURIs, "\n"), strings.Join(c.PostLogoutRedirectURIs, "\n"),
			boolInt(c.Public), boolInt(c.AllowPassword), boolInt(c.RefreshTokens), c.SecretHash, c.IDTokenAlg, boolInt(c.Disabled),
			encodeTime(tx.now), encodeTime(tx.now)).Scan(&c.ID)
		if isUniqueViolation(err) {
			return lanyard.Errorf(lanyard.ECONFLICT, "An application with this client ID exists already.")
		} else if err != nil {
			return err
		}
		c.CreatedAt, c.UpdatedAt = tx.now, tx.now
		kind := "confidential"
		if c.Public {
			kind = "public"
		}
		return tx.insertAudit(ctx, actor, "oidc.client.create", c.ClientID, fmt.Sprintf("%s application %q, redirect URIs %s", kind, c.Name, strings.Join(c.RedirectURIs, " ")))
	})
	if err != nil {
		return fmt.Errorf("create application: %w", err)
	}
	return nil
}

// validKey reports whether an identifier from a request can be looked
// up: one that no engine could store is not there.
func validKey(s string) bool { return len(s) <= 256 && lanyard.ValidText(s) }

func errNoClient() error {
	return lanyard.Errorf(lanyard.ENOTFOUND, "There is no application with this client ID.")
}

// FindClient returns the application with the client ID.
func (s *OIDCStore) FindClient(ctx context.Context, clientID string) (*oidc.Client, error) {
	if !validKey(clientID) {
		return nil, errNoClient()
	}
	c, err := scanClient(s.db.queryRow(ctx, `SELECT `+clientColumns+` FROM oidc_clients WHERE client_id = ?`, clientID))
	if errNoRows(err) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "There is no application with this client ID.")
	} else if err != nil {
		return nil, fmt.Errorf("find application: %w", err)
	}
	return c, nil
}

// FindClients returns every application by name.
func (s *OIDCStore) FindClients(ctx context.Context) ([]*oidc.Client, error) {
	cs, err := queryAll(ctx, s.db, `SELECT `+clientColumns+` FROM oidc_clients ORDER BY name, id`, nil, scanClient)
	if err != nil {
		return nil, fmt.Errorf("find applications: %w", err)
	}
	return cs, nil
}

// UpdateClient saves the editable fields of c.
func (s *OIDCStore) UpdateClient(ctx context.Context, actor lanyard.Actor, c *oidc.Client, detail string) error {
	if !validKey(c.ClientID) {
		return errNoClient()
	}
	err := s.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE oidc_clients SET name = ?, redirect_uris = ?, post_logout_redirect_uris = ?, allow_password = ?, refresh_tokens = ?, id_token_alg = ?, disabled = ?, updated_at = ? WHERE client_id = ?`,
			c.Name, strings.Join(c.RedirectURIs, "\n"), strings.Join(c.PostLogoutRedirectURIs, "\n"), boolInt(c.AllowPassword), boolInt(c.RefreshTokens), c.IDTokenAlg, boolInt(c.Disabled), encodeTime(tx.now), c.ClientID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lanyard.Errorf(lanyard.ENOTFOUND, "There is no application with this client ID.")
		}
		if c.Disabled {
			if err := tx.revokeClientTokens(ctx, c.ClientID); err != nil {
				return err
			}
		}
		return tx.insertAudit(ctx, actor, "oidc.client.update", c.ClientID, detail)
	})
	if err != nil {
		return fmt.Errorf("update application: %w", err)
	}
	return nil
}

// SetClientSecret replaces the hash of a confidential client's secret.
func (s *OIDCStore) SetClientSecret(ctx context.Context, actor lanyard.Actor, clientID string, hash []byte) error {
	if !validKey(clientID) {
		return errNoClient()
	}
	err := s.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE oidc_clients SET secret_hash = ?, updated_at = ? WHERE client_id = ? AND public = 0`, hash, encodeTime(tx.now), clientID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lanyard.Errorf(lanyard.ENOTFOUND, "There is no confidential application with this client ID.")
		}
		return tx.insertAudit(ctx, actor, "oidc.client.secret", clientID, "client secret rotated")
	})
	if err != nil {
		return fmt.Errorf("rotate client secret: %w", err)
	}
	return nil
}

// DeleteClient deletes an application, its consents (by cascade) and its
// pending requests, and revokes its tokens.
func (s *OIDCStore) DeleteClient(ctx context.Context, actor lanyard.Actor, clientID string) error {
	if !validKey(clientID) {
		return errNoClient()
	}
	err := s.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM oidc_clients WHERE client_id = ?`, clientID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return lanyard.Errorf(lanyard.ENOTFOUND, "There is no application with this client ID.")
		}
		if err := tx.revokeClientTokens(ctx, clientID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM oidc_auth_requests WHERE client_id = ?`, clientID); err != nil {
			return err
		}
		return tx.insertAudit(ctx, actor, "oidc.client.delete", clientID, "application deleted")
	})
	if err != nil {
		return fmt.Errorf("delete application: %w", err)
	}
	return nil
}

func (tx *Tx) revokeClientTokens(ctx context.Context, clientID string) error {
	if _, err := tx.exec(ctx, `UPDATE oidc_refresh_tokens SET revoked = 1 WHERE client_id = ?`, clientID); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `UPDATE oidc_tokens SET revoked = 1 WHERE client_id = ?`, clientID)
	return err
}

// Subject returns the user's subject: 128 random bits made on first use,
// so it names the user to applications without telling them who it is.
func (s *OIDCStore) Subject(ctx context.Context, userID int64) (string, error) {
	var sub string
	err := s.db.queryRow(ctx, `SELECT subject FROM oidc_subjects WHERE user_id = ?`, userID).Scan(&sub)
	if err == nil {
		return sub, nil
	} else if !errNoRows(err) {
		return "", fmt.Errorf("find subject: %w", err)
	}
	err = s.db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `INSERT INTO oidc_subjects (user_id, subject) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING`, userID, strings.ToLower(rand.Text()))
		if err != nil {
			return err
		}
		return tx.queryRow(ctx, `SELECT subject FROM oidc_subjects WHERE user_id = ?`, userID).Scan(&sub)
	})
	if err != nil {
		return "", fmt.Errorf("create subject: %w", err)
	}
	return sub, nil
}
