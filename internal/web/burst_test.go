package web_test

import (
	"crypto/rand"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/web"
)

// heapPeak samples the heap's size until stop is closed and returns the
// largest sample.
func heapPeak(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

func heapNow() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// burst fires n concurrent logins with random usernames, each from the
// address from(i) ("" for the connection's own), and counts the answers
// by status while it measures the heap's growth.
func burst(t *testing.T, p *portal, n int, from func(i int) string) (statuses map[int]int, growth uint64) {
	t.Helper()
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: n}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := heapNow()
	stop := make(chan struct{})
	peak := heapPeak(stop)
	var mu sync.Mutex
	statuses = map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			form := url.Values{"username": {"u" + strings.ToLower(rand.Text()[:10])}, "password": {"guess " + strconv.Itoa(i)}}
			req, _ := http.NewRequest(http.MethodPost, p.URL+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", p.URL)
			if f := from(i); f != "" {
				req.Header.Set("X-Forwarded-For", f)
			}
			<-start
			resp, err := c.Do(req)
			code := -1
			if err == nil {
				resp.Body.Close()
				code = resp.StatusCode
			}
			mu.Lock()
			statuses[code]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	close(stop)
	if p := <-peak; p > base {
		growth = p - base
	}
	return statuses, growth
}

// hashCost is a real argon2id memory cost with one pass, so the burst
// tests measure the memory of real hashes in bearable time.
var hashCost = password.Params{Memory: password.Default.Memory, Time: 1, Threads: 1}

// TestLoginBurstFromOneAddress fires 500 concurrent logins with random
// usernames from one address: no more attempts are checked than the
// address's limit, and the heap grows by no more than the hashes the
// gate lets run at once.
func TestLoginBurstFromOneAddress(t *testing.T) {
	const n, slots = 500, 2
	gate := password.NewGate(slots)
	p := newPortalHashing(t, sqliteDSN(t), hashCost, func(s *web.Server) { s.Hashing = gate })
	p.sessions.Policy = lanyard.DefaultLoginPolicy
	// The clock stands still, so no delay runs out during the burst and
	// lets one more attempt through.
	p.clock.Set(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	statuses, growth := burst(t, p, n, func(int) string { return "" })
	checked := statuses[http.StatusUnauthorized]
	t.Logf("statuses %v; hashes at once at most %d; heap growth %d MiB", statuses, gate.Peak(), growth>>20)
	// A login that finds no free slot in time is told the server is busy.
	if checked > lanyard.DefaultLoginPolicy.AddrFree || checked+statuses[http.StatusTooManyRequests]+statuses[http.StatusServiceUnavailable] != n {
		t.Fatalf("of %d guesses %d were checked, want at most %d and the rest refused: %v", n, checked, lanyard.DefaultLoginPolicy.AddrFree, statuses)
	}
	bound := uint64(64<<20) + 4*slots*uint64(hashCost.Memory)<<10
	if gate.Peak() > slots || growth > bound {
		t.Fatalf("%d hashes at once, heap growth %d MiB; want at most %d and %d MiB", gate.Peak(), growth>>20, slots, bound>>20)
	}
}

// TestLoginBurstFromManyAddresses fires concurrent logins from as many
// addresses through a trusted proxy, so that each may be checked: the gate
// still bounds the hashes at once and the heap.
func TestLoginBurstFromManyAddresses(t *testing.T) {
	const n, slots = 200, 2
	gate := password.NewGate(slots)
	p := newPortalHashing(t, sqliteDSN(t), hashCost, func(s *web.Server) {
		s.Hashing = gate
		s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	p.sessions.Policy = lanyard.DefaultLoginPolicy
	statuses, growth := burst(t, p, n, func(i int) string { return netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}).String() })
	t.Logf("statuses %v; hashes at once at most %d; heap growth %d MiB", statuses, gate.Peak(), growth>>20)
	// A login that finds no free slot in time is told the server is busy.
	if statuses[http.StatusUnauthorized]+statuses[http.StatusServiceUnavailable] != n || statuses[http.StatusUnauthorized] < slots {
		t.Fatalf("statuses %v, want %d wrong passwords or busy answers", statuses, n)
	}
	bound := uint64(64<<20) + 4*slots*uint64(hashCost.Memory)<<10
	if gate.Peak() > slots || growth > bound {
		t.Fatalf("%d hashes at once, heap growth %d MiB; want at most %d and %d MiB", gate.Peak(), growth>>20, slots, bound>>20)
	}
}
