package pki

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// crlMinInterval is the shortest time between two rounds of CRLs an
// instance publishes for status changes: under a burst of revocations the
// changes of one interval share one CRL per shard. OCSP answers from the
// database and reflects every change at once.
const crlMinInterval = 2 * time.Second

// completeCRLCostShare bounds the time the complete CRL takes: after a
// build that took d, the next one for status changes waits at least
// completeCRLCostShare×d, so making it takes at most one part in
// completeCRLCostShare+1 of one core however many revocations it lists:
// with 100,000 entries about 2% of the CPU a burst of replacements takes.
// With a million entries that is one complete CRL every few minutes; the
// shards, which certificates name, are published within crlMinInterval.
const completeCRLCostShare = 50

// crlSchedule spaces this instance's CRLs. Whether a CRL is owed is not
// kept here but in the database (the generations), so a CRL owed by an
// instance that crashed is published by the next one that looks.
type crlSchedule struct {
	mu        sync.Mutex
	scheduled bool      // a timer will publish
	last      time.Time // when this instance last published
	timer     *time.Timer
	running   sync.WaitGroup // the timer's publishing, for Close to wait for
	closed    bool

	// completeCost is how long the last complete CRL took to make, and
	// completeSize its size, the next one's first guess.
	completeCost time.Duration
	completeSize int
}

// Close publishes the CRLs that are owed and stops scheduling more, as a
// server that shuts down does. Call it before the database closes.
func (ca *CA) Close() {
	ca.stopPresigned()
	s := &ca.crl
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	if s.timer != nil && s.timer.Stop() {
		s.scheduled = false
		s.running.Done()
	}
	s.mu.Unlock()
	s.running.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ca.PublishOwedCRL(ctx); err != nil {
		slog.Error("publish CRLs at shutdown", "err", err)
	}
}

func (s *crlSchedule) published() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = time.Now()
}

func (s *crlSchedule) completeBuilt(cost time.Duration, size int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.completeCost, s.completeSize = cost, size
}

// completeInterval is the least time between a complete CRL and the next
// one made for status changes.
func (s *crlSchedule) completeInterval() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(crlMinInterval, completeCRLCostShare*s.completeCost)
}

// StatusChanged has the CRLs owed after certificate statuses changed
// published in the background, never in the caller's request: at once
// when this instance published none within crlMinInterval, else once at
// the end of the interval for every change made meanwhile, and again when
// the complete CRL, held back by its rate, falls due. A CRL that fails is
// logged: the change is committed, OCSP reflects it, the CRL stays owed in
// the database, and the periodic work publishes it.
func (ca *CA) StatusChanged(ctx context.Context) {
	ca.schedulePublish(context.WithoutCancel(ctx), crlMinInterval)
}

// schedulePublish has publishCRLs run once, no sooner than after this
// instance last published plus spacing.
func (ca *CA) schedulePublish(ctx context.Context, spacing time.Duration) {
	s := &ca.crl
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.scheduled || s.closed {
		return
	}
	s.scheduled = true
	s.running.Add(1)
	s.timer = time.AfterFunc(max(spacing-time.Since(s.last), 0), func() {
		defer s.running.Done()
		s.mu.Lock()
		s.scheduled = false
		s.mu.Unlock()
		due, err := ca.publishCRLs(ctx, false)
		if err != nil {
			slog.Error("publish CRLs after status changes", "err", err)
		}
		if !due.IsZero() {
			ca.schedulePublish(ctx, time.Until(due)+time.Second)
		}
	})
}
