package pki

import (
	"sync"
	"time"
)

// requestSerials maps the DER of requests a pre-signed response answers
// to their serial. A request always asks about the same serial, so the
// map is never wrong, only bounded: when full, it starts again.
type requestSerials struct {
	mu sync.RWMutex
	m  map[string]string
}

// maxRequestSerials bounds the map: some 8 MB at 160 bytes an entry.
const maxRequestSerials = 50_000

func (r *requestSerials) get(der []byte) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.m[string(der)]
	return s, ok
}

func (r *requestSerials) put(der []byte, serial string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || len(r.m) >= maxRequestSerials {
		r.m = make(map[string]string)
	}
	r.m[string(der)] = serial
}

// tokenBucket allows rate events per second, with a burst of as many.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newTokenBucket(rate int, now func() time.Time) *tokenBucket {
	return &tokenBucket{rate: float64(rate), tokens: float64(rate), last: now(), now: now}
}

// take reports whether an event is allowed now, and counts it if so.
func (b *tokenBucket) take() bool {
	if b.rate <= 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.rate, b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
