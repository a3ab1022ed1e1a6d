package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/lanyard-id/lanyard"
)

var (
	_ lanyard.SessionService = (*SessionService)(nil)
	_ lanyard.LoginLimiter   = (*SessionService)(nil)
)

// SessionService implements lanyard.SessionService and lanyard.LoginLimiter
// in the database, so every instance of a cluster sees the same sessions
// and the same failed-login counts.
type SessionService struct {
	db *DB

	// IdleTimeout ends a session unused for this long; zero: only the
	// absolute lifetime ends it.
	IdleTimeout time.Duration
	// Policy governs password logins; its zero value means
	// lanyard.DefaultLoginPolicy.
	Policy lanyard.LoginPolicy
}

// touchEvery is how stale a session's last_seen may get before a request
// writes it: the idle timeout stays exact to within this, and a busy
// session costs one write a minute rather than one per request.
func (s *SessionService) touchEvery() time.Duration {
	return min(s.IdleTimeout/10, time.Minute)
}

// NewSessionService returns a SessionService on db.
func NewSessionService(db *DB) *SessionService { return &SessionService{db: db} }

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateSession starts a session of a password login and returns its token
// (256 random bits).
func (s *SessionService) CreateSession(ctx context.Context, userID int64, addr string, ttl time.Duration) (string, error) {
	return s.CreateSessionBy(ctx, userID, addr, lanyard.AuthPassword, ttl)
}

// LogIn starts the session of a password login and records it, ending
// the session it replaces, all in one transaction.
func (s *SessionService) LogIn(ctx context.Context, actor lanyard.Actor, userID int64, replaces string, ttl time.Duration) (string, error) {
	var token string
	err := s.db.inTx(ctx, func(tx *Tx) error {
		if replaces != "" {
			tx.keptChanged = true
			if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hashToken(replaces)); err != nil {
				return err
			}
		}
		var err error
		if token, err = tx.insertSession(ctx, userID, actor.Addr, lanyard.AuthPassword, ttl); err != nil {
			return err
		}
		return tx.insertAudit(ctx, actor, "session.login", actor.Username, "")
	})
	if err != nil {
		return "", fmt.Errorf("log in: %w", err)
	}
	return token, nil
}

