package options

import (
	"container/list"
	"crypto/sha256"
	"sync"
)

// cacheSize bounds the number of compiled scripts kept. Lanyard has a few
// processes with one current script each; the rest of the room serves
// scripts being edited and tested in Admin.
const cacheSize = 64

// cacheKey identifies a script by its process and a hash of its text, so
// that the cache holds no script text and a changed script misses.
type cacheKey [sha256.Size]byte

func keyOf(process, source string) cacheKey {
	h := sha256.New()
	h.Write([]byte(process))
	h.Write([]byte{0})
	h.Write([]byte(source))
	var k cacheKey
	h.Sum(k[:0])
	return k
}

// cache is a least-recently-used cache of compiled scripts, safe for
// concurrent use. Only scripts that compiled are kept.
type cache struct {
	mu    sync.Mutex
	order *list.List // of *cacheEntry, most recently used first
	byKey map[cacheKey]*list.Element
}

type cacheEntry struct {
	key  cacheKey
	prog *program
}

func newCache() *cache {
	return &cache{order: list.New(), byKey: make(map[cacheKey]*list.Element)}
}

func (c *cache) get(k cacheKey) *program {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[k]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry).prog
}

func (c *cache) put(k cacheKey, p *program) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[k]; ok {
		c.order.MoveToFront(el)
		return
	}
	c.byKey[k] = c.order.PushFront(&cacheEntry{key: k, prog: p})
	for c.order.Len() > cacheSize {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*cacheEntry).key)
	}
}
