package options

import (
	"crypto/sha256"
	"maps"
	"slices"

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

// resultsSize bounds the number of users whose mobile ID options are kept.
const resultsSize = 1024

// resultKeyOf identifies a script, by its key, run for a user: by every
// field of the user a script can read, each ended by a zero byte, which
// no text of a user holds.
func resultKeyOf(script cacheKey, u User) cacheKey {
	h := sha256.New()
	h.Write(script[:])
	for _, s := range []string{u.Username, u.Email, u.CommonName} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	for _, k := range slices.Sorted(maps.Keys(u.Attributes)) {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(u.Attributes[k]))
		h.Write([]byte{0})
	}
	var k cacheKey
	h.Sum(k[:0])
	return k
}

// results keeps the mobile ID options a script gave a user. A script is a
// function of the user alone: Starlark has no clock, no randomness and no
// input, and the engine lets a script load nothing, so the same script
// run for the same user gives the same options. Only runs that succeeded
// are kept.
type results = lru.Cache[cacheKey, MobileID]

func newResults() *results { return lru.New[cacheKey, MobileID](resultsSize, nil) }
