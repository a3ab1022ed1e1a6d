package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/oidc"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"golang.org/x/oauth2"
)

// oauthError returns the OAuth error code of a failed exchange.
func oauthError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

// TestOIDCRefusals: what OpenID Connect Core and RFC 6749/7636 say must be
// refused is refused, at the authorization endpoint and at the token
// endpoint.
func TestOIDCRefusals(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			o := newOIDCPortal(t, testenv.DSN(t, engine))
			o.addUser(t, "alice", lanyard.UserActive)
			rp, _ := o.newRP(t, oidc.NewClient{AllowPassword: true})
			c := o.loggedIn(t, "alice")

			// code gets a fresh code for l.
			code := func(l *login) string {
				t.Helper()
				cb := o.codeFlow(t, c, l)
				if cb.Query().Get("state") != l.state {
					t.Fatalf("state %q, want %q", cb.Query().Get("state"), l.state)
				}
				return cb.Query().Get("code")
			}

			t.Run("unknown client", func(t *testing.T) {
				l := rp.start()
				u := strings.Replace(l.url, "client_id="+rp.client.ClientID, "client_id=nosuchclient", 1)
				resp, body := o.get(t, c, strings.TrimPrefix(u, o.URL))
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Fatalf("status %d location %q, want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
				}
				wantStatus(t, resp, body, http.StatusBadRequest, "<title>Bad Request · Lanyard</title>", "login request was refused: unable to retrieve client by id")
			})
			t.Run("unregistered redirect URI", func(t *testing.T) {
				for _, bad := range []string{rp.srv.URL + "/callback/", rp.srv.URL + "/callback?x=1", "https://evil.example/callback", strings.ToUpper(rp.srv.URL[:4]) + rp.srv.URL[4:] + "/callback"} {
					l := rp.start(oauth2.SetAuthURLParam("redirect_uri", bad))
					resp, _ := o.get(t, c, strings.TrimPrefix(l.url, o.URL))
					if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
						t.Fatalf("redirect_uri %s: status %d location %q, want 400 and no redirect", bad, resp.StatusCode, resp.Header.Get("Location"))
					}
				}
			})
			t.Run("plain PKCE", func(t *testing.T) {
				l := rp.start(oauth2.SetAuthURLParam("code_challenge_method", "plain"))
				resp, _ := o.get(t, c, strings.TrimPrefix(l.url, o.URL))
				if q := location(t, resp).Query(); q.Get("error") != "invalid_request" || q.Get("state") != l.state {
					t.Fatalf("plain challenge: redirected with %v", q)
				}
			})
			t.Run("missing verifier", func(t *testing.T) {
				l := rp.start()
				// A missing parameter is invalid_request (RFC 6749 §5.2).
				_, _, err := rp.exchange(code(l))
				if oauthError(err) != "invalid_request" {
					t.Fatalf("exchange without verifier: %v", err)
				}
			})
			t.Run("wrong verifier", func(t *testing.T) {
				l := rp.start()
				cd := code(l)
				_, _, err := rp.exchange(cd, oauth2.VerifierOption(oauth2.GenerateVerifier()))
				if oauthError(err) != "invalid_grant" {
					t.Fatalf("exchange with a wrong verifier: %v", err)
				}
				// A refused attempt does not use the code up.
				if _, _, err := rp.exchange(cd, oauth2.VerifierOption(l.verifier)); err != nil {
					t.Fatalf("exchange with the right verifier after a wrong one: %v", err)
				}
			})
			t.Run("wrong secret", func(t *testing.T) {
				l := rp.start()
				bad := *rp
				bad.config.ClientSecret = "not the secret"
				_, _, err := bad.exchange(code(l), oauth2.VerifierOption(l.verifier))
				if oauthError(err) != "invalid_client" {
					t.Fatalf("exchange with a wrong secret: %v", err)
				}
			})
			t.Run("replayed code revokes", func(t *testing.T) {
				l := rp.start()
				cd := code(l)
				tok, _, err := rp.exchange(cd, oauth2.VerifierOption(l.verifier))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := rp.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err != nil {
					t.Fatalf("userinfo before the replay: %v", err)
				}
				if _, _, err := rp.exchange(cd, oauth2.VerifierOption(l.verifier)); oauthError(err) != "invalid_grant" {
					t.Fatalf("replayed code: %v", err)
				}
				if _, err := rp.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
					t.Fatal("the access token of a replayed code still works")
				}
				ev, err := o.db.FindAuditEvents(context.Background(), lanyard.AuditFilter{Action: "oidc.code.replay"})
				if err != nil || len(ev) != 1 {
					t.Fatalf("audit of the replay: %v %v", ev, err)
				}
			})
			t.Run("expired code", func(t *testing.T) {
				l := rp.start()
				cd := code(l)
				o.db.Now = func() time.Time { return time.Now().Add(61 * time.Second) }
				defer func() { o.db.Now = time.Now }()
				if _, _, err := rp.exchange(cd, oauth2.VerifierOption(l.verifier)); oauthError(err) != "invalid_grant" {
					t.Fatalf("expired code: %v", err)
				}
			})
			t.Run("client_secret_post", func(t *testing.T) {
				l := rp.start()
				post := *rp
				post.config.Endpoint.AuthStyle = oauth2.AuthStyleInParams
				if _, _, err := post.exchange(code(l), oauth2.VerifierOption(l.verifier)); err != nil {
					t.Fatalf("client_secret_post: %v", err)
				}
			})
			t.Run("deny", func(t *testing.T) {
				rp2, _ := o.newRP(t, oidc.NewClient{Name: "Tracker", AllowPassword: true})
				l := rp2.start()
				resp, body := o.walk(t, c, l.url)
				wantStatus(t, resp, body, http.StatusOK, "Allow Tracker?", "Allow", "Deny", "your email address")
				resp = o.consent(t, c, body, "deny")
				q := location(t, resp).Query()
				if q.Get("error") != "access_denied" || q.Get("state") != l.state || q.Has("code") {
					t.Fatalf("deny redirected with %v", q)
				}
			})
			t.Run("disabled client", func(t *testing.T) {
				rp3, _ := o.newRP(t, oidc.NewClient{Name: "Old", AllowPassword: true})
				l := rp3.start()
				cd := code(l)
				if err := o.provider.SetClientDisabled(context.Background(), lanyard.CLIActor, rp3.client.ClientID, true); err != nil {
					t.Fatal(err)
				}
				if _, _, err := rp3.exchange(cd, oauth2.VerifierOption(l.verifier)); err == nil {
					t.Fatal("a disabled client exchanged a code")
				}
				resp, _ := o.get(t, c, strings.TrimPrefix(rp3.start().url, o.URL))
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Fatalf("disabled client at authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
				}
			})
		})
	}
}