// CreateSessionBy starts a session of a login by method and returns its
// token (256 random bits).
func (s *SessionService) CreateSessionBy(ctx context.Context, userID int64, addr, method string, ttl time.Duration) (string, error) {
	var token string
	err := s.db.inTx(ctx, func(tx *Tx) error {
		var err error
		token, err = tx.insertSession(ctx, userID, addr, method, ttl)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

// insertSession starts a session and returns its token (256 random bits).
func (tx *Tx) insertSession(ctx context.Context, userID int64, addr, method string, ttl time.Duration) (string, error) {
	token := rand.Text() + rand.Text()
	// Expired sessions are swept here rather than by a job: logins are
	// frequent enough to keep the table small.
	if _, err := tx.exec(ctx, sweepSessions, encodeTime(tx.now)); err != nil {
		return "", err
	}
	_, err := tx.exec(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen, addr, method) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		hashToken(token), userID, encodeTime(tx.now), encodeTime(tx.now.Add(ttl)), encodeTime(tx.now), addr, method)
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

// findSessionQuery reads a session and its user by the token's hash.
var findSessionQuery = `SELECT ` + prefixed("u.", userColumns) + `, s.id, s.created_at, s.expires_at, s.last_seen, s.addr, s.method
	FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`

// FindSession returns the live session for token and its user.
func (s *SessionService) FindSession(ctx context.Context, token string) (*lanyard.Session, *lanyard.User, error) {
	if token == "" || len(token) > 128 {
		return nil, nil, lanyard.Errorf(lanyard.EUNAUTHORIZED, "Please log in.")
	}
	hash := hashToken(token)
	now := s.db.Now()
	kept := &s.db.kept
	kept.start(s.db)
	if sess, u, ok := kept.session(string(hash), now, s.fresh()); ok {
		return sess, u, nil
	}
	gen, _ := kept.generation()
	// One query: the session and its user together.
	var sess lanyard.Session
	var created, expires, seen int64
	u, err := scanUser(extraScanner{s: s.db.queryRow(ctx, findSessionQuery, hash),
		extra: []any{&sess.ID, &created, &expires, &seen, &sess.Addr, &sess.Method}})
	if errNoRows(err) {
		return nil, nil, lanyard.Errorf(lanyard.EUNAUTHORIZED, "Please log in.")
	} else if err != nil {
		return nil, nil, fmt.Errorf("find session: %w", err)
	}
	sess.UserID = u.ID
	sess.CreatedAt, sess.ExpiresAt, sess.LastSeen = decodeTime(created), decodeTime(expires), decodeTime(seen)
	if !now.Before(sess.ExpiresAt) {
		return nil, nil, lanyard.Errorf(lanyard.EUNAUTHORIZED, "Your session has expired. Please log in again.")
	}
	if s.IdleTimeout > 0 && now.Sub(sess.LastSeen) >= s.IdleTimeout {
		return nil, nil, lanyard.Errorf(lanyard.EUNAUTHORIZED, "Your session ended after %d minutes without use. Please log in again.", int(s.IdleTimeout/time.Minute))
	}
	if u.State != lanyard.UserActive {
		return nil, nil, lanyard.Errorf(lanyard.EUNAUTHORIZED, "Please log in.")
	}
	if s.IdleTimeout > 0 && now.Sub(sess.LastSeen) >= s.touchEvery() {
		// Conditional, so that of the instances of a cluster serving the
		// same session at once only one writes.
		_, err := s.db.exec(ctx, `UPDATE sessions SET last_seen = ? WHERE id = ? AND last_seen = ?`,
			encodeTime(now), sess.ID, seen)
		if err != nil {
			return nil, nil, fmt.Errorf("touch session: %w", err)
		}
		sess.LastSeen = now
	}
	kept.keepSession(string(hash), gen, &sess, u)
	return &sess, u, nil
}

// fresh is how long after its last use was written a session read before
// may serve again without reading it (keptCache).
func (s *SessionService) fresh() time.Duration {
	if s.IdleTimeout > 0 {
		return s.touchEvery()
	}
	return keptFor
}

// DeleteSession ends the session of token; an unknown token is no error.
func (s *SessionService) DeleteSession(ctx context.Context, token string) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		tx.keptChanged = true
		_, err := tx.exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hashToken(token))
		return err
	})
}

// DeleteUserSessions ends every session of a user.
func (s *SessionService) DeleteUserSessions(ctx context.Context, userID int64) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		tx.keptChanged = true
		_, err := tx.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		return err
	})
}

// LoginAllowed returns how long key must wait before its next attempt.
func (s *SessionService) LoginAllowed(ctx context.Context, key string, limit int, window time.Duration) (time.Duration, error) {
	key = limiterKey(key)
	now := s.db.Now()
	var n int
	var oldest int64
	err := s.db.queryRow(ctx, `SELECT COUNT(*), COALESCE(MIN(at), 0) FROM login_failures WHERE key = ? AND at > ?`,
		key, encodeTime(now.Add(-window))).Scan(&n, &oldest)
	if err != nil {
		return 0, fmt.Errorf("count login failures: %w", err)
	}
	if n < limit {
		return 0, nil
	}
	wait := decodeTime(oldest).Add(window).Sub(now)
	return max(wait, time.Second), nil
}

// RecordLoginFailure counts one failed login against each key.
func (s *SessionService) RecordLoginFailure(ctx context.Context, keys ...string) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		// Failures older than a day count for nothing; sweep them.
		if _, err := tx.exec(ctx, sweepLoginFailures, encodeTime(tx.now.Add(-24*time.Hour))); err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := tx.exec(ctx, `INSERT INTO login_failures (key, at) VALUES (?, ?)`, limiterKey(k), encodeTime(tx.now)); err != nil {
				return fmt.Errorf("record login failure: %w", err)
			}
		}
		return nil
	})
}

// ClearLoginFailures forgets the failures of key, after a good login.
func (s *SessionService) ClearLoginFailures(ctx context.Context, key string) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `DELETE FROM login_failures WHERE key = ?`, limiterKey(key))
		return err
	})
}

// limiterKey is how a key is stored: its hash. Keys hold what a visitor
// typed as a username, which may be a password typed in the wrong field,
// so it is never kept in clear.
func limiterKey(key string) string { return hex.EncodeToString(hashToken(key)) }
