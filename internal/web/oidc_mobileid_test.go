package web_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/oidc"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestOIDCWithMobileIDLogin logs a user in to an application that accepts
// the mobile ID alone: the authorization request sends her password
// session to the mobile ID login, the phone approves, the waiting page
// returns to the request, she allows the application, and its ID token
// says the mobile ID's key (amr swk).
func TestOIDCWithMobileIDLogin(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			o := newOIDCPortal(t, testenv.DSN(t, engine))
			o.addUser(t, "alice", lanyard.UserActive)
			c := o.loggedIn(t, "alice")
			_, link := o.startGet(t, c, nil)
			ph := newPhone(t)
			if err := ph.enroll(t, link); err != nil {
				t.Fatal(err)
			}
			rp, _ := o.newRP(t, oidc.NewClient{})

			l := rp.start()
			login := o.loginRedirect(t, c, l)
			resp, body := o.get(t, c, login.RequestURI())
			wantStatus(t, resp, body, http.StatusOK, "Log in with mobile ID")
			if strings.Contains(body, `name="password"`) {
				t.Fatal("the login page of a mobile-ID-only application asks for a password")
			}
			next := login.Query().Get("next")
			resp, body = o.post(t, c, "/login/mobile-id", url.Values{"next": {next}})
			wantStatus(t, resp, body, http.StatusSeeOther)
			wait := resp.Header.Get("Location")
			resp, body = o.get(t, c, wait)
			wantStatus(t, resp, body, http.StatusOK)
			m, lk := matchOutput.FindStringSubmatch(body), loginLinkRe.FindStringSubmatch(body)
			if m == nil || lk == nil {
				t.Fatalf("the waiting page shows no number or link:\n%s", body)
			}
			_, token, err := appclient.ParseLoginLink(html.UnescapeString(lk[1]))
			if err != nil {
				t.Fatal(err)
			}
			a := loginAttempt{browser: c, wait: wait, token: token, match: m[1]}
			if got, err := ph.answer(t, o.portal, a, appclient.Origin(o.URL), appclient.DecisionApprove, a.match, ph.auth); err != nil || got.State != "approved" {
				t.Fatalf("approve: %+v %v", got, err)
			}
			resp, body = o.get(t, c, wait)
			wantStatus(t, resp, body, http.StatusSeeOther)
			if loc := resp.Header.Get("Location"); loc != next {
				t.Fatalf("after the approval the page goes to %q, want back to the request %q", loc, next)
			}

			resp, body = o.walk(t, c, o.URL+next)
			wantStatus(t, resp, body, http.StatusOK, "Allow", "Deny")
			resp, _ = o.walk(t, c, o.consent(t, c, body, "allow").Header.Get("Location"))
			got := rp.arrive(t, location(t, resp), l)
			if got.err != nil {
				t.Fatal(got.err)
			}
			if len(got.claims.AMR) != 1 || got.claims.AMR[0] != "swk" || got.claims.ACR != oidc.ACRMobileID {
				t.Fatalf("amr %v acr %q, want [swk] and the mobile ID's acr", got.claims.AMR, got.claims.ACR)
			}
		})
	}
}
