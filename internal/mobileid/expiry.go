package mobileid

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/options"
)

// maxReminderDays is the most days before expiry an options script may
// ask for a reminder. Scripts differ by user, so the job looks this far
// ahead and lets each user's script decide.
const maxReminderDays = 365

// The audit actions of the reminder job.
const (
	actionExpiryReminder = "mobileid.expiry_reminder"
	actionExpiryFailed   = "mobileid.expiry_reminder_failed"
)

// SendExpiryReminders mails the users whose active mobile IDs expire soon,
// as the MobileIDExpiring script of each user says: one mail when the days
// left first reach each of email_before_expiring_days, and with
// email_each_day_after_last one a day after the last of them until expiry.
// A mobile ID first seen with fewer days left gets only the reminder that
// applies then, not the earlier ones. Each reminder is recorded with its
// mail in one transaction, so it goes out once however often the job runs
// and on however many instances. A script that fails for a user is logged
// and audited once a day, and the other users are still served. It returns
// how many mails it queued.
func (s *Service) SendExpiryReminders(ctx context.Context) (int, error) {
	now := s.now()
	sc, err := s.Options.Current(ctx, options.MobileIDExpiring)
	if err != nil {
		return 0, fmt.Errorf("read the options of %s: %w", options.MobileIDExpiring, err)
	}
	list, err := s.Store.ExpiringMobileIDs(ctx, now, now.AddDate(0, 0, maxReminderDays+1))
	if err != nil {
		return 0, err
	}
	portal := strings.TrimSuffix(s.BaseURL, "/") + "/"
	sent := 0
	for _, e := range list {
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		o, err := s.Options.Engine.Expiring(sc.Source, options.UserOf(e.User))
		if err != nil {
			s.expiryOptionsFailed(ctx, e, now, err)
			continue
		}
		kind, days, ok := dueReminder(o, e.ExpiresAt, now)
		if !ok || slices.Contains(e.Sent, kind) {
			continue
		}
		m := expiringMail(e.User, e.MobileID, e.ExpiresAt, days, portal)
		detail := fmt.Sprintf("expires %s, %d days left", e.ExpiresAt.Format(time.RFC3339), days)
		claimed, err := s.Store.RecordReminder(ctx, lanyard.SystemActor, e.MobileID, kind, actionExpiryReminder, detail, m)
		if err != nil {
			return sent, fmt.Errorf("remind %s of the expiry of %s: %w", e.User.Username, e.MobileID.PublicID, err)
		}
		if claimed {
			sent++
		}
	}
	return sent, nil
}

// dueReminder returns the reminder due at now for a mobile ID that expires
// at expires, under the options o: its kind and the days left, or false
// when none is due. Days are counted in whole calendar days of UTC, so a
// reminder falls due at the start of its day on every instance alike.
func dueReminder(o options.Expiring, expires, now time.Time) (kind string, days int, ok bool) {
	if !now.Before(expires) || len(o.EmailBeforeExpiringDays) == 0 {
		return "", 0, false
	}
	days = daysBetween(now, expires)
	if o.EmailEachDayAfterLast && days < slices.Min(o.EmailBeforeExpiringDays) {
		return "day:" + now.UTC().Format(time.DateOnly), days, true
	}
	// The threshold that applies now is the smallest one the days left
	// have reached; larger ones that were missed are not sent late.
	due := -1
	for _, d := range o.EmailBeforeExpiringDays {
		if d >= days && (due < 0 || d < due) {
			due = d
		}
	}
	if due < 0 {
		return "", 0, false
	}
	return "before:" + strconv.Itoa(due), days, true
}

// daysBetween counts the calendar days (UTC) from the day of a to the day
// of b.
func daysBetween(a, b time.Time) int {
	day := func(t time.Time) time.Time {
		t = t.UTC()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return int(day(b).Sub(day(a)).Hours() / 24)
}

// expiryOptionsFailed logs and audits a script that failed for a user. The
// audit event is recorded as a reminder of its day, so it is written once a
// day per mobile ID on the whole cluster rather than at every run.
func (s *Service) expiryOptionsFailed(ctx context.Context, e *lanyard.ExpiringMobileID, now time.Time, cause error) {
	msg := lanyard.ErrorMessage(cause)
	detail := fmt.Sprintf("the options of %s failed for %s: %s", options.MobileIDExpiring, e.User.Username, msg)
	kind := "failed:" + now.UTC().Format(time.DateOnly)
	first, err := s.Store.RecordReminder(ctx, lanyard.SystemActor, e.MobileID, kind, actionExpiryFailed, detail)
	switch {
	case err != nil:
		s.Logger.Error("record failed expiry options", "user", e.User.Username, "mobile_id", e.MobileID.PublicID, "err", err)
	case first:
		s.Logger.Error("expiry reminder options failed; no reminder sent", "user", e.User.Username, "mobile_id", e.MobileID.PublicID, "err", cause)
	default:
		s.Logger.Debug("expiry reminder options failed", "user", e.User.Username, "mobile_id", e.MobileID.PublicID, "err", cause)
	}
}
