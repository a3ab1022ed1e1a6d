package pki

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// crlMinInterval is the shortest time between two CRLs published for status
// changes. A CRL lists every revoked certificate, so making one per
// revocation costs time in proportion to all revocations so far; under a
// burst of revocations (a user locked with many certificates, a wave of new
// mobile IDs replacing old ones) the changes of one interval share one CRL.
// OCSP answers from the database and reflects every change at once.
const crlMinInterval = 2 * time.Second

// crlSchedule remembers whether this instance owes a CRL.
type crlSchedule struct {
	mu        sync.Mutex
	dirty     bool      // a status changed after the last CRL of this instance
	scheduled bool      // a timer will publish it
	last      time.Time // when this instance last published a CRL
	timer     *time.Timer
	closed    bool
}

// Close publishes the CRL this instance owes and stops scheduling more, as
// a server that shuts down does. Call it before the database closes.
func (ca *CA) Close() {
	s := &ca.crl
	s.mu.Lock()
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ca.flushCRL(ctx); err != nil {
		slog.Error("publish CRL at shutdown", "err", err)
	}
}

func (s *crlSchedule) published() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = time.Now()
}

// statusChanged publishes a CRL for a status change: at once when none was
// published within crlMinInterval, else once at the end of the interval
// for every change made meanwhile. A CRL that fails is logged: the change
// is committed, OCSP reflects it, and the scheduled refresh publishes it.
func (ca *CA) statusChanged(ctx context.Context) {
	s := &ca.crl
	s.mu.Lock()
	s.dirty = true
	wait := crlMinInterval - time.Since(s.last)
	if s.scheduled || s.closed {
		s.mu.Unlock()
		return
	}
	if wait > 0 {
		s.scheduled = true
		s.timer = time.AfterFunc(wait, func() {
			if err := ca.flushCRL(context.WithoutCancel(ctx)); err != nil {
				slog.Error("publish CRL after status changes", "err", err)
			}
		})
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	if err := ca.flushCRL(ctx); err != nil {
		slog.Error("publish CRL after a status change", "err", err)
	}
}

// flushCRL publishes the CRL this instance owes, if any. Serving the CRL
// flushes first, so a relying party asking this instance right after a
// revocation gets a CRL that lists it.
func (ca *CA) flushCRL(ctx context.Context) error {
	s := &ca.crl
	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		return nil
	}
	s.dirty, s.scheduled = false, false
	s.mu.Unlock()
	if err := ca.RefreshCRL(ctx); err != nil {
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		return err
	}
	return nil
}
