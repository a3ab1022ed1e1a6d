package web_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

var (
	matchOutput = regexp.MustCompile(`<output name="match">([0-9]{2})</output>`)
	loginLinkRe = regexp.MustCompile(`<code class="link">([^<]+)</code>`)
)

// loginAttempt is one "Log in with mobile ID" in a browser: its waiting
// page, the link the phone opens and the number the page shows.
type loginAttempt struct {
	browser *http.Client
	wait    string // the waiting page's path
	link    string
	token   string
	match   string
}

// startMobileLogin presses Log in with mobile ID in the browser c.
func (p *portal) startMobileLogin(t *testing.T, c *http.Client, next string) loginAttempt {
	t.Helper()
	resp, body := p.get(t, c, "/login")
	wantStatus(t, resp, body, http.StatusOK, `action="/login/mobile-id"`, "Log in with mobile ID")
	resp, body = p.post(t, c, "/login/mobile-id", map[string][]string{"next": {next}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	a := loginAttempt{browser: c, wait: resp.Header.Get("Location")}
	if !strings.HasPrefix(a.wait, "/login/mobile-id/") {
		t.Fatalf("Log in with mobile ID leads to %q", a.wait)
	}
	resp, body = p.get(t, c, a.wait)
	wantStatus(t, resp, body, http.StatusOK, `<img alt="QR code" src="data:image/png;base64,`, `http-equiv="refresh"`)
	m, l := matchOutput.FindStringSubmatch(body), loginLinkRe.FindStringSubmatch(body)
	if m == nil || l == nil {
		t.Fatalf("the waiting page shows no number or no link:\n%s", body)
	}
	a.match, a.link = m[1], html.UnescapeString(l[1])
	base, token, err := appclient.ParseLoginLink(a.link)
	if err != nil || base != p.URL {
		t.Fatalf("the login link %q: base %q, %v", a.link, base, err)
	}
	a.token = token
	return a
}

// answer signs the phone's answer over the statement with the given
// origin, as the app does, with key.
func (ph *phone) answer(t *testing.T, p *portal, a loginAttempt, origin, decision, match string, key crypto.Signer) (*appclient.LoginAnswered, error) {
	t.Helper()
	c := &appclient.Client{BaseURL: p.URL}
	info, err := c.LoginInfo(t.Context(), a.token)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(appclient.LoginPayload(origin, info.RequestID, info.Challenge, decision, match))
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return c.SendLoginAnswer(t.Context(), appclient.LoginAnswer{Request: a.token, MobileID: ph.resp.MobileID, Decision: decision, Match: match, Signature: sig})
}

func TestLoginWithMobileID(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		p := newPortal(t, dsn)
		user := p.addUser(t, "alice", lanyard.UserActive)
		alice := p.loggedIn(t, "alice")
		_, link := p.startGet(t, alice, nil)
		ph := newPhone(t)
		if err := ph.enroll(t, link); err != nil {
			t.Fatal(err)
		}
		origin := appclient.Origin(p.URL)

		t.Run("approve", func(t *testing.T) {
			c := p.browser(t)
			a := p.startMobileLogin(t, c, "/mobile-id")
			info, err := (&appclient.Client{BaseURL: p.URL}).LoginInfo(t.Context(), a.token)
			if err != nil {
				t.Fatal(err)
			}
			if info.Origin != origin || len(info.Choices) != 3 || !contains(info.Choices, a.match) || info.Address == "" ||
				info.Browser == "" || info.ExpiresAt.Sub(info.CreatedAt) != lanyard.LoginRequestTTL {
				t.Fatalf("login info %+v (match %s)", info, a.match)
			}
			// A browser that opens the login link goes on to the phone app,
			// the token in the fragment only.
			resp, body := p.get(t, p.browser(t), strings.TrimPrefix(a.link, p.URL))
			wantStatus(t, resp, body, http.StatusSeeOther)
			if loc, want := resp.Header.Get("Location"), "../../wallet/#login?request="+url.QueryEscape(a.token); loc != want {
				t.Fatalf("the login link redirects to %q, want %q", loc, want)
			}
			// Before the phone answers, the page waits and no one is logged in.
			resp, body = p.get(t, c, a.wait)
			wantStatus(t, resp, body, http.StatusOK, a.match)
			if got, err := ph.answer(t, p, a, origin, appclient.DecisionApprove, a.match, ph.auth); err != nil || got.State != "approved" {
				t.Fatalf("approve: %+v %v", got, err)
			}
			// A second approval of the same request is refused.
			if _, err := ph.answer(t, p, a, origin, appclient.DecisionApprove, a.match, ph.auth); apiCode(err) != "conflict" {
				t.Fatalf("second approval: %v", err)
			}
			// Another browser cannot take the approval.
			resp, body = p.get(t, p.browser(t), a.wait)
			wantStatus(t, resp, body, http.StatusNotFound)
			waitURL, _ := url.Parse(p.URL + a.wait)
			kept := c.Jar.Cookies(waitURL)
			resp, body = p.get(t, c, a.wait)
			wantStatus(t, resp, body, http.StatusSeeOther)
			if loc := resp.Header.Get("Location"); loc != "/mobile-id" {
				t.Fatalf("after the approval the page goes to %q, want /mobile-id", loc)
			}
			resp, body = p.get(t, c, "/")
			wantStatus(t, resp, body, http.StatusOK, "Alice Example")
			// The approval makes one session only: the page is gone, and
			// the request's cookie replayed finds it used.
			resp, body = p.get(t, c, a.wait)
			wantStatus(t, resp, body, http.StatusNotFound)
			replay, _ := http.NewRequest(http.MethodGet, p.URL+a.wait, nil)
			for _, ck := range kept {
				replay.AddCookie(ck)
			}
			resp, body = do(t, p.browser(t), replay)
			wantStatus(t, resp, body, http.StatusConflict, "used already")
			if sessionOf(resp) != "" {
				t.Fatal("a replayed approval made a second session")
			}
			events, err := p.db.FindAuditEvents(t.Context(), lanyard.AuditFilter{Action: "session.login", Limit: 10})
			if err != nil || len(events) == 0 || !strings.Contains(events[0].Detail, "mobile ID") {
				t.Fatalf("audit of the login: %+v %v", events, err)
			}
		})

		t.Run("mobile ID only", func(t *testing.T) {
			resp, body := p.get(t, p.browser(t), "/login?method=mobile-id&next=/mobile-id")
			wantStatus(t, resp, body, http.StatusOK, "Log in with mobile ID", `name="next" value="/mobile-id"`)
			if strings.Contains(body, `name="password"`) {
				t.Fatal("the mobile-ID-only login page asks for a password")
			}
		})

		t.Run("challenge signed without the origin", func(t *testing.T) {
			c := &appclient.Client{BaseURL: p.URL}
			for i, payload := range []func(id, ch string) []byte{
				func(id, ch string) []byte { return appclient.AuthPayload(origin, id, ch) },
				func(id, ch string) []byte { return []byte("lanyard-auth-v1\n" + id + "\n" + ch) },
				func(id, ch string) []byte { return appclient.AuthPayload("https://evil.example", id, ch) },
			} {
				ch, err := c.Challenge(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				digest := sha256.Sum256(payload(ch.ChallengeID, ch.Challenge))
				sig, _ := ph.auth.Sign(rand.Reader, digest[:], crypto.SHA256)
				var authCert []byte
				for _, cert := range ph.resp.Certificates {
					if cert.Usage == appclient.UsageAuthentication {
						authCert = cert.Certificate
					}
				}
				_, err = c.Verify(t.Context(), appclient.VerifyRequest{ChallengeID: ch.ChallengeID, Certificate: authCert, Signature: sig})
				if i == 0 && err != nil {
					t.Fatalf("a challenge signed for this server's origin: %v", err)
				} else if i > 0 && apiCode(err) != "unauthorized" {
					t.Fatalf("a challenge signed without this server's origin: %v", err)
				}
			}
		})

		refusals := []struct {
			name     string
			answer   func(a loginAttempt) error
			code     string
			page     int
			pageText string
		}{
			{"deny", func(a loginAttempt) error {
				_, err := ph.answer(t, p, a, origin, appclient.DecisionDeny, "", ph.auth)
				return err
			}, "", http.StatusForbidden, "denied on the phone"},
			{"wrong number", func(a loginAttempt) error {
				_, err := ph.answer(t, p, a, origin, appclient.DecisionApprove, otherNumber(a.match), ph.auth)
				return err
			}, "unauthorized", http.StatusForbidden, "not the one the browser shows"},
			{"signed for another origin", func(a loginAttempt) error {
				_, err := ph.answer(t, p, a, "https://evil.example", appclient.DecisionApprove, a.match, ph.auth)
				return err
			}, "unauthorized", http.StatusOK, "Log in with mobile ID"},
			{"signed by another key", func(a loginAttempt) error {
				_, err := ph.answer(t, p, a, origin, appclient.DecisionApprove, a.match, ph.sig)
				return err
			}, "unauthorized", http.StatusOK, "Log in with mobile ID"},
			{"expired", func(a loginAttempt) error {
				p.mobile.Now = func() time.Time { return time.Now().Add(lanyard.LoginRequestTTL + time.Second) }
				defer func() { p.mobile.Now = nil }()
				_, err := ph.answer(t, p, a, origin, appclient.DecisionApprove, a.match, ph.auth)
				return err
			}, "expired", http.StatusForbidden, "expired"},
		}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) {
				c := p.browser(t)
				a := p.startMobileLogin(t, c, "/")
				if err := tc.answer(a); apiCode(err) != tc.code {
					t.Fatalf("answer: %v, want code %q", err, tc.code)
				}
				resp, body := p.get(t, c, a.wait)
				wantStatus(t, resp, body, tc.page, tc.pageText)
				if ck := sessionOf(resp); ck != "" {
					t.Fatal("a refused login set a session cookie")
				}
			})
		}

		t.Run("inactive user", func(t *testing.T) {
			c := p.browser(t)
			a := p.startMobileLogin(t, c, "/")
			if _, err := p.mobile.SetUserState(t.Context(), lanyard.CLIActor, "alice", lanyard.UserInactive); err != nil {
				t.Fatal(err)
			}
			defer p.mobile.SetUserState(t.Context(), lanyard.CLIActor, "alice", lanyard.UserActive)
			if _, err := ph.answer(t, p, a, origin, appclient.DecisionApprove, a.match, ph.auth); apiCode(err) != "unauthorized" && apiCode(err) != "user_state" {
				t.Fatalf("approve by an inactive user: %v", err)
			}
			resp, body := p.get(t, c, a.wait)
			wantStatus(t, resp, body, http.StatusForbidden)
		})

		t.Run("locked mobile ID", func(t *testing.T) {
			c := p.browser(t)
			a := p.startMobileLogin(t, c, "/")
			if err := p.mobile.Lock(t.Context(), lanyard.CLIActor, user.ID, ph.resp.MobileID); err != nil {
				t.Fatal(err)
			}
			if _, err := ph.answer(t, p, a, origin, appclient.DecisionApprove, a.match, ph.auth); apiCode(err) != "unauthorized" {
				t.Fatalf("approve with a locked mobile ID: %v", err)
			}
			resp, body := p.get(t, c, a.wait)
			wantStatus(t, resp, body, http.StatusForbidden, "revoked")
		})

		t.Run("unknown request", func(t *testing.T) {
			c := &appclient.Client{BaseURL: p.URL}
			if _, err := c.LoginInfo(t.Context(), "not-a-request"); apiCode(err) != "not_found" {
				t.Fatalf("info of an unknown request: %v", err)
			}
			resp, body := p.get(t, p.browser(t), "/login/mobile-id/nothing")
			wantStatus(t, resp, body, http.StatusNotFound)
		})
	})
}

// sessionOf returns the session cookie an answer sets, or "".
func sessionOf(resp *http.Response) string {
	for _, c := range resp.Cookies() {
		if c.Name == "lanyard_session" && c.MaxAge >= 0 {
			return c.Value
		}
	}
	return ""
}

func otherNumber(n string) string {
	if n == "42" {
		return "43"
	}
	return "42"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
