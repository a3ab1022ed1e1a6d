package password

import "testing"

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
