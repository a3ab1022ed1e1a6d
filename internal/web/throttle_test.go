package web_test

import (
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/web"
)

// behindProxy is a portal that trusts the loopback proxy the tests speak
// through, on a clock of the test's own.
func behindProxy(t *testing.T) (*portal, *clock) {
	t.Helper()
	p := newPortal(t, sqliteDSN(t), func(s *web.Server) {
		s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	p.sessions.Policy = lanyard.DefaultLoginPolicy
	p.clock.Set(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	return p, p.clock
}

// loginFrom posts a login as it reaches the portal through a proxy that
// says the client is from.
func (p *portal) loginFrom(t *testing.T, c *http.Client, from, username, pw string) (*http.Response, string) {
	t.Helper()
	form := url.Values{"username": {username}, "password": {pw}}
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/login", stringsReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if from != "" {
		req.Header.Set("X-Forwarded-For", from)
	}
	return do(t, c, req)
}

func retryAfter(t *testing.T, resp *http.Response) time.Duration {
	t.Helper()
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Fatalf("status %d with Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	return time.Duration(secs) * time.Second
}

// fail makes n wrong-password attempts for username from one address
// count, waiting out each delay as a patient attacker would, and returns
// the delays it was told.
func (p *portal) fail(t *testing.T, clk *clock, from, username string, n int) []time.Duration {
	t.Helper()
	var waits []time.Duration
	for counted := 0; counted < n; {
		resp, body := p.loginFrom(t, p.browser(t), from, username, "wrong guess")
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			counted++
		case http.StatusTooManyRequests:
			d := retryAfter(t, resp)
			waits = append(waits, d)
			clk.Add(d)
		default:
			t.Fatalf("wrong password %d: status %d\n%s", counted+1, resp.StatusCode, body)
		}
	}
	return waits
}

// TestRealUserGetsInAfterTheCurrentDelay: after 5, 20 and 100 wrong
// passwords for admin from one address, the right one from another
// address is refused only for the delay that stands, then accepted.
func TestRealUserGetsInAfterTheCurrentDelay(t *testing.T) {
	for _, n := range []int{5, 20, 100} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			p, clk := behindProxy(t)
			p.addUser(t, "admin", lanyard.UserActive, lanyard.RoleAdmin)
			waits := p.fail(t, clk, "198.51.100.7", "admin", n)
			for i, w := range waits {
				if w > lanyard.DefaultLoginPolicy.MaxDelay {
					t.Fatalf("wait %d is %s, over the cap", i, w)
				}
			}
			want := lanyard.DefaultLoginPolicy.Delay(n, lanyard.DefaultLoginPolicy.UserFree)
			resp, body := p.loginFrom(t, p.browser(t), "203.0.113.9", "admin", "password of admin")
			if want > 0 {
				wantStatus(t, resp, body, http.StatusTooManyRequests, "Try again in")
				if got := retryAfter(t, resp); got > want+time.Second || got < want {
					t.Fatalf("after %d failures the real user waits %s, want %s", n, got, want)
				}
				clk.Add(retryAfter(t, resp))
				resp, body = p.loginFrom(t, p.browser(t), "203.0.113.9", "admin", "password of admin")
			}
			wantStatus(t, resp, body, http.StatusSeeOther)
			t.Logf("%d failures: %d waits, the last %v; the real user waited %s", n, len(waits), waits[len(waits)-1], want)
		})
	}
}

