package main

import (
	"context"
	"time"

	"github.com/lanyard-id/lanyard/internal/mail"
)

// runJobs runs the background work of an instance until ctx ends: mail
// (when SMTP is configured), keys recovered onto new devices, expired
// activation codes, the CRLs owed or due for refresh, the audit log's
// chain and search terms, what a stopped
// server left half done, expiry reminders, and the audit log's signed
// checkpoints (every minute there are new events, and at shutdown). Every job is safe to run on several instances at
// once: each claims its work in the database.
func (a *app) runJobs(ctx context.Context, sender *mail.Sender) {
	fast := time.NewTicker(2 * time.Second)
	defer fast.Stop()
	medium := time.NewTicker(time.Minute)
	defer medium.Stop()
	a.checkpointAudit(ctx)
	go a.signAheadOCSP(ctx)
	for {
		select {
		case <-ctx.Done():
			// The events of the last minute get their checkpoint too.
			stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			a.checkpointAudit(stopCtx)
			cancel()
			return
		case <-fast.C:
			if sender != nil {
				if _, _, err := sender.SendDue(ctx); err != nil {
					a.logger.Error("deliver mail", "err", err)
				}
			}
			if n, err := a.mobile.RunRecoveries(ctx); err != nil {
				a.logger.Error("recover keys", "err", err)
			} else if n > 0 {
				a.logger.Info("recovered keys onto new devices", "mobile_ids", n)
			}
			// Whichever instance changed a status, the CRLs it owes
			// are in the database, so any instance publishes them; and
			// each loads those another published, to serve from memory.
			if err := a.ca.PublishCRLs(ctx); err != nil {
				a.logger.Error("publish the CRLs owed", "err", err)
			}
			// The audit log's events chained (on PostgreSQL, those
			// committed since), and their search terms, a few seconds'
			// events at a time: a search reads the newest from the log
			// meanwhile.
			if _, err := a.db.IndexAuditTerms(ctx); err != nil {
				a.logger.Error("index the audit log", "err", err)
			}
			if n, err := a.db.ExpireEnrollments(ctx); err != nil {
				a.logger.Error("expire activation codes", "err", err)
			} else if n > 0 {
				a.logger.Info("activation codes expired", "count", n)
			}
		case <-medium.C:
			a.checkpointAudit(ctx)
			if n, err := a.mobile.CleanUpInterrupted(ctx); err != nil {
				a.logger.Error("repair what was left half done", "err", err)
			} else if n > 0 {
				a.logger.Warn("repaired what was left half done", "count", n)
			}
			if n, err := a.mobile.SendExpiryReminders(ctx); err != nil {
				a.logger.Error("send expiry reminders", "err", err)
			} else if n > 0 {
				a.logger.Info("queued expiry reminders", "count", n)
			}
		}
	}
}
