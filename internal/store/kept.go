package store

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/lru"
)

// What a process keeps in memory from the database, so that each page does
// not read it again: the sessions it has read, with their users, and the
// current option script of each process.
//
// Every change of a user, of a session other than its last use, or of an
// option script makes everything kept stale: this process's own changes at
// their commit (Tx.keptChanged), the other processes' through triggers of
// the schema (migration 028), which notify keptChannel with the schema
// changed (PostgreSQL) or count in kept_changes (SQLite), read by a watch
// as the OCSP statuses are. While that watch is not live, nothing kept serves. What was read
// from the database while a change committed is not kept past the change:
// each entry carries the generation it was read in, and a change starts a
// new one.
//
// A kept session serves only while it needs no write: until it expires,
// and for less than the session service's touchEvery since its last use
// was written (keptFor without an idle timeout); then the request reads,
// and touches, it again. A kept script serves for keptFor after it was
// read, so that a database restored to an earlier state is followed soon;
// the start of a process checks the script's version anyway.
const (
	keptChannel  = "lanyard_kept"
	keptListener = "lanyard kept"
	sessionsKept = 10000
	keptFor      = time.Minute
)

// keptFeed carries the changes of users, sessions and option scripts.
var keptFeed = &changeFeed{
	what:    "changes of users, sessions and option scripts",
	channel: keptChannel, listener: keptListener,
	first: (*changeWatch).countKeptChanges,
	next: func(w *changeWatch, ctx context.Context, last int64) (int64, error) {
		n, err := w.countKeptChanges(ctx)
		if err == nil && n != last {
			w.fn(nil)
		}
		return n, err
	},
}

// countKeptChanges reads SQLite's count of the changes keptFeed carries.
func (w *changeWatch) countKeptChanges(ctx context.Context) (n int64, err error) {
	stmt, err := w.prepared(ctx, `SELECT n FROM kept_changes`)
	if err != nil {
		return 0, err
	}
	return n, stmt.QueryRowContext(ctx).Scan(&n)
}

// keptCache is what a DB keeps: sessions by their token's hash, scripts by
// process.
type keptCache struct {
	once  sync.Once
	watch *changeWatch
	// gen counts the changes this process knows of; an entry of an
	// older generation is stale.
	gen atomic.Uint64
	// schema is the PostgreSQL schema whose changes concern this DB;
	// empty, every notification does.
	schema   string
	sessions *lru.Cache[string, *keptSession]
	scripts  sync.Map // process → *keptScript
}

// keptSession is a session and its user as read in generation gen.
type keptSession struct {
	gen  uint64
	sess lanyard.Session
	user lanyard.User
}

// keptScript is a process's current script as read in generation gen at
// read.
type keptScript struct {
	gen    uint64
	read   time.Time
	script lanyard.OptionScript
}

// start watches the other processes' changes, at the first use.
func (c *keptCache) start(db *DB) {
	c.once.Do(func() {
		c.sessions = lru.New[string, *keptSession](sessionsKept, nil)
		if db.pg != nil {
			// The schema that holds the tables, which the triggers name:
			// not current_schema(), the first on the search path that
			// exists, which may hold none of them.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := db.pg.QueryRow(ctx, `SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE c.oid = 'users'::regclass`).Scan(&c.schema)
			cancel()
			if err != nil {
				c.schema = ""
			}
		}
		c.watch = db.watch(keptFeed, c.heard)
	})
}

// heard takes what the watch tells: nil after a gap, else the schemas
// changed (PostgreSQL) or nothing in particular (SQLite).
func (c *keptCache) heard(schemas []string) {
	// A notification's payload is one schema's name, which the watch
	// split at its commas.
	if schemas == nil || c.schema == "" || strings.Join(schemas, ",") == c.schema {
		c.changed()
	}
}

// changed makes everything kept stale.
func (c *keptCache) changed() { c.gen.Add(1) }

// generation returns the generation to read in, and whether what is kept
// may serve at all.
func (c *keptCache) generation() (uint64, bool) {
	return c.gen.Load(), c.watch != nil && c.watch.Live()
}

// session returns a copy of the session kept for key, if it may serve at
// now: kept in the current generation, live, and needing no write.
func (c *keptCache) session(key string, now time.Time, fresh time.Duration) (*lanyard.Session, *lanyard.User, bool) {
	gen, live := c.generation()
	if !live {
		return nil, nil, false
	}
	k, ok := c.sessions.Get(key)
	if !ok || k.gen != gen || !now.Before(k.sess.ExpiresAt) || now.Sub(k.sess.LastSeen) >= fresh || now.Before(k.sess.LastSeen) {
		return nil, nil, false
	}
	sess, u := k.sess, k.user
	u.Attributes = maps.Clone(u.Attributes)
	u.Roles = slices.Clone(u.Roles)
	return &sess, &u, true
}

// keepSession keeps a session read from the database in generation gen,
// unless a change came since.
func (c *keptCache) keepSession(key string, gen uint64, sess *lanyard.Session, u *lanyard.User) {
	if c.sessions == nil || c.gen.Load() != gen {
		return
	}
	k := &keptSession{gen: gen, sess: *sess, user: *u}
	k.user.Attributes = maps.Clone(u.Attributes)
	k.user.Roles = slices.Clone(u.Roles)
	c.sessions.Put(key, k)
}

// script returns a copy of the script kept for process, if it may serve
// at now.
func (c *keptCache) script(process string, now time.Time) (*lanyard.OptionScript, bool) {
	gen, live := c.generation()
	if !live {
		return nil, false
	}
	v, ok := c.scripts.Load(process)
	if !ok {
		return nil, false
	}
	k := v.(*keptScript)
	if k.gen != gen || now.Sub(k.read) >= keptFor || now.Before(k.read) {
		return nil, false
	}
	sc := k.script
	return &sc, true
}

// keepScript keeps a process's current script read in generation gen at
// read, unless a change came since.
func (c *keptCache) keepScript(process string, gen uint64, read time.Time, sc *lanyard.OptionScript) {
	if c.gen.Load() != gen {
		return
	}
	c.scripts.Store(process, &keptScript{gen: gen, read: read, script: *sc})
}

// close stops the watch.
func (c *keptCache) close() {
	c.once.Do(func() {})
	if c.watch != nil {
		c.watch.stop()
	}
}