// TestLockAfterTooManyFailures: more than 100 failures in a row lock the
// password login, for the right password too; Admin › Users shows the
// lock and lifts it.
func TestLockAfterTooManyFailures(t *testing.T) {
	p, clk := behindProxy(t)
	p.addUser(t, "alice", lanyard.UserActive)
	p.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
	p.fail(t, clk, "198.51.100.7", "alice", lanyard.DefaultLoginPolicy.LockAfter+1)
	clk.Add(time.Hour)
	resp, body := p.loginFrom(t, p.browser(t), "203.0.113.9", "alice", "password of alice")
	wantStatus(t, resp, body, http.StatusForbidden, "locked")

	adm := p.loggedIn(t, "root")
	resp, body = p.get(t, adm, "/admin/users")
	wantStatus(t, resp, body, http.StatusOK, "Login locked after 101 failed attempts", `action="/admin/users/alice/unlock"`)
	resp, _ = p.post(t, adm, "/admin/users/alice/unlock", nil)
	if kind, text := p.followMessage(t, adm, resp); kind != "notice" || text != "The login lock of alice is lifted." {
		t.Fatalf("lifting the lock: %s %q", kind, text)
	}
	resp, body = p.loginFrom(t, p.browser(t), "203.0.113.9", "alice", "password of alice")
	wantStatus(t, resp, body, http.StatusSeeOther)
	for _, action := range []string{"user.login_locked", "user.login_unlock"} {
		if events, _ := p.db.FindAuditEvents(t.Context(), lanyard.AuditFilter{Action: action, Subject: "alice"}); len(events) != 1 {
			t.Errorf("%d %s events, want 1", len(events), action)
		}
	}
}

// TestForwardedAddressesOnlyFromTrustedProxies: behind a trusted proxy the
// clients it names are told apart; from an untrusted peer the header is
// ignored, and every guess counts against that peer.
func TestForwardedAddressesOnlyFromTrustedProxies(t *testing.T) {
	free := lanyard.DefaultLoginPolicy.AddrFree
	t.Run("trusted", func(t *testing.T) {
		p, _ := behindProxy(t)
		for i := range free + 5 {
			from := "198.51.100." + strconv.Itoa(i+1)
			resp, body := p.loginFrom(t, p.browser(t), from, "nobody"+strconv.Itoa(i), "wrong guess")
			wantStatus(t, resp, body, http.StatusUnauthorized)
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		p := newPortal(t, sqliteDSN(t))
		p.sessions.Policy = lanyard.DefaultLoginPolicy
		var limited bool
		for i := range free + 1 {
			from := "198.51.100." + strconv.Itoa(i+1)
			resp, _ := p.loginFrom(t, p.browser(t), from, "nobody"+strconv.Itoa(i), "wrong guess")
			limited = resp.StatusCode == http.StatusTooManyRequests
		}
		if !limited {
			t.Fatal("an untrusted peer chose its own addresses with X-Forwarded-For")
		}
	})
	t.Run("which hop", func(t *testing.T) {
		p := newPortal(t, sqliteDSN(t), func(s *web.Server) {
			s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
		})
		cases := []struct{ name, header, value, want string }{
			{"spoofed left of the client", "X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.1.2.3", "198.51.100.7"},
			{"two headers", "X-Forwarded-For", "", "192.0.2.44"},
			{"forwarded", "Forwarded", `for=6.6.6.6, for="[2001:db8::17]:4711";proto=https, for=10.0.0.9`, "2001:db8::17"},
			{"garbage", "X-Forwarded-For", "not-an-address, 10.0.0.1", "10.0.0.1"},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				user := "hop" + strconv.Itoa(i)
				p.addUser(t, user, lanyard.UserActive)
				req, _ := http.NewRequest(http.MethodPost, p.URL+"/login", stringsReader(url.Values{"username": {user}, "password": {"wrong guess"}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", p.URL)
				if tc.value == "" {
					req.Header.Add("X-Forwarded-For", "6.6.6.6")
					req.Header.Add("X-Forwarded-For", "192.0.2.44")
				} else {
					req.Header.Set(tc.header, tc.value)
				}
				do(t, p.browser(t), req)
				events, _ := p.db.FindAuditEvents(t.Context(), lanyard.AuditFilter{Action: "session.login_failed", Subject: user})
				if len(events) != 1 || events[0].Addr != tc.want {
					t.Fatalf("audit events %+v, want one from %s", events, tc.want)
				}
			})
		}
	})
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
