package store

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/lru"
)

// How a process keeps the sessions it has read, with their users, so that
// the pages of a session do not each read it again:
//
// Every change of a user or of a session other than its last use makes
// every session this process holds stale: its own at the commit
// (Tx.sessionsChanged), the other processes' through triggers of the
// schema (migration 028), which notify sessionChannel (PostgreSQL) or
// count in session_changes (SQLite), read by a watch as the OCSP statuses
// are. While that watch is not live, every request reads its session
// from the database. A session read from the database while a change
// commits is not kept past the change: each entry carries the generation
// it was read in, and a change starts a new one.
//
// A held session serves only while it needs no write: until it expires,
// and for less than the session service's touchEvery since its last use
// was written (sessionHeldFor without an idle timeout). Then the request
// reads, and touches, it in the database again.
const (
	sessionChannel  = "lanyard_sessions"
	sessionListener = "lanyard sessions"
	sessionsHeld    = 10000
	sessionHeldFor  = time.Minute
)

// sessionFeed carries the changes of users and sessions.
var sessionFeed = &changeFeed{
	what:    "session changes",
	channel: sessionChannel, listener: sessionListener,
	first: (*statusWatch).readSessionChanges,
	next: func(w *statusWatch, ctx context.Context, last int64) (int64, error) {
		n, err := w.readSessionChanges(ctx)
		if err == nil && n != last {
			w.fn(nil)
		}
		return n, err
	},
}

// readSessionChanges reads SQLite's count of changes to users and
// sessions.
func (w *statusWatch) readSessionChanges(ctx context.Context) (n int64, err error) {
	stmt, err := w.prepared(ctx, `SELECT n FROM session_changes`)
	if err != nil {
		return 0, err
	}
	return n, stmt.QueryRowContext(ctx).Scan(&n)
}

// sessionCache holds sessions this process read, by their token's hash.
type sessionCache struct {
	once  sync.Once
	watch *statusWatch
	// gen counts the changes this process knows of; an entry of an
	// older generation is stale.
	gen   atomic.Uint64
	items *lru.Cache[string, *heldSession]
}

// heldSession is a session and its user as read in generation gen.
type heldSession struct {
	gen  uint64
	sess lanyard.Session
	user lanyard.User
}

// start watches the other processes' changes, at the first session read.
func (c *sessionCache) start(db *DB) {
	c.once.Do(func() {
		c.items = lru.New[string, *heldSession](sessionsHeld, nil)
		c.watch = db.watch(sessionFeed, func([]string) { c.changed() })
	})
}

// changed makes every held session stale.
func (c *sessionCache) changed() { c.gen.Add(1) }

// generation returns the generation to read a session in, and whether
// held sessions may serve at all.
func (c *sessionCache) generation() (uint64, bool) {
	return c.gen.Load(), c.watch != nil && c.watch.Live()
}

// get returns a copy of the session held for key, if it may serve at
// now: held in the current generation, live, and needing no write.
func (c *sessionCache) get(key string, now time.Time, fresh time.Duration) (*lanyard.Session, *lanyard.User, bool) {
	gen, live := c.generation()
	if !live {
		return nil, nil, false
	}
	h, ok := c.items.Get(key)
	if !ok || h.gen != gen || !now.Before(h.sess.ExpiresAt) || now.Sub(h.sess.LastSeen) >= fresh || now.Before(h.sess.LastSeen) {
		return nil, nil, false
	}
	sess, u := h.sess, h.user
	u.Attributes = maps.Clone(u.Attributes)
	u.Roles = slices.Clone(u.Roles)
	return &sess, &u, true
}

// put holds a session read from the database in generation gen, unless a
// change came since.
func (c *sessionCache) put(key string, gen uint64, sess *lanyard.Session, u *lanyard.User) {
	if c.items == nil || c.gen.Load() != gen {
		return
	}
	h := &heldSession{gen: gen, sess: *sess, user: *u}
	h.user.Attributes = maps.Clone(u.Attributes)
	h.user.Roles = slices.Clone(u.Roles)
	c.items.Put(key, h)
}

// close stops the watch.
func (c *sessionCache) close() {
	c.once.Do(func() {})
	if c.watch != nil {
		c.watch.stop()
	}
}
