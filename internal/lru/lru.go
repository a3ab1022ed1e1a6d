// Package lru is a least-recently-used cache, safe for concurrent use,
// bounded by the total cost of what it holds: a count of entries, or
// their bytes.
package lru

import (
	"container/list"
	"sync"
)

// Cache keeps values by key up to a total cost, forgetting the least
// recently used first.
type Cache[K comparable, V any] struct {
	mu    sync.Mutex
	max   int
	size  int
	cost  func(K, V) int
	order *list.List // of *entry[K, V], most recently used first
	items map[K]*list.Element
}

type entry[K comparable, V any] struct {
	key   K
	value V
	cost  int
}

// New returns a cache that holds entries up to max in total cost; cost
// gives an entry's, and nil counts each entry as one.
func New[K comparable, V any](max int, cost func(K, V) int) *Cache[K, V] {
	if cost == nil {
		cost = func(K, V) int { return 1 }
	}
	return &Cache[K, V]{max: max, cost: cost, order: list.New(), items: map[K]*list.Element{}}
}

// Get returns the value kept under k, which becomes the most recently
// used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry[K, V]).value, true
}

// Put keeps v under k, replacing what was there, and forgets the least
// recently used entries until the cache fits. An entry that costs more
// than the whole cache is not kept.
func (c *Cache[K, V]) Put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.remove(el)
	}
	e := &entry[K, V]{key: k, value: v, cost: c.cost(k, v)}
	if e.cost > c.max {
		return
	}
	c.items[k] = c.order.PushFront(e)
	c.size += e.cost
	for c.size > c.max {
		c.remove(c.order.Back())
	}
}

// Take returns the value kept under k and forgets it, at once.
func (c *Cache[K, V]) Take(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	v := el.Value.(*entry[K, V]).value
	c.remove(el)
	return v, true
}

// Remove forgets the entries kept under keys.
func (c *Cache[K, V]) Remove(keys ...K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		if el, ok := c.items[k]; ok {
			c.remove(el)
		}
	}
}

// Clear forgets every entry.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.order.Init()
	c.items = map[K]*list.Element{}
	c.size = 0
}

// Len returns the number of entries kept, and Size their total cost.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Size returns the total cost of the entries kept.
func (c *Cache[K, V]) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

// Max returns the total cost the cache holds at most.
func (c *Cache[K, V]) Max() int { return c.max }

func (c *Cache[K, V]) remove(el *list.Element) {
	e := c.order.Remove(el).(*entry[K, V])
	delete(c.items, e.key)
	c.size -= e.cost
}
