package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Requests is a run of one kind of HTTP request, sent over and over by
// Concurrency workers on kept-alive connections for Duration: how fast a
// server answers one endpoint, such as OCSP, or a bare handler beside it.
type Requests struct {
	// Client sends the requests; its transport should keep at least
	// Concurrency idle connections per host.
	Client *http.Client
	// Concurrency is the number of workers, each with one request in
	// flight at a time.
	Concurrency int
	// Duration bounds the run: no request starts after it.
	Duration time.Duration
	// New returns the nth request of a worker.
	New func(worker, n int) (*http.Request, error)
	// Check looks at an answer's status and body; an error counts the
	// request as failed.
	Check func(worker, n int, resp *http.Response, body []byte) error
}

// RequestsResult is the outcome of a Requests run.
type RequestsResult struct {
	// Elapsed is the time from the start to the end of the last request.
	Elapsed time.Duration
	// Latencies are the times of the successful requests, shortest first.
	Latencies []time.Duration
	// Errors is the number of failed requests; FirstError the first one.
	Errors     int
	FirstError string
}

// PerSecond returns the successful requests per second.
func (r *RequestsResult) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(len(r.Latencies)) / r.Elapsed.Seconds()
}

// Percentile returns the pth percentile of the latencies (0 < p <= 100).
func (r *RequestsResult) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies))*p/100+0.5) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// Run sends the requests until Duration has passed or ctx ends.
func (q Requests) Run(ctx context.Context) *RequestsResult {
	type tally struct {
		lat    []time.Duration
		errors int
		first  string
	}
	tallies := make([]tally, q.Concurrency)
	start := time.Now()
	deadline := start.Add(q.Duration)
	var wg sync.WaitGroup
	for w := range q.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := &tallies[w]
			t.lat = make([]time.Duration, 0, 1<<14)
			for n := 0; ctx.Err() == nil; n++ {
				began := time.Now()
				if began.After(deadline) {
					return
				}
				if err := q.one(ctx, w, n); err != nil {
					if t.errors == 0 {
						t.first = err.Error()
					}
					t.errors++
					continue
				}
				t.lat = append(t.lat, time.Since(began))
			}
		}()
	}
	wg.Wait()
	r := &RequestsResult{Elapsed: time.Since(start)}
	for _, t := range tallies {
		r.Latencies = append(r.Latencies, t.lat...)
		if t.errors > 0 && r.Errors == 0 {
			r.FirstError = t.first
		}
		r.Errors += t.errors
	}
	slices.Sort(r.Latencies)
	return r
}

// one sends one request and checks its answer, read to the end so that
// the connection is kept.
func (q Requests) one(ctx context.Context, worker, n int) error {
	req, err := q.New(worker, n)
	if err != nil {
		return err
	}
	resp, err := q.Client.Do(req.WithContext(ctx))
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	return q.Check(worker, n, resp, body)
}
