package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
)

var _ lanyard.LoginThrottle = (*SessionService)(nil)

// Failures of an address are forgotten after an hour without one, so that
// the typing mistakes of an office behind one address do not add up over
// days; an account's are forgotten after a day, unless they locked it.
const (
	addrForget = time.Hour
	userForget = 24 * time.Hour
)

// throttleKey is one counter a login attempt claims.
type throttleKey struct {
	key    string // as stored: hashed
	free   int
	forget time.Duration
	user   bool // the account's counter, which may lock
}

// throttleState is a counter as read from the database.
type throttleState struct {
	failures       int
	nextAt, lastAt time.Time
}

func (s *SessionService) throttleKeys(username, addr string) []throttleKey {
	p := s.policy()
	keys := []throttleKey{
		{key: userThrottleKey(username), free: p.UserFree, forget: userForget, user: true},
		{key: limiterKey("addr:" + addr), free: p.AddrFree, forget: addrForget},
	}
	// One order for every transaction, so two never wait for each other.
	slices.SortFunc(keys, func(a, b throttleKey) int { return strings.Compare(a.key, b.key) })
	return keys
}

func userThrottleKey(username string) string {
	return limiterKey("user:" + strings.ToLower(strings.TrimSpace(username)))
}

func (s *SessionService) policy() lanyard.LoginPolicy {
	if s.Policy.UserFree == 0 {
		return lanyard.DefaultLoginPolicy
	}
	return s.Policy
}

// current is the counter as it stands at now: forgotten when stale, unless
// it locked an account.
func (k throttleKey) current(st throttleState, now time.Time, p lanyard.LoginPolicy) throttleState {
	locked := k.user && st.failures > p.LockAfter
	if !locked && !st.lastAt.IsZero() && now.Sub(st.lastAt) > k.forget {
		return throttleState{}
	}
	return st
}