// TestOIDCPublicClient: a public client has no secret and must use PKCE.
func TestOIDCPublicClient(t *testing.T) {
	o := newOIDCPortal(t, sqliteDSN(t))
	o.addUser(t, "alice", lanyard.UserActive)
	rp, secret := o.newRP(t, oidc.NewClient{Public: true, AllowPassword: true})
	if secret != "" {
		t.Fatal("a public client got a secret")
	}
	c := o.loggedIn(t, "alice")

	// Without a code challenge the request is refused at the application.
	l := rp.start()
	noPKCE := strings.NewReplacer("code_challenge=", "x=", "code_challenge_method=", "y=").Replace(l.url)
	resp, _ := o.get(t, c, strings.TrimPrefix(noPKCE, o.URL))
	if q := location(t, resp).Query(); q.Get("error") != "invalid_request" {
		t.Fatalf("public client without PKCE: %v", q)
	}
	l = rp.start()
	got := rp.arrive(t, o.codeFlow(t, c, l), l)
	if got.err != nil {
		t.Fatalf("public client with PKCE: %v", got.err)
	}
}

// TestOIDCMobileIDRequired: an application that does not allow passwords
// sends the user to the mobile ID login, even with a password session, and
// its ID tokens say swk.
func TestOIDCMobileIDRequired(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			o := newOIDCPortal(t, testenv.DSN(t, engine))
			alice := o.addUser(t, "alice", lanyard.UserActive)
			rp, _ := o.newRP(t, oidc.NewClient{})

			for _, c := range []*http.Client{o.browser(t), o.loggedIn(t, "alice")} {
				l := rp.start()
				loc := o.loginRedirect(t, c, l)
				au, _ := url.Parse(l.url)
				if loc.Path != "/login" || loc.Query().Get("method") != "mobile-id" || loc.Query().Get("next") != au.RequestURI() {
					t.Fatalf("redirect to %s, want the mobile ID login returning to the request", loc)
				}
			}

			c := o.browser(t)
			o.sessionBy(t, c, alice, lanyard.AuthMobileID)
			l := rp.start()
			got := rp.arrive(t, o.codeFlow(t, c, l), l)
			if got.err != nil {
				t.Fatal(got.err)
			}
			if len(got.claims.AMR) != 1 || got.claims.AMR[0] != "swk" || got.claims.ACR != oidc.ACRMobileID {
				t.Fatalf("amr %v acr %q, want [swk] and the mobile ID acr", got.claims.AMR, got.claims.ACR)
			}
		})
	}
}
