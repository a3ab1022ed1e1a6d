package password

import (
	"bufio"
	"context"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Gate bounds how many hashes run at once. Each argon2id hash holds its
// whole memory cost (19 MiB by default) while it runs, so without a bound
// a burst of logins allocates that many times over, whatever limits
// apply to each account or address.
//
// Once no hash runs, the gate gives their memory back to the system (at
// most once a second): the Go runtime would keep it for a while, and a
// burst of logins would leave the server holding memory that only the
// next burst uses.
type Gate struct {
	slots    chan struct{}
	inFlight atomic.Int64
	peak     atomic.Int64
	// idle runs when the last hash running ends; lastIdle is when it last
	// ran, in Unix nanoseconds.
	idle      func()
	lastIdle  atomic.Int64
	idleLater atomic.Bool // a later run is scheduled
}

// NewGate returns a gate letting n hashes run at once.
func NewGate(n int) *Gate {
	return &Gate{slots: make(chan struct{}, max(n, 1)), idle: debug.FreeOSMemory}
}

// GateFor returns a gate sized for hashes of p: as many as fit in a
// quarter of the memory this process may use, and no more than twice the
// CPUs, since more would only queue for them.
func GateFor(p Params) *Gate {
	return NewGate(gateSize(p, availableMemory(), runtime.GOMAXPROCS(0)))
}

func gateSize(p Params, memory uint64, cpus int) int {
	perHash := uint64(p.Memory)*1024 + 1<<20
	return max(1, min(int(memory/4/perHash), 2*cpus))
}

// Size is how many hashes may run at once.
func (g *Gate) Size() int { return cap(g.slots) }

// Acquire waits for a slot, or returns ctx's error.
func (g *Gate) Acquire(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	n := g.inFlight.Add(1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return nil
}

// Release frees the slot of a finished hash.
func (g *Gate) Release() {
	left := g.inFlight.Add(-1)
	<-g.slots
	if left != 0 || g.idle == nil {
		return
	}
	now, last := time.Now().UnixNano(), g.lastIdle.Load()
	switch wait := last + int64(time.Second) - now; {
	case wait <= 0:
		if g.lastIdle.CompareAndSwap(last, now) {
			g.idle() // before the login answers: a collection, a few ms
		}
	case g.idleLater.CompareAndSwap(false, true):
		// Too soon after the last time: once the second is over, if
		// still no hash runs.
		time.AfterFunc(time.Duration(wait), func() {
			g.idleLater.Store(false)
			if g.inFlight.Load() == 0 {
				g.lastIdle.Store(time.Now().UnixNano())
				g.idle()
			}
		})
	}
}

// Peak is the most hashes that ran at once so far.
func (g *Gate) Peak() int { return int(g.peak.Load()) }

// availableMemory is the least of the Go memory limit, the cgroup's limit
// and the machine's memory, as far as each is known.
func availableMemory() uint64 {
	limit := uint64(math.MaxInt64)
	if l := debug.SetMemoryLimit(-1); l > 0 {
		limit = min(limit, uint64(l))
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			limit = min(limit, v)
		}
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				if kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64); err == nil {
					limit = min(limit, kb*1024)
				}
			}
		}
	}
	if limit == math.MaxInt64 {
		return 1 << 30 // unknown: assume a small machine
	}
	return limit
}
