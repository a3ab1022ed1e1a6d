package lru_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/lanyard-id/lanyard/internal/lru"
)

// TestCountBound: with no cost function each entry counts one; the least
// recently used goes first, and a replaced entry is not counted twice.
func TestCountBound(t *testing.T) {
	c := lru.New[string, int](3, nil)
	c.Put("a", 1)
	c.Put("b", 2)
	c.Put("c", 3)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("a: %d, %t", v, ok)
	}
	c.Put("d", 4) // b is the least recently used
	if _, ok := c.Get("b"); ok {
		t.Error("b was kept over the bound")
	}
	c.Put("d", 5)
	if v, _ := c.Get("d"); v != 5 || c.Len() != 3 || c.Size() != 3 {
		t.Errorf("after replacing d: %d, %d entries costing %d", v, c.Len(), c.Size())
	}
	c.Remove("a", "nothing")
	if _, ok := c.Get("a"); ok || c.Len() != 2 {
		t.Error("a was not removed")
	}
	c.Clear()
	if c.Len() != 0 || c.Size() != 0 {
		t.Errorf("after Clear: %d entries costing %d", c.Len(), c.Size())
	}
}

// TestCostBound: entries charged by size stay within the budget, and one
// over the whole budget is not kept.
func TestCostBound(t *testing.T) {
	c := lru.New(100, func(k string, v []byte) int { return len(k) + len(v) })
	for i := range 20 {
		c.Put(fmt.Sprintf("k%02d", i), make([]byte, 7)) // 10 each
	}
	if c.Len() != 10 || c.Size() != 100 {
		t.Fatalf("%d entries costing %d of %d", c.Len(), c.Size(), c.Max())
	}
	if _, ok := c.Get("k09"); ok {
		t.Error("an old entry was kept")
	}
	c.Put("huge", make([]byte, 200))
	if _, ok := c.Get("huge"); ok || c.Len() != 10 {
		t.Error("an entry over the budget was kept")
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				k := fmt.Sprintf("g%d-%d", g, i%30)
				c.Put(k, make([]byte, i%20))
				c.Get(k)
			}
		})
	}
	wg.Wait()
	if c.Size() > c.Max() {
		t.Fatalf("%d over the budget of %d", c.Size(), c.Max())
	}
}

// TestTake checks that Take returns an entry once and forgets it.
func TestTake(t *testing.T) {
	c := lru.New[string, int](2, nil)
	c.Put("a", 1)
	if v, ok := c.Take("a"); !ok || v != 1 {
		t.Fatalf("take: %d, %t", v, ok)
	}
	if _, ok := c.Take("a"); ok || c.Len() != 0 {
		t.Fatalf("taken twice, or kept: %d entries", c.Len())
	}
}
