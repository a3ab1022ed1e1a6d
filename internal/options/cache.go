package options

import (
	"crypto/sha256"

	"github.com/lanyard-id/lanyard/internal/lru"
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
type cache = lru.Cache[cacheKey, *program]

func newCache() *cache { return lru.New[cacheKey, *program](cacheSize, nil) }
