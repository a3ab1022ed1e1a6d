package pki

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanyard-id/lanyard/internal/lru"
)

// defaultOCSPCacheBytes bounds the memory of the pre-signed OCSP responses
// of one instance: at about 600 bytes an entry (key and ECDSA response),
// some hundred thousand certificates.
const defaultOCSPCacheBytes = 96 << 20

// ocspAnswer is a signed OCSP response with what its HTTP headers need.
type ocspAnswer struct {
	der        []byte
	thisUpdate time.Time
	nextUpdate time.Time
	etag       string // a strong validator, quoted, or "" for uncacheable answers
	nonce      bool   // answers a nonce request: not to be cached anywhere
	// hdr holds the HTTP header values of the current second.
	hdr atomic.Pointer[ocspHeaders]
}

// ocspCache keeps signed responses by a key that names each certificate's
// status as read from the database: a status change makes a new key, so a
// response is never served for a status the certificate no longer has. It
// evicts the least recently used responses beyond its byte budget.
type ocspCache struct {
	entries *lru.Cache[string, *ocspAnswer]
	mu      sync.Mutex
	// gen grows with every drop and clear: a response read from the
	// database before one is not kept, since it may be what was dropped.
	gen uint64
}

func newOCSPCache(maxBytes int) *ocspCache {
	return &ocspCache{entries: lru.New(maxBytes, ocspCost)}
}

// ocspCost is what an entry is charged against the budget: its key, its
// response and the bookkeeping around them.
func ocspCost(key string, a *ocspAnswer) int { return len(key) + len(a.der) + len(a.etag) + 160 }

// get returns the response kept under key, or nil.
func (c *ocspCache) get(key string) *ocspAnswer {
	a, _ := c.entries.Get(key)
	return a
}

// put keeps a under key, replacing any response there, and evicts the
// least recently used responses until the cache fits its budget.
func (c *ocspCache) put(key string, a *ocspAnswer) { c.entries.Put(key, a) }

// len returns the number of responses kept.
func (c *ocspCache) len() int { return c.entries.Len() }

// generation returns the count of drops and clears so far, for putIf.
func (c *ocspCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// putIf keeps a under key unless a drop or clear happened since gen was
// read: a response read before a status change is not kept after it.
func (c *ocspCache) putIf(key string, a *ocspAnswer, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.entries.Put(key, a)
	}
}

// drop forgets the responses kept under keys.
func (c *ocspCache) drop(keys []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries.Remove(keys...)
}

// clear forgets every response.
func (c *ocspCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries.Clear()
}
