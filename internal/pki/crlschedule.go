package pki

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// crlMinInterval is the shortest time between two CRLs an instance
// publishes for status changes. A CRL lists every revoked certificate, so
// making one per revocation costs time in proportion to all revocations so
// far; under a burst of revocations the changes of one interval share one
// CRL. OCSP answers from the database and reflects every change at once.
const crlMinInterval = 2 * time.Second

// crlSchedule spaces this instance's CRLs. Whether a CRL is owed is not
// kept here but in the database (Store.CRLOwed), so a CRL owed by an
// instance that crashed is published by the next one that looks.
type crlSchedule struct {
	mu        sync.Mutex
	scheduled bool      // a timer will publish
	last      time.Time // when this instance last published a CRL
	timer     *time.Timer
	closed    bool
}

// Close publishes a CRL that is owed and stops scheduling more, as a
// server that shuts down does. Call it before the database closes.
func (ca *CA) Close() {
	ca.stopPresigned()
	s := &ca.crl
	s.mu.Lock()
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ca.PublishOwedCRL(ctx); err != nil {
		slog.Error("publish CRL at shutdown", "err", err)
	}
}

func (s *crlSchedule) published() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = time.Now()
}

// StatusChanged publishes the CRL owed after certificate statuses changed:
// at once when this instance published none within crlMinInterval, else
// once at the end of the interval for every change made meanwhile. A CRL
// that fails is logged: the change is committed, OCSP reflects it, the CRL
// stays owed in the database, and the periodic job publishes it.
func (ca *CA) StatusChanged(ctx context.Context) {
	s := &ca.crl
	s.mu.Lock()
	wait := crlMinInterval - time.Since(s.last)
	if s.scheduled || s.closed {
		s.mu.Unlock()
		return
	}
	if wait > 0 {
		s.scheduled = true
		s.timer = time.AfterFunc(wait, func() {
			s.mu.Lock()
			s.scheduled = false
			s.mu.Unlock()
			if err := ca.PublishOwedCRL(context.WithoutCancel(ctx)); err != nil {
				slog.Error("publish CRL after status changes", "err", err)
			}
		})
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	if err := ca.PublishOwedCRL(ctx); err != nil {
		slog.Error("publish CRL after a status change", "err", err)
	}
}

// PublishOwedCRL publishes a CRL when a status changed after the latest
// one, on whichever instance changed it. Serving the CRL calls it first,
// so a relying party asking right after a revocation gets a CRL that lists
// it, and the server runs it at start and every few seconds, so a CRL owed
// by an instance that stopped is published by another.
func (ca *CA) PublishOwedCRL(ctx context.Context) error {
	ca.crlMu.Lock()
	defer ca.crlMu.Unlock()
	owed, err := ca.store.CRLOwed(ctx)
	if err != nil || !owed {
		return err
	}
	return ca.refreshCRL(ctx)
}
