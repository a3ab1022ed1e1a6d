package options_test

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/options"
)

// heapPeakDuring runs fn while it samples the heap and returns how far the
// heap grew above where it stood before.
func heapPeakDuring(fn func()) uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	base := s[0].Value.Uint64()
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		var peak uint64
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				done <- peak
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	if peak := <-done; peak > base {
		return peak - base
	}
	return 0
}

// TestMemoryHungryScripts runs scripts that each try to allocate far
// more than a script may, in one step or in many: each fails with a clear
// message, and the heap stays within a bound.
func TestMemoryHungryScripts(t *testing.T) {
	const bound = 256 << 20
	tests := []struct{ name, body, want string }{
		{"list repeat", "_x = [None] * (1 << 29)", "a list may have at most"},
		{"string repeat", `_x = "x" * (1 << 30)`, "a string may have at most"},
		{"string doubling", "_s = \"x\"\nfor _i in range(64):\n    _s = _s + _s", "a string may have at most"},
		{"augmented doubling", "_s = [1]\nfor _i in range(64):\n    _s += _s", "a list may have at most"},
		{"extend doubling", "_s = [1]\nfor _i in range(64):\n    _s.extend(_s)", "a list may have at most"},
		{"integer squaring", "_n = 3\nfor _i in range(64):\n    _n = _n * _n", "an integer may have at most"},
		{"integer shifting", "_n = 3\nfor _i in range(100000):\n    _n = _n << 500", "an integer may have at most"},
		{"list of a long range", "_x = list(range(1 << 30))", "a built-in may walk at most"},
		{"join", "_x = \"x\" * 100000\n_y = \"\".join([_x] * 100000)", "a string may have at most"},
		{"replace", "_x = \"x\" * 100000\n_y = _x.replace(\"x\", _x)", "a string may have at most"},
		{"format", "_x = \"x\" * 100000\n_y = (\"{0}\" * 1000).format(_x)", "a string may have at most"},
		{"percent", "_x = \"x\" * 100000\n_y = (\"%s\" * 1000) % tuple([_x] * 1000)", "a string may have at most"},
		{"str of shared strings", "_x = \"x\" * 100000\n_y = str([_x] * 100000)", "a string may have at most"},
		{"many strings under the limit", "_keep = []\nfor _i in range(100000):\n    _keep.append(\"x\" * 1000000 + str(_i))", "memory limit of 64 MiB"},
		{"many slices", "_l = [None] * 100000\n_keep = []\nfor _i in range(100000):\n    _keep.append(_l[1:])", "memory limit of 64 MiB"},
		{"only for one user", "_x = [None] * (1 << 29) if user.username == \"alice\" else None", "a list may have at most"},
	}
	// Time enough for the memory limit to stop a script first on a slow
	// machine or under the race detector.
	e := options.New(options.Config{Timeout: time.Minute})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := replace(t, options.DefaultGetScript, "validity_years = 2", tt.body+"\nvalidity_years = 2")
			var err error
			grown := heapPeakDuring(func() { err = e.Validate(options.MobileIDSelfServiceProcGet, src, alice) })
			mustInvalid(t, err, tt.want)
			t.Logf("%s: heap grew %d MiB", tt.name, grown>>20)
			if grown > bound {
				t.Errorf("the heap grew by %d MiB, more than %d", grown>>20, bound>>20)
			}
		})
	}
}

// TestGuardsKeepScriptsWorking checks that the rewritten operators keep
// their meaning.
func TestGuardsKeepScriptsWorking(t *testing.T) {
	body := `_l = [1, 2]
_l += [3]
_alias = _l
_alias += [4]
_s = "a" + "b" * 2 + "%s-%d" % ("c", 5) + "{}".format("d") + ",".join(["e", "f"]) + "xyz"[1:] + "x".replace("x", "yy")
_n = 2 * 3 + (1 << 4) % 7
_d = {"k": [1]}
_d["k"] += [2]
validity_years = len(_l) - 2 + (0 if _s == "abbc-5de,fyzyy" and _n == 8 and _d["k"] == [1, 2] and _alias == [1, 2, 3, 4] else 100)`
	src := replace(t, options.DefaultGetScript, "validity_years = 2", body)
	res, err := options.New(options.Config{}).MobileID(options.MobileIDSelfServiceProcGet, src, alice)
	if err != nil {
		t.Fatal(err)
	}
	if res.ValidityYears != 2 {
		t.Fatalf("validity_years = %d, want 2", res.ValidityYears)
	}
}
