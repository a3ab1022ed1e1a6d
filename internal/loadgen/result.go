package loadgen

import (
	"maps"
	"math"
	"slices"
	"time"
)

// tally is what one worker saw; workers merge theirs at the end, so that
// recording needs no lock.
type tally struct {
	latencies []time.Duration
	replaced  int
	errors    map[string]int
	examples  map[string]string
	gaveUp    bool
	// longest is the longest time iterations failed without a success.
	longest time.Duration
}

func (t *tally) outage(d time.Duration) { t.longest = max(t.longest, d) }

func (t *tally) fail(err error) {
	if t.errors == nil {
		t.errors, t.examples = map[string]int{}, map[string]string{}
	}
	k := errorKind(err)
	t.errors[k]++
	if _, ok := t.examples[k]; !ok {
		t.examples[k] = errorDetail(err)
	}
}

// Result is the outcome of a run.
type Result struct {
	// Elapsed is the wall time from the start of the run to the end of its
	// last iteration.
	Elapsed time.Duration
	// Latencies are the times of the complete mobile IDs, shortest first.
	Latencies []time.Duration
	// Replaced is how many of the mobile IDs locked the user's active one
	// first, which revokes its certificates: a user's second and later
	// mobile IDs do, the first does not.
	Replaced int
	// Errors counts the failed iterations by kind, "step: reason";
	// Examples holds the first failure of each kind in full.
	Errors   map[string]int
	Examples map[string]string
	// GaveUp is the number of workers that stopped early after failing
	// without a success for GiveUpAfter.
	GaveUp int
	// LongestFailing is the longest time one worker's iterations failed
	// without a success in between, as during an outage.
	LongestFailing time.Duration
}

func merge(tallies []tally, elapsed time.Duration) *Result {
	r := &Result{Elapsed: elapsed, Errors: map[string]int{}, Examples: map[string]string{}}
	for _, t := range tallies {
		r.Latencies = append(r.Latencies, t.latencies...)
		r.Replaced += t.replaced
		for k, n := range t.errors {
			r.Errors[k] += n
		}
		for k, ex := range t.examples {
			if _, ok := r.Examples[k]; !ok {
				r.Examples[k] = ex
			}
		}
		if t.gaveUp {
			r.GaveUp++
		}
		r.LongestFailing = max(r.LongestFailing, t.longest)
	}
	slices.Sort(r.Latencies)
	return r
}

// MobileIDs is the number of mobile IDs made, start to active.
func (r *Result) MobileIDs() int { return len(r.Latencies) }

// ErrorCount is the number of failed iterations.
func (r *Result) ErrorCount() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// ErrorKinds lists the kinds of failure in order.
func (r *Result) ErrorKinds() []string { return slices.Sorted(maps.Keys(r.Errors)) }

// PerSecond is the number of mobile IDs made per second of the run.
func (r *Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.MobileIDs()) / r.Elapsed.Seconds()
}

// Percentile is the latency that p percent of the mobile IDs took at
// most (nearest rank), or zero when none was made.
func (r *Result) Percentile(p float64) time.Duration {
	n := len(r.Latencies)
	if n == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(n))) - 1
	return r.Latencies[min(max(i, 0), n-1)]
}
