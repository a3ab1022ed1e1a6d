package pki

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lanyard-id/lanyard"
)

// CRLs are partitioned by time, as the large public CAs do ("temporal
// sharding"): a certificate's shard is the UTC day its validity ends, fixed
// when it is issued and named in its CRL distribution point. A shard
// stops growing once the certificates of its day are issued, and empties
// when they expire, so no CRL grows with the CA's history: a shard lists
// the revocations among one day's expiring certificates, and the complete
// CRL everything not yet expired. A scheme by issue order with a fixed
// capacity would bound each shard's size as well, but needs a counter
// every issuance writes and keeps shards whose certificates expire at
// different times; by notAfter, the shard is known from the certificate
// alone and disappears in one piece.
const crlShardLayout = "20060102"

// crlAttempts bounds the retries when another instance published a CRL
// with the same number at the same moment.
const crlAttempts = 5

// crlShard names the shard of a certificate valid until notAfter.
func crlShard(notAfter time.Time) string { return notAfter.UTC().Format(crlShardLayout) }

// crlShardEnd returns when the last certificate of shard expires, and
// whether shard is a shard's name at all.
func crlShardEnd(shard string) (time.Time, bool) {
	day, err := time.Parse(crlShardLayout, shard)
	if err != nil || len(shard) != len(crlShardLayout) {
		return time.Time{}, false
	}
	return day.AddDate(0, 0, 1), true
}

// CRLShardURL returns the address of shard's CRL, as the certificates of
// the shard name it in their CRL distribution point and its CRL in its
// Issuing Distribution Point.
func (ca *CA) CRLShardURL(shard string) string { return ca.cfg.PublicURL + "/pki/crl/" + shard }

// RefreshCRL signs and publishes a new complete CRL of the issuing CA now:
// every revoked or held certificate that has not expired, with a CRL
// number one higher than the last and nextUpdate CRLValidity later. The
// CRL is stored in the database, so every instance serves the same bytes.
func (ca *CA) RefreshCRL(ctx context.Context) error {
	ca.completeMu.Lock()
	defer ca.completeMu.Unlock()
	return ca.refreshCompleteCRL(ctx)
}

// refreshCompleteCRL is RefreshCRL with completeMu held.
func (ca *CA) refreshCompleteCRL(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		started := time.Now()
		// The number is read before the revocations, so a CRL with a higher
		// number never reflects an older state than one with a lower number.
		number := int64(1)
		latest, err := ca.store.LatestCRLHeader(ctx)
		if err == nil {
			number = latest.Number + 1
		} else if lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
			return err
		}
		// The generation is read before the revocations too: every change
		// it counts has committed, so the CRL lists it.
		covers, err := ca.store.CRLGeneration(ctx)
		if err != nil {
			return err
		}
		size := ca.crl.completeSize
		if held := ca.crlCache.get(""); held != nil {
			size = max(size, len(held.DER))
		}
		rec, err := ca.buildCRL(ctx, "", number, covers, size)
		if err != nil {
			return err
		}
		err = ca.store.InsertCRL(ctx, rec)
		if lanyard.ErrorCode(err) == lanyard.ECONFLICT && attempt < crlAttempts {
			continue
		} else if err != nil {
			return fmt.Errorf("publish CRL: %w", err)
		}
		ca.crlCache.put(rec)
		ca.crl.completeBuilt(time.Since(started), len(rec.DER))
		ca.crl.published() // the next round for status changes waits its interval
		return nil
	}
}

// publishShard signs and publishes the next CRL of shard, whose latest so
// far has number latest (0: none).
func (ca *CA) publishShard(ctx context.Context, shard string, latest int64) error {
	for attempt := 1; ; attempt++ {
		covers, err := ca.store.CRLShardGeneration(ctx, shard)
		if err != nil {
			return err
		}
		size := 0
		if held := ca.crlCache.get(shard); held != nil {
			size = len(held.DER)
		}
		rec, err := ca.buildCRL(ctx, shard, latest+1, covers, size)
		if err != nil {
			return err
		}
		err = ca.store.PublishShardCRL(ctx, rec)
		if lanyard.ErrorCode(err) == lanyard.ECONFLICT && attempt < crlAttempts {
			// Another instance published this number: go on from its.
			other, ferr := ca.store.FindShardCRL(ctx, shard)
			if ferr != nil {
				return ferr
			}
			ca.crlCache.put(other)
			latest = other.Number
			continue
		} else if err != nil {
			return fmt.Errorf("publish CRL of shard %s: %w", shard, err)
		}
		ca.crlCache.put(rec)
		return nil
	}
}

