package password

import (
	"context"
	"testing"
	"time"
)

func TestGateSize(t *testing.T) {
	cases := []struct {
		name   string
		memory uint64
		cpus   int
		want   int
	}{
		{"small container", 256 << 20, 8, 3},
		{"tiny container", 32 << 20, 8, 1},
		{"big machine", 64 << 30, 2, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := gateSize(Default, tc.memory, tc.cpus); got != tc.want {
				t.Errorf("gateSize(%d MiB, %d CPUs) = %d, want %d", tc.memory>>20, tc.cpus, got, tc.want)
			}
		})
	}
	if GateFor(Default).Size() < 1 {
		t.Fatal("a gate without slots")
	}
}

// TestGateGivesMemoryBackWhenIdle checks that the gate gives memory back
// once the last hash running ends, not while others still run, and at
// most once a second.
func TestGateGivesMemoryBackWhenIdle(t *testing.T) {
	g := NewGate(2)
	idle := make(chan struct{}, 10)
	g.idle = func() { idle <- struct{}{} }
	ctx := context.Background()
	_ = g.Acquire(ctx)
	_ = g.Acquire(ctx)
	g.Release()
	select {
	case <-idle:
		t.Fatal("memory given back while a hash runs")
	case <-time.After(50 * time.Millisecond):
	}
	g.Release()
	select {
	case <-idle:
	case <-time.After(5 * time.Second):
		t.Fatal("memory not given back once no hash runs")
	}
	_ = g.Acquire(ctx)
	g.Release()
	select {
	case <-idle:
		t.Fatal("memory given back twice within a second")
	case <-time.After(50 * time.Millisecond):
	}
	// Once the second is over, the hash that ended too soon after the
	// last time has its memory given back too.
	select {
	case <-idle:
	case <-time.After(5 * time.Second):
		t.Fatal("memory not given back after the second")
	}
}
