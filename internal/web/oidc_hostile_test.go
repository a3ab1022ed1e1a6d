package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestOIDCHostileInput sends the hostile values to every OpenID Connect
// endpoint and form: each is refused or answered, never with a 500, and
// nothing is registered.
func TestOIDCHostileInput(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		o := newOIDCPortal(t, dsn)
		o.addUser(t, "root", lanyard.UserActive, lanyard.RoleAdmin)
		root := o.loggedIn(t, "root")
		rp, _ := o.newRP(t, passwordClient())
		for name, v := range hostile {
			t.Run(name, func(t *testing.T) {
				for _, f := range []string{"name", "redirect_uris", "post_logout_redirect_uris", "id_token_alg"} {
					form := url.Values{"name": {"App"}, "redirect_uris": {"https://app.example/cb"}}
					form.Set(f, v)
					// A name may be any text; it is shown escaped.
					want := http.StatusBadRequest
					if f == "name" && lanyard.ValidText(v) && len(v) <= 100 {
						want = http.StatusOK
					}
					resp, body := o.post(t, root, "/admin/applications", form)
					if resp.StatusCode != want || strings.Contains(body, "<script>") {
						t.Fatalf("add with hostile %s: status %d, want %d\n%.500s", f, resp.StatusCode, want, body)
					}
					if want == http.StatusOK {
						want = http.StatusSeeOther
					}
					resp, body = o.post(t, root, "/admin/applications/"+rp.client.ClientID, form)
					if resp.StatusCode != want {
						t.Fatalf("edit with hostile %s: status %d, want %d\n%.500s", f, resp.StatusCode, want, body)
					}
				}
				q := url.QueryEscape(v)
				for _, path := range []string{
					"/oidc/authorize?client_id=" + q + "&redirect_uri=" + q + "&response_type=code&scope=openid",
					"/oidc/authorize?client_id=" + rp.client.ClientID + "&redirect_uri=" + url.QueryEscape(rp.srv.URL+"/callback") + "&response_type=code&scope=" + q + "&state=" + q + "&code_challenge=" + q + "&code_challenge_method=S256",
					"/oidc/continue?id=" + q,
					"/oidc/authorize/callback?id=" + q,
					"/oidc/end_session?id_token_hint=" + q + "&post_logout_redirect_uri=" + q,
					"/admin/applications/" + url.PathEscape(v),
				} {
					resp, body := o.get(t, root, path)
					if resp.StatusCode >= 500 {
						t.Fatalf("GET %.80s: status %d\n%.500s", path, resp.StatusCode, body)
					}
				}
				for _, path := range []string{"/oidc/token", "/oidc/userinfo", "/oidc/revoke", "/oidc/introspect"} {
					form := url.Values{"grant_type": {v}, "code": {v}, "client_id": {v}, "client_secret": {v}, "token": {v}, "code_verifier": {v}, "refresh_token": {v}}
					req, _ := http.NewRequest(http.MethodPost, o.URL+path, strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Authorization", "Bearer "+strings.Map(func(r rune) rune {
						if r < ' ' || r > '~' {
							return 'x'
						}
						return r
					}, v))
					resp, body := do(t, http.DefaultClient, req)
					if resp.StatusCode >= 500 {
						t.Fatalf("POST %s: status %d\n%.500s", path, resp.StatusCode, body)
					}
				}
				for _, d := range []string{"allow", "deny", v} {
					resp, body := o.post(t, root, "/oidc/consent", url.Values{"id": {v}, "decision": {d}})
					if resp.StatusCode >= 500 {
						t.Fatalf("consent %s: status %d\n%.500s", d, resp.StatusCode, body)
					}
				}
			})
		}
		cs, err := o.provider.Clients(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if !lanyard.ValidText(c.Name) || len(c.RedirectURIs) != 1 {
				t.Fatalf("an application registered from hostile input: %+v", c)
			}
		}
	})
}