// buildCRL reads the revocations of shard ("" for all) and signs its CRL
// with the given number; sizeHint is the size of the last such CRL.
func (ca *CA) buildCRL(ctx context.Context, shard string, number, covers int64, sizeHint int) (*CRLRecord, error) {
	now := ca.now().Truncate(time.Second)
	cb := newCRLBuilder(sizeHint + sizeHint/8)
	if err := ca.store.EachRevoked(ctx, shard, now, cb.add); err != nil {
		return nil, err
	}
	f := crlFields{number: number, thisUpdate: now, nextUpdate: now.Add(ca.cfg.CRLValidity)}
	if shard != "" {
		f.idp = ca.CRLShardURL(shard)
	}
	der, err := cb.finish(ca, f)
	if err != nil {
		return nil, err
	}
	return &CRLRecord{Shard: shard, Number: number, ThisUpdate: now, NextUpdate: f.nextUpdate, Covers: covers, DER: der}, nil
}

// RefreshCRLIfStale publishes a complete CRL when there is none or the
// latest is past half its validity, as after a long stop. It reads the
// latest's header only: the CRL itself, tens of megabytes at a million
// entries, is read into memory when first asked for.
func (ca *CA) RefreshCRLIfStale(ctx context.Context) error {
	latest, err := ca.store.LatestCRLHeader(ctx)
	if err == nil && ca.now().Before(latest.ThisUpdate.Add(ca.cfg.CRLValidity/2)) {
		return nil
	} else if err != nil && lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
		return err
	}
	return ca.RefreshCRL(ctx)
}

// PublishOwedCRL publishes at once every CRL owed: each shard whose
// certificates changed status since its latest CRL, and the complete CRL
// if any status changed since it, regardless of how recently the complete
// CRL was made. The server runs it at start and at shutdown; the periodic
// work runs PublishCRLs instead.
func (ca *CA) PublishOwedCRL(ctx context.Context) error {
	_, err := ca.publishCRLs(ctx, true)
	return err
}

// PublishCRLs does the CRL work that is due, in the background, on
// whichever instance runs it: it publishes the CRL of every shard owed
// (a status changed since its latest, or the latest is past half its
// validity, or it has none yet), forgets shards whose certificates have
// all expired, publishes the complete CRL when it is owed and its rate
// allows (see completeInterval) or past half its validity, and loads into
// memory the CRLs another instance published. The server runs it every
// few seconds, so a CRL owed by an instance that stopped is published by
// another.
func (ca *CA) PublishCRLs(ctx context.Context) error {
	_, err := ca.publishCRLs(ctx, false)
	return err
}

// publishCRLs is PublishCRLs, publishing the owed complete CRL at once if
// force is set. It returns when the complete CRL, owed but held back by
// its rate, is due (zero if it is not owed).
func (ca *CA) publishCRLs(ctx context.Context, force bool) (time.Time, error) {
	defer ca.crl.published()
	err := ca.publishShards(ctx)
	due, cerr := ca.publishCompleteCRL(ctx, ca.now(), force)
	return due, errors.Join(err, cerr)
}

