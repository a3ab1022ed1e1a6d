package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"sync/atomic"
)

// stmtCacheSize bounds the statements kept per pool. The store's own
// statements are a few hundred texts; the rest (a search with a limit of
// its own, a directory batch of some length) run unprepared once it is
// full, so that the cache cannot grow without bound.
const stmtCacheSize = 512

// stmtMaxParams is the most placeholders a statement kept may have: more
// make a batch of a length of its own (the last rows of an import, say),
// whose text is seldom seen twice and would fill the cache.
const stmtMaxParams = 64

// stmtCache keeps one prepared statement per query text for a pool, so
// that SQLite parses and plans each statement once per connection instead
// of at every run (that was an eighth of the CPU of a mobile ID).
// database/sql prepares a cached statement again on each connection of
// the pool the first time it runs there, and Tx.StmtContext uses the
// transaction's connection's copy.
//
// A nil cache keeps nothing (PostgreSQL, whose driver keeps its own).
type stmtCache struct {
	pool  *sql.DB
	stmts sync.Map // query text → *sql.Stmt
	n     atomic.Int64
}

func newStmtCache(pool *sql.DB) *stmtCache { return &stmtCache{pool: pool} }

// lookup returns the statement of query prepared already, or nil.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	if s, ok := c.stmts.Load(query); ok {
		return s.(*sql.Stmt)
	}
	return nil
}

// get returns the statement of query, preparing it on first use; nil when
// the cache is full or the statement does not prepare (it then runs
// unprepared, and fails there with the error it has). It takes a
// connection of the pool to prepare, so a transaction, which holds the
// only writer, calls lookup and leaves preparing until it ends.
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	if s := c.lookup(query); s != nil {
		return s
	}
	return c.prepare(ctx, query)
}

func (c *stmtCache) prepare(ctx context.Context, query string) *sql.Stmt {
	if c.n.Load() >= stmtCacheSize || strings.Count(query, "?") > stmtMaxParams {
		return nil
	}
	if s := c.lookup(query); s != nil {
		return s
	}
	s, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if old, loaded := c.stmts.LoadOrStore(query, s); loaded {
		s.Close()
		return old.(*sql.Stmt)
	}
	c.n.Add(1)
	return s
}

// close closes every statement kept, before the pool closes.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.stmts.Range(func(_, s any) bool {
		s.(*sql.Stmt).Close()
		return true
	})
}
