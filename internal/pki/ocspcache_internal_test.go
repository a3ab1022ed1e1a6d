package pki

import (
	"fmt"
	"testing"
)

// TestOCSPCacheBound checks that the cache of signed responses stays within
// its byte budget by forgetting the least recently used response first.
func TestOCSPCacheBound(t *testing.T) {
	answer := func() *ocspAnswer { return &ocspAnswer{der: make([]byte, 400), etag: `"0123456789abcdef"`} }
	one := ocspCost("key-00", answer())
	c := newOCSPCache(10 * one)
	for i := range 10 {
		c.put(fmt.Sprintf("key-%02d", i), answer())
	}
	if c.len() != 10 || c.entries.Size() > c.entries.Max() {
		t.Fatalf("%d responses in %d bytes of %d", c.len(), c.entries.Size(), c.entries.Max())
	}
	c.get("key-00") // now the most recently used
	c.put("key-10", answer())
	if c.get("key-00") == nil || c.get("key-01") != nil || c.get("key-10") == nil {
		t.Error("not the least recently used response was forgotten")
	}
	if c.len() != 10 || c.entries.Size() > c.entries.Max() {
		t.Fatalf("%d responses in %d bytes of %d", c.len(), c.entries.Size(), c.entries.Max())
	}
	// Replacing a response does not count it twice.
	c.put("key-10", answer())
	if c.len() != 10 || c.entries.Size() != 10*one {
		t.Fatalf("after a replacement: %d responses in %d bytes", c.len(), c.entries.Size())
	}
	// A response larger than the whole budget is not kept.
	c.put("huge", &ocspAnswer{der: make([]byte, 20*one)})
	if c.get("huge") != nil || c.len() != 10 {
		t.Error("a response over the budget was kept")
	}
}