func readThrottle(ctx context.Context, c conn, key string, lock bool) (throttleState, error) {
	q := `SELECT failures, next_at, last_at FROM login_throttle WHERE key = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var st throttleState
	var next, last int64
	err := c.queryRow(ctx, q, key).Scan(&st.failures, &next, &last)
	if errNoRows(err) {
		return throttleState{}, nil
	} else if err != nil {
		return st, fmt.Errorf("read login failures: %w", err)
	}
	st.nextAt, st.lastAt = decodeTime(next), decodeTime(last)
	return st, nil
}

// check says whether the counters let an attempt through at now.
func (s *SessionService) check(keys []throttleKey, states []throttleState, now time.Time) lanyard.LoginAttempt {
	p := s.policy()
	var a lanyard.LoginAttempt
	for i, k := range keys {
		st := k.current(states[i], now, p)
		if k.user && st.failures > p.LockAfter {
			return lanyard.LoginAttempt{Locked: true}
		}
		if st.nextAt.After(now) {
			a.Wait = max(a.Wait, st.nextAt.Sub(now))
		}
	}
	return a
}

// ReserveLogin claims one attempt for the account and the address, and
// counts it as a failure, unless one of them must wait or the account is
// locked.
func (s *SessionService) ReserveLogin(ctx context.Context, username, addr string) (lanyard.LoginAttempt, error) {
	keys := s.throttleKeys(username, addr)
	// A plain read first turns most of a flood away without a write.
	states := make([]throttleState, len(keys))
	for i, k := range keys {
		st, err := readThrottle(ctx, s.db, k.key, false)
		if err != nil {
			return lanyard.LoginAttempt{}, err
		}
		states[i] = st
	}
	if a := s.check(keys, states, s.db.Now()); a.Wait > 0 || a.Locked {
		return a, nil
	}
	// Stale counters are swept here rather than by a job, now and then, in
	// a statement of its own that holds no other lock.
	if rand.IntN(50) == 0 {
		if _, err := s.db.exec(ctx, sweepLoginThrottle,
			encodeTime(s.db.Now().Add(-userForget)), s.policy().LockAfter); err != nil {
			return lanyard.LoginAttempt{}, fmt.Errorf("sweep login failures: %w", err)
		}
	}
	var a lanyard.LoginAttempt
	err := s.db.inTx(ctx, func(tx *Tx) error {
		for _, k := range keys {
			if _, err := tx.exec(ctx, `INSERT INTO login_throttle (key) VALUES (?) ON CONFLICT (key) DO NOTHING`, k.key); err != nil {
				return fmt.Errorf("claim login attempt: %w", err)
			}
		}
		for i, k := range keys {
			st, err := readThrottle(ctx, tx, k.key, s.db.dialect == Postgres)
			if err != nil {
				return err
			}
			states[i] = st
		}
		if a = s.check(keys, states, tx.now); a.Wait > 0 || a.Locked {
			return nil
		}
		p := s.policy()
		for i, k := range keys {
			st := k.current(states[i], tx.now, p)
			n := st.failures + 1
			if k.user && n > p.LockAfter {
				a.Last = true
			}
			// No delay is no wait at all: not "wait until now", which an
			// attempt that began a moment earlier, or on an instance whose
			// clock is a moment behind, would take for a wait.
			var next int64
			if d := p.Delay(n, k.free); d > 0 {
				next = encodeTime(tx.now.Add(d))
			}
			if _, err := tx.exec(ctx, `UPDATE login_throttle SET failures = ?, next_at = ?, last_at = ? WHERE key = ?`,
				n, next, encodeTime(tx.now), k.key); err != nil {
				return fmt.Errorf("claim login attempt: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return lanyard.LoginAttempt{}, err
	}
	return a, nil
}

// LoginSucceeded ends the account's failures in a row and gives the
// address its claimed attempt back.
func (s *SessionService) LoginSucceeded(ctx context.Context, username, addr string) error {
	return s.settle(ctx, username, addr, true)
}

// ReleaseLogin gives back both counters' claimed attempt.
func (s *SessionService) ReleaseLogin(ctx context.Context, username, addr string) error {
	return s.settle(ctx, username, addr, false)
}

// settle changes the counters of an attempt in the order ReserveLogin
// locks them, so that two transactions never wait for each other.
func (s *SessionService) settle(ctx context.Context, username, addr string, succeeded bool) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		for _, k := range s.throttleKeys(username, addr) {
			if k.user && succeeded {
				if _, err := tx.exec(ctx, `DELETE FROM login_throttle WHERE key = ?`, k.key); err != nil {
					return fmt.Errorf("clear login failures: %w", err)
				}
				continue
			}
			if err := giveBack(ctx, tx, k.key); err != nil {
				return err
			}
		}
		return nil
	})
}

// giveBack takes one failure off a counter; its wait stays, which only
// ever errs on the side of caution.
func giveBack(ctx context.Context, tx *Tx, key string) error {
	if _, err := tx.exec(ctx, `UPDATE login_throttle SET failures = failures - 1 WHERE key = ? AND failures > 0`, key); err != nil {
		return fmt.Errorf("give back login attempt: %w", err)
	}
	return nil
}

// FindLoginLocks returns the locked accounts among usernames.
func (s *SessionService) FindLoginLocks(ctx context.Context, usernames []string) (map[string]lanyard.LoginLock, error) {
	p := s.policy()
	locks := map[string]lanyard.LoginLock{}
	for _, name := range usernames {
		st, err := readThrottle(ctx, s.db, userThrottleKey(name), false)
		if err != nil {
			return nil, err
		}
		if st.failures > p.LockAfter {
			locks[name] = lanyard.LoginLock{Username: name, Failures: st.failures, Since: st.lastAt}
		}
	}
	return locks, nil
}

// LiftLoginLock unlocks the password login of an account: its failures
// in a row start again from nothing.
func (s *SessionService) LiftLoginLock(ctx context.Context, actor lanyard.Actor, username string) error {
	username = strings.ToLower(strings.TrimSpace(username))
	return s.db.inTx(ctx, func(tx *Tx) error {
		st, err := readThrottle(ctx, tx, userThrottleKey(username), s.db.dialect == Postgres)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM login_throttle WHERE key = ?`, userThrottleKey(username)); err != nil {
			return fmt.Errorf("lift login lock: %w", err)
		}
		return tx.insertAudit(ctx, actor, "user.login_unlock", username, fmt.Sprintf("after %d failed logins in a row", st.failures))
	})
}
