package mobileid_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// The audit actions of a reminder and of a script that failed.
const actionReminder, actionFailed = "mobileid.expiry_reminder", "mobileid.expiry_reminder_failed"

// at sets the clock to the start of the day (UTC) days calendar days
// before the day expires falls on.
func (e *env) at(expires time.Time, days int) {
	y, m, d := expires.UTC().Date()
	e.clock.Set(time.Date(y, m, d-days, 0, 0, 0, 0, time.UTC))
}

// walk runs the job twice a day from 62 days before expires to a day
// after it and returns the days left on which it queued mail.
func (e *env) walk(t *testing.T, expires time.Time) []int {
	t.Helper()
	var days []int
	for d := 62; d >= -1; d-- {
		e.at(expires, d)
		if n := e.run(t) + e.run(t); n > 0 {
			if n != 1 {
				t.Fatalf("%d days before expiry: %d mails, want at most 1", d, n)
			}
			days = append(days, d)
		}
	}
	return days
}

func TestExpiryReminders(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			for _, tc := range expiryCases {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, newEnv(t, testenv.DSN(t, engine))) })
			}
		})
	}
}

var expiryCases = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"default script, thresholds then daily until expiry", func(t *testing.T, e *env) {
		u := e.addUser(t, "alice")
		m, expires := e.activeMobileID(t, u)
		got := e.walk(t, expires)
		if want := []int{60, 30, 14, 7, 6, 5, 4, 3, 2, 1, 0}; !slices.Equal(got, want) {
			t.Fatalf("mails on days %v, want %v", got, want)
		}
		e.clock.Set(expires.Add(time.Minute))
		if n := e.run(t); n != 0 {
			t.Fatalf("after expiry: %d mails", n)
		}
		mails := e.mails(t, u)
		first, last := mails[0], mails[len(mails)-1]
		if first.Subject != "Your mobile ID expires in 60 days" || last.Subject != "Your mobile ID expires today" {
			t.Fatalf("subjects %q … %q", first.Subject, last.Subject)
		}
		for _, s := range []string{m.ProfileName, m.DeviceName, expires.UTC().Format("2006-01-02 15:04 UTC"), "https://id.example.com/", "Get Mobile ID"} {
			if !strings.Contains(first.Text, s) {
				t.Errorf("mail does not say %q:\n%s", s, first.Text)
			}
		}
		ev := e.audits(t, actionReminder, m)
		if len(ev) != 11 || !strings.HasPrefix(ev[len(ev)-1].Detail, "before:60: ") || !strings.HasPrefix(ev[0].Detail, "day:") {
			t.Fatalf("audit events %d, oldest %q, newest %q", len(ev), ev[len(ev)-1].Detail, ev[0].Detail)
		}
	}},
	{"created late gets only the current threshold", func(t *testing.T, e *env) {
		u := e.addUser(t, "alice")
		m, expires := e.activeMobileID(t, u)
		var got []int
		for d := 20; d >= 14; d-- {
			e.at(expires, d)
			if e.run(t) > 0 {
				got = append(got, d)
			}
		}
		if !slices.Equal(got, []int{20, 14}) {
			t.Fatalf("mails on days %v, want [20 14]", got)
		}
		ev := e.audits(t, actionReminder, m)
		if !strings.HasPrefix(ev[1].Detail, "before:30: ") || !strings.HasPrefix(ev[0].Detail, "before:14: ") {
			t.Fatalf("reminders %q, %q; want before:30 then before:14", ev[1].Detail, ev[0].Detail)
		}
	}},
	{"custom script", func(t *testing.T, e *env) {
		e.setScript(t, "email_before_expiring_days = [10]\nemail_each_day_after_last = False\n")
		_, expires := e.activeMobileID(t, e.addUser(t, "alice"))
		if got := e.walk(t, expires); !slices.Equal(got, []int{10}) {
			t.Fatalf("mails on days %v, want [10]", got)
		}
	}},
	{"recovered certificates do not count", func(t *testing.T, e *env) {
		u := e.addUser(t, "alice")
		e.caClock.Shift(-200 * 24 * time.Hour)
		old, _, err := e.ca.IssueEncryptionCertificate(context.Background(), lanyard.SystemActor, u, 2048, 1)
		if err != nil {
			t.Fatal(err)
		}
		e.caClock.Set(time.Now())
		_, expires := e.activeMobileID(t, u, old.Serial)
		e.at(expires, 30)
		if n := e.run(t); n != 1 {
			t.Fatalf("%d mails, want 1 for the issued certificates' expiry", n)
		}
		if text := e.mails(t, u)[0].Text; !strings.Contains(text, expires.UTC().Format("2006-01-02")) {
			t.Fatalf("mail does not name %s:\n%s", expires, text)
		}
	}},
	{"only active mobile IDs of active users", func(t *testing.T, e *env) {
		ctx := context.Background()
		inactive, expires := e.activeMobileID(t, e.addUser(t, "alice"))
		locked, _ := e.activeMobileID(t, e.addUser(t, "bob"))
		_, _ = e.activeMobileID(t, e.addUser(t, "carol"))
		for m, state := range map[*lanyard.MobileID]lanyard.MobileIDState{inactive: lanyard.MobileIDInactive, locked: lanyard.MobileIDLocked} {
			if err := e.db.SetMobileIDState(ctx, lanyard.SystemActor, m, state, "test"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.users.SetUserState(ctx, lanyard.CLIActor, "carol", lanyard.UserInactive); err != nil {
			t.Fatal(err)
		}
		e.at(expires, 30)
		if n := e.run(t); n != 0 {
			t.Fatalf("%d mails for inactive and locked mobile IDs and an inactive user", n)
		}
		if _, err := e.users.SetUserState(ctx, lanyard.CLIActor, "carol", lanyard.UserActive); err != nil {
			t.Fatal(err)
		}
		if n := e.run(t); n != 1 {
			t.Fatalf("%d mails once the user is active again, want 1", n)
		}
	}},
	{"a failing script stops no other user", func(t *testing.T, e *env) {
		e.setScript(t, "_days = [30]\nif user.username == \"carol\":\n    _days = [1 // 0]\n"+
			"email_before_expiring_days = _days\nemail_each_day_after_last = False\n")
		_, expires := e.activeMobileID(t, e.addUser(t, "alice"))
		failing, _ := e.activeMobileID(t, e.addUser(t, "carol"))
		_, _ = e.activeMobileID(t, e.addUser(t, "dave"))
		e.at(expires, 30)
		if n := e.run(t) + e.run(t); n != 2 {
			t.Fatalf("%d mails, want 2 (alice and dave)", n)
		}
		if ev := e.audits(t, actionFailed, failing); len(ev) != 1 || !strings.Contains(ev[0].Detail, "carol") {
			t.Fatalf("failure audited %d times on its first day, want once: %v", len(ev), ev)
		}
		e.at(expires, 29)
		e.run(t)
		if ev := e.audits(t, actionFailed, failing); len(ev) != 2 {
			t.Fatalf("failure audited %d times over two days, want 2", len(ev))
		}
	}},
	{"instances running at once send each reminder once", func(t *testing.T, e *env) {
		svc2, _ := e.instance(t, testenv.OpenDB(t, e.dsn))
		var expires time.Time
		for _, name := range []string{"alice", "bob", "carol"} {
			_, expires = e.activeMobileID(t, e.addUser(t, name))
		}
		for _, days := range []int{30, 5} {
			e.at(expires, days)
			var mu sync.Mutex
			var wg sync.WaitGroup
			total := 0
			for i := range 4 {
				wg.Go(func() {
					svc := e.svc
					if i%2 == 1 {
						svc = svc2
					}
					n, err := svc.SendExpiryReminders(context.Background())
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					total += n
					mu.Unlock()
				})
			}
			wg.Wait()
			if total != 3 {
				t.Fatalf("%d days before expiry: %d mails from four runs, want 3", days, total)
			}
		}
	}},
}
