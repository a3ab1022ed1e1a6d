package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"golang.org/x/oauth2"
)

var (
	clientIDRE     = regexp.MustCompile(`client ID <code>([^<]+)</code>`)
	clientSecretRE = regexp.MustCompile(`<code class="secret">([^<]+)</code>`)
)

// TestAdminApplications registers an application in Admin › Applications
// and logs in to it; edits its redirect URIs, rotates its secret, disables
// and deletes it, each audited.
func TestAdminApplications(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			o := newOIDCPortal(t, testenv.DSN(t, engine))
			o.addUser(t, "root", lanyard.UserActive, lanyard.RoleUser, lanyard.RoleAdmin)
			o.addUser(t, "alice", lanyard.UserActive)
			admin := o.loggedIn(t, "root")
			alice := o.loggedIn(t, "alice")
			ctx := context.Background()

			resp, body := o.get(t, alice, "/admin/applications")
			wantStatus(t, resp, body, http.StatusForbidden)

			// The relying party's server exists first; the administrator
			// registers its callback.
			rp, _ := o.newRP(t, passwordClient())
			cb := rp.srv.URL + "/callback"
			resp, body = o.post(t, admin, "/admin/applications", url.Values{"name": {"Bad"}, "redirect_uris": {"not a uri"}})
			wantStatus(t, resp, body, http.StatusBadRequest, "absolute URI")
			resp, body = o.post(t, admin, "/admin/applications", url.Values{
				"name": {"Grafana"}, "redirect_uris": {cb + "\n"}, "allow_password": {"on"}, "id_token_alg": {"RS256"},
			})
			wantStatus(t, resp, body, http.StatusOK, "Application added", "shown only now")
			id := html.UnescapeString(clientIDRE.FindStringSubmatch(body)[1])
			secret := html.UnescapeString(clientSecretRE.FindStringSubmatch(body)[1])
			resp, body = o.get(t, admin, "/admin/applications")
			wantStatus(t, resp, body, http.StatusOK, "Grafana", id, o.URL)
			if strings.Contains(body, secret) {
				t.Fatal("the list shows the secret")
			}

			// The registered application logs alice in.
			c, err := o.provider.Client(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			rp.client = c
			rp.connect(o.URL, secret)
			l := rp.start()
			if got := rp.arrive(t, o.codeFlow(t, alice, l), l); got.err != nil {
				t.Fatalf("login to the added application: %v", got.err)
			}

			// Edit: a second redirect URI; the old one stays.
			resp, body = o.post(t, admin, "/admin/applications/"+id, url.Values{
				"name": {"Grafana"}, "redirect_uris": {cb + "\n" + cb + "2"}, "allow_password": {"on"}, "id_token_alg": {"RS256"},
			})
			wantStatus(t, resp, body, http.StatusSeeOther)
			resp, body = o.get(t, admin, "/admin/applications/"+id)
			wantStatus(t, resp, body, http.StatusOK, cb+"2", "Rotate secret", "Disable", "Delete")
			l = rp.start(oauth2.SetAuthURLParam("redirect_uri", cb+"2"))
			resp, _ = o.walk(t, alice, l.url)
			if u := location(t, resp); u.String()[:len(cb+"2")] != cb+"2" || !u.Query().Has("code") {
				t.Fatalf("the added redirect URI got %s", u)
			}

			// Rotate the secret: the old one fails, the new one works.
			resp, body = o.post(t, admin, "/admin/applications/"+id+"/secret", nil)
			wantStatus(t, resp, body, http.StatusOK, "New client secret")
			newSecret := html.UnescapeString(clientSecretRE.FindStringSubmatch(body)[1])
			l = rp.start()
			code := o.codeFlow(t, alice, l).Query().Get("code")
			if _, _, err := rp.exchange(code, oauth2.VerifierOption(l.verifier)); oauthError(err) != "invalid_client" {
				t.Fatalf("old secret after rotation: %v", err)
			}
			rp.config.ClientSecret = newSecret
			if _, _, err := rp.exchange(code, oauth2.VerifierOption(l.verifier)); err != nil {
				t.Fatalf("new secret: %v", err)
			}

			// Disable: logins are refused; enable again; delete.
			resp, body = o.post(t, admin, "/admin/applications/"+id+"/state", url.Values{"disabled": {"true"}})
			wantStatus(t, resp, body, http.StatusSeeOther)
			resp, _ = o.get(t, alice, strings.TrimPrefix(rp.start().url, o.URL))
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("a disabled application's request: %d", resp.StatusCode)
			}
			resp, body = o.post(t, admin, "/admin/applications/"+id+"/state", url.Values{"disabled": {"false"}})
			wantStatus(t, resp, body, http.StatusSeeOther)
			resp, body = o.post(t, admin, "/admin/applications/"+id+"/delete", nil)
			wantStatus(t, resp, body, http.StatusSeeOther)
			resp, body = o.get(t, admin, "/admin/applications/"+id)
			wantStatus(t, resp, body, http.StatusNotFound)

			for _, action := range []string{"oidc.client.create", "oidc.client.update", "oidc.client.secret", "oidc.client.delete"} {
				ev, err := o.db.FindAuditEvents(ctx, lanyard.AuditFilter{Action: action, Subject: id})
				if err != nil || len(ev) == 0 || ev[0].Actor != "root" {
					t.Errorf("audit of %s: %v %v", action, ev, err)
				}
			}
		})
	}
}

// TestConsentWithdrawn: a consent is remembered until the user withdraws
// it on their Applications page; withdrawing revokes the application's
// tokens and the next login asks again.
func TestConsentWithdrawn(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			o := newOIDCPortal(t, testenv.DSN(t, engine))
			o.addUser(t, "alice", lanyard.UserActive)
			rp, _ := o.newRP(t, passwordClient())
			c := o.loggedIn(t, "alice")

			l := rp.start()
			got := rp.arrive(t, o.codeFlow(t, c, l), l)
			if got.err != nil {
				t.Fatal(got.err)
			}
			// Remembered: no consent screen the second time.
			resp, body := o.walk(t, c, rp.start().url)
			if resp.StatusCode == http.StatusOK {
				t.Fatalf("the consent screen showed again:\n%s", body)
			}
			resp, body = o.get(t, c, "/applications")
			wantStatus(t, resp, body, http.StatusOK, "Wiki", "your email address", "Withdraw")

			resp, body = o.post(t, c, "/applications/"+rp.client.ClientID+"/withdraw", nil)
			wantStatus(t, resp, body, http.StatusSeeOther)
			resp, body = o.get(t, c, "/applications")
			wantStatus(t, resp, body, http.StatusOK, "not allowed any application")
			if _, err := rp.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(got.token)); err == nil {
				t.Fatal("the access token works after the consent was withdrawn")
			}
			resp, body = o.walk(t, c, rp.start().url)
			wantStatus(t, resp, body, http.StatusOK, "Allow Wiki?")

			// Someone else's consent cannot be withdrawn: there is none.
			o.addUser(t, "bob", lanyard.UserActive)
			resp, body = o.post(t, o.loggedIn(t, "bob"), "/applications/"+rp.client.ClientID+"/withdraw", nil)
			wantStatus(t, resp, body, http.StatusNotFound)
		})
	}
}
