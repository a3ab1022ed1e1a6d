package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
)

// DueMail is a mail claimed for one delivery attempt.
type DueMail struct {
	ID       int64
	Attempts int
	// MessageID is the mail's Message-ID (without angle brackets and
	// domain), the same at every attempt.
	MessageID string
	// Claim names this attempt; only it records the result.
	Claim string
	// Unsure reports that an earlier attempt started and recorded no
	// result: it may have delivered the mail already.
	Unsure bool
	Mail   *lanyard.Mail
}

// claimAttempts bounds the retries when another instance claimed the mail
// found due first.
const claimAttempts = 5

// ClaimMail claims the next due mail for one delivery attempt of at most
// lease: another instance does not take it until the lease ends, so on a
// cluster each mail is sent by one instance at a time, however slow the
// SMTP server, as long as an attempt ends within its lease. A crash during
// delivery leaves the mail to be retried when the lease ends, marked
// Unsure: nothing accepted is lost. No mail due is ENOTFOUND.
func (o *Outbox) ClaimMail(ctx context.Context, lease time.Duration) (*DueMail, error) {
	for range claimAttempts {
		var d *DueMail
		err := o.db.inTx(ctx, func(tx *Tx) error {
			var err error
			d, err = tx.claimMail(ctx, lease)
			return err
		})
		switch {
		case err != nil:
			return nil, fmt.Errorf("claim due mail: %w", err)
		case d == nil:
			continue // another instance was quicker
		case d.ID == 0:
			return nil, lanyard.Errorf(lanyard.ENOTFOUND, "No mail is due.")
		}
		_, m, err := o.FindMail(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		d.Mail = m
		return d, nil
	}
	return nil, lanyard.Errorf(lanyard.ENOTFOUND, "No mail is due.")
}

// claimMail claims one due mail in tx: a DueMail with ID 0 when none is
// due, nil when another instance claimed the one found first.
func (tx *Tx) claimMail(ctx context.Context, lease time.Duration) (*DueMail, error) {
	skip := ""
	if tx.db.dialect == Postgres {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	var d DueMail
	var since int64
	err := tx.queryRow(ctx, `SELECT id, attempts, message_id, sending_since FROM outbox WHERE sent_at = 0 AND next_attempt_at <= ?
		ORDER BY next_attempt_at, id LIMIT 1`+skip, encodeTime(tx.now)).Scan(&d.ID, &d.Attempts, &d.MessageID, &since)
	if errNoRows(err) {
		return &DueMail{}, nil
	} else if err != nil {
		return nil, err
	}
	d.Claim, d.Unsure = rand.Text(), since != 0
	if d.MessageID == "" {
		d.MessageID = "lanyard." + strconv.FormatInt(d.ID, 10) + "." + strings.ToLower(rand.Text())
	}
	res, err := tx.exec(ctx, `UPDATE outbox SET next_attempt_at = ?, claim = ?, sending_since = ?, message_id = ?
		WHERE id = ? AND sent_at = 0 AND next_attempt_at <= ?`,
		encodeTime(tx.now.Add(lease)), d.Claim, encodeTime(tx.now), d.MessageID, d.ID, encodeTime(tx.now))
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, nil
	}
	if d.Unsure {
		err := tx.insertAudit(ctx, lanyard.SystemActor, "mail.resend", strconv.FormatInt(d.ID, 10), fmt.Sprintf(
			"an attempt started %s recorded no result and may have delivered the mail; sent again with the same Message-ID",
			decodeTime(since).Format(time.RFC3339)))
		if err != nil {
			return nil, err
		}
	}
	return &d, nil
}

// MarkMailSent records a delivered mail. ECONFLICT reports that the
// attempt's lease ended before and another attempt claimed the mail.
func (o *Outbox) MarkMailSent(ctx context.Context, d *DueMail) error {
	return o.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = '', sending_since = 0, claim = ''
			WHERE id = ? AND claim = ?`, encodeTime(tx.now), d.ID, d.Claim)
		return claimHeld(res, err)
	})
}

// MarkMailFailed records a failed attempt and when to try again.
func (o *Outbox) MarkMailFailed(ctx context.Context, d *DueMail, reason string, retryAt time.Time) error {
	return o.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, sending_since = 0, claim = ''
			WHERE id = ? AND claim = ?`, truncateText(reason, 500), encodeTime(retryAt), d.ID, d.Claim)
		return claimHeld(res, err)
	})
}

// claimHeld turns the result of an update conditional on a claim into
// ECONFLICT when the claim had passed to another attempt.
func claimHeld(res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return lanyard.Errorf(lanyard.ECONFLICT, "The mail was claimed by another attempt meanwhile.")
	}
	return nil
}
