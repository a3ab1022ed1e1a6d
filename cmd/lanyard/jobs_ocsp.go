package main

import (
	"context"
	"time"
)

// signAheadInterval is how often an instance offers to sign OCSP responses
// ahead; one instance of a cluster does at a time, and a run finds the
// responses that are an hour old, so every response is signed again well
// before it is two hours old, when it stops being served.
const signAheadInterval = time.Minute

// signAheadOCSP runs the CA's sign-ahead job at the start and then every
// signAheadInterval until ctx ends, beside the other jobs: after an
// upgrade, its first run signs every certificate's response once.
func (a *app) signAheadOCSP(ctx context.Context) {
	t := time.NewTicker(signAheadInterval)
	defer t.Stop()
	for {
		if n, err := a.ca.SignAheadOCSP(ctx); err != nil && ctx.Err() == nil {
			a.logger.Error("sign OCSP responses ahead", "err", err)
		} else if n > 0 {
			a.logger.Info("signed OCSP responses ahead", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