// publishShards publishes the CRL of every shard that is owed, forgets
// the shards that expired, and loads what other instances published.
func (ca *CA) publishShards(ctx context.Context) error {
	ca.crlMu.Lock()
	defer ca.crlMu.Unlock()
	shards, err := ca.store.CRLShards(ctx)
	if err != nil {
		return err
	}
	now := ca.now()
	var errs []error
	for _, st := range shards {
		end, ok := crlShardEnd(st.Shard)
		switch {
		case ok && now.After(end.Add(ca.cfg.CRLValidity)):
			// Its certificates expired before its latest CRL's nextUpdate
			// passed: nothing is left to list or to ask for.
			if err := ca.store.DeleteCRLShard(ctx, st.Shard); err != nil {
				errs = append(errs, err)
			}
			ca.crlCache.drop(st.Shard)
		case st.Number == 0 || st.Generation > st.Covers || !now.Before(st.ThisUpdate.Add(ca.cfg.CRLValidity/2)):
			if err := ca.publishShard(ctx, st.Shard, st.Number); err != nil {
				errs = append(errs, err)
			}
		case ca.crlCache.number(st.Shard) < st.Number:
			if err := ca.loadCRL(ctx, st.Shard); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// publishCompleteCRL publishes the complete CRL if it is due, or loads the
// latest into memory if another instance published it. It returns when an
// owed complete CRL held back by its rate is due. Unless force is set, it
// leaves the work to a complete CRL this instance is making already.
func (ca *CA) publishCompleteCRL(ctx context.Context, now time.Time, force bool) (time.Time, error) {
	if force {
		ca.completeMu.Lock()
	} else if !ca.completeMu.TryLock() {
		return now.Add(crlMinInterval), nil // look again once it is made
	}
	defer ca.completeMu.Unlock()
	latest, err := ca.store.LatestCRLHeader(ctx)
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		return time.Time{}, ca.refreshCompleteCRL(ctx)
	} else if err != nil {
		return time.Time{}, err
	}
	owed, err := ca.store.CRLOwed(ctx)
	if err != nil {
		return time.Time{}, err
	}
	due := latest.ThisUpdate.Add(ca.crl.completeInterval())
	switch {
	case !now.Before(latest.ThisUpdate.Add(ca.cfg.CRLValidity / 2)), owed && (force || !now.Before(due)):
		if err := ca.refreshCompleteCRL(ctx); err != nil {
			return time.Time{}, err
		}
		// Changes made while it was being made are owed by the next.
		if owed, err := ca.store.CRLOwed(ctx); err != nil || !owed {
			return time.Time{}, err
		}
		return ca.crlCache.get("").ThisUpdate.Add(ca.crl.completeInterval()), nil
	case ca.crlCache.number("") < latest.Number:
		if err := ca.loadCRL(ctx, ""); err != nil {
			return time.Time{}, err
		}
	}
	if owed {
		return due, nil
	}
	return time.Time{}, nil
}

// loadCRL reads the latest CRL of shard ("" for the complete CRL) into
// memory.
func (ca *CA) loadCRL(ctx context.Context, shard string) error {
	var rec *CRLRecord
	var err error
	if shard == "" {
		rec, err = ca.store.LatestCRL(ctx)
	} else {
		rec, err = ca.store.FindShardCRL(ctx, shard)
	}
	if err != nil {
		return err
	}
	ca.crlCache.put(rec)
	return nil
}

// CRL returns the latest complete CRL, as GET /pki/crl serves it: from
// memory, or from the database if this instance holds none yet. It never
// makes one; Open makes the first.
func (ca *CA) CRL(ctx context.Context) (*CRLRecord, error) {
	return ca.cachedCRL(ctx, "")
}

// ShardCRL returns the latest CRL of shard, as GET /pki/crl/{shard} serves
// it: from memory, or from the database if another instance published it
// since this one last looked. A shard no certificate names is ENOTFOUND;
// so is, without a look in the database, a name no shard can have now (not
// a day, or a day whose certificates expired longer ago than a shard is
// kept, or beyond the longest validity).
func (ca *CA) ShardCRL(ctx context.Context, shard string) (*CRLRecord, error) {
	end, ok := crlShardEnd(shard)
	now := ca.now()
	if !ok || now.After(end.Add(ca.cfg.CRLValidity)) || end.After(now.AddDate(lanyard.MaxValidityYears, 0, 2)) {
		return nil, lanyard.Errorf(lanyard.ENOTFOUND, "There is no CRL shard %q.", shard)
	}
	return ca.cachedCRL(ctx, shard)
}

// cachedCRL returns the CRL of shard held in memory, reading it from the
// database if none is. Requests that miss at once read it once.
func (ca *CA) cachedCRL(ctx context.Context, shard string) (*CRLRecord, error) {
	if rec := ca.crlCache.get(shard); rec != nil {
		return rec, nil
	}
	ca.crlLoadMu.Lock()
	defer ca.crlLoadMu.Unlock()
	if rec := ca.crlCache.get(shard); rec != nil {
		return rec, nil
	}
	if err := ca.loadCRL(ctx, shard); err != nil {
		return nil, err
	}
	return ca.crlCache.get(shard), nil
}
