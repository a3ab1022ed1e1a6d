package web_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/oidc"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/web"
	"golang.org/x/oauth2"
)

// oidcPortal is a portal that is an OpenID Connect provider.
type oidcPortal struct {
	*portal
	provider *oidc.Provider
}

func newOIDCPortal(t *testing.T, dsn string) *oidcPortal {
	t.Helper()
	var prov *oidc.Provider
	p := newPortal(t, dsn, func(srv *web.Server) {
		db := srv.Audit.(*store.DB)
		var err error
		prov, err = oidc.New(oidc.Config{
			// The portal's address, which the harness gave the mobile IDs.
			Issuer: srv.MobileIDs.BaseURL, MasterKey: []byte(rand.Text() + rand.Text()),
			Store: store.NewOIDCStore(db), Users: srv.Users, Logger: srv.Logger,
			Now: func() time.Time { return db.Now() },
		})
		if err != nil {
			t.Fatal(err)
		}
		srv.OIDC = prov
	})
	return &oidcPortal{portal: p, provider: prov}
}

// relyingParty is an application logging its users in through the portal
// with go-oidc and x/oauth2, as a real one would. It listens on a port of
// its own, where the browser brings the code.
type relyingParty struct {
	t        *testing.T
	srv      *httptest.Server
	provider *gooidc.Provider
	config   oauth2.Config
	client   *oidc.Client
	// pending is the login the callback expects; got what it brought.
	pending *atomic.Pointer[login]
	got     chan rpResult
}

type rpResult struct {
	token  *oauth2.Token
	claims idClaims
	err    error
}

// idClaims are the ID token claims the tests read.
type idClaims struct {
	Subject           string   `json:"sub"`
	Email             string   `json:"email"`
	EmailVerified     bool     `json:"email_verified"`
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	ACR               string   `json:"acr"`
	AMR               []string `json:"amr"`
	Nonce             string   `json:"nonce"`
}

// newRP registers an application (through the provider, as the CLI and
// Admin do) and starts its server.
func (o *oidcPortal) newRP(t *testing.T, n oidc.NewClient) (*relyingParty, string) {
	t.Helper()
	rp := &relyingParty{t: t, got: make(chan rpResult, 1), pending: new(atomic.Pointer[login])}
	rp.srv = httptest.NewServer(http.HandlerFunc(rp.serveCallback))
	t.Cleanup(rp.srv.Close)
	if n.Name == "" {
		n.Name = "Wiki"
	}
	n.RedirectURIs = append([]string{rp.srv.URL + "/callback"}, n.RedirectURIs...)
	n.PostLogoutRedirectURIs = []string{rp.srv.URL + "/bye"}
	c, secret, err := o.provider.AddClient(context.Background(), lanyard.CLIActor, n)
	if err != nil {
		t.Fatal(err)
	}
	rp.client = c
	rp.connect(o.URL, secret)
	return rp, secret
}

// connect reads the provider's discovery document, as relying parties do.
func (rp *relyingParty) connect(issuer, secret string) {
	rp.t.Helper()
	var err error
	rp.provider, err = gooidc.NewProvider(context.Background(), issuer)
	if err != nil {
		rp.t.Fatalf("discovery: %v", err)
	}
	ep := rp.provider.Endpoint()
	// One way of client authentication: the library's automatic detection
	// would try the other after a refusal.
	ep.AuthStyle = oauth2.AuthStyleInHeader
	rp.config = oauth2.Config{
		ClientID: rp.client.ClientID, ClientSecret: secret, Endpoint: ep,
		RedirectURL: rp.srv.URL + "/callback", Scopes: []string{gooidc.ScopeOpenID, "profile", "email"},
	}
}

// login is one authorization request of the relying party.
type login struct {
	state, nonce, verifier string
	url                    string
}

func (rp *relyingParty) start(opts ...oauth2.AuthCodeOption) *login {
	l := &login{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
	opts = append([]oauth2.AuthCodeOption{gooidc.Nonce(l.nonce), oauth2.S256ChallengeOption(l.verifier)}, opts...)
	l.url = rp.config.AuthCodeURL(l.state, opts...)
	return l
}

// exchange trades a code for tokens and verifies the ID token against the
// provider's JWKS.
func (rp *relyingParty) exchange(code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, idClaims, error) {
	var claims idClaims
	tok, err := rp.config.Exchange(context.Background(), code, opts...)
	if err != nil {
		return nil, claims, err
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.provider.Verifier(&gooidc.Config{ClientID: rp.client.ClientID}).Verify(context.Background(), raw)
	if err != nil {
		return tok, claims, err
	}
	err = idt.Claims(&claims)
	return tok, claims, err
}

// serveCallback is the application's redirect URI: it checks the state,
// exchanges the code with the PKCE verifier and verifies the ID token.
func (rp *relyingParty) serveCallback(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/callback" {
		w.Write([]byte("bye"))
		return
	}
	l := rp.pending.Load()
	if l == nil || r.URL.Query().Get("state") != l.state {
		http.Error(w, "unexpected state", http.StatusBadRequest)
		rp.got <- rpResult{err: errString("unexpected state " + r.URL.RawQuery)}
		return
	}
	if e := r.URL.Query().Get("error"); e != "" {
		http.Error(w, e, http.StatusForbidden)
		rp.got <- rpResult{err: errString(e)}
		return
	}
	tok, claims, err := rp.exchange(r.URL.Query().Get("code"), oauth2.VerifierOption(l.verifier))
	if err == nil && claims.Nonce != l.nonce {
		err = errString("nonce " + claims.Nonce + ", want " + l.nonce)
	}
	rp.got <- rpResult{token: tok, claims: claims, err: err}
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	w.Write([]byte("welcome " + claims.Subject))
}

type errString string

func (e errString) Error() string { return string(e) }

// walk GETs target and follows the portal's redirects; it returns the
// last response: a page of the portal, or the redirect that leaves it.
func (o *oidcPortal) walk(t *testing.T, c *http.Client, target string) (*http.Response, string) {
	t.Helper()
	for range 10 {
		resp, body := o.get(t, c, strings.TrimPrefix(target, o.URL))
		if resp.StatusCode < 300 || resp.StatusCode > 399 {
			return resp, body
		}
		loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		if loc.Scheme+"://"+loc.Host != o.URL {
			return resp, body
		}
		target = loc.String()
	}
	t.Fatalf("too many redirects from %s", target)
	return nil, ""
}

// location returns where a redirect goes.
func location(t *testing.T, resp *http.Response) *url.URL {
	t.Helper()
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		t.Fatalf("status %d, want a redirect", resp.StatusCode)
	}
	u, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var consentIDRE = regexp.MustCompile(`name="id" value="([^"]+)"`)

// consent answers the consent screen in body with decision.
func (o *oidcPortal) consent(t *testing.T, c *http.Client, body, decision string) *http.Response {
	t.Helper()
	m := consentIDRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no consent screen:\n%s", body)
	}
	resp, _ := o.post(t, c, "/oidc/consent", url.Values{"id": {m[1]}, "decision": {decision}})
	return resp
}

// codeFlow runs a whole login with a browser that has a session: the
// authorization request, the consent screen when it shows (Allow), and
// the code's arrival at the relying party's callback. It returns the
// callback's URL.
func (o *oidcPortal) codeFlow(t *testing.T, c *http.Client, l *login) *url.URL {
	t.Helper()
	resp, body := o.walk(t, c, l.url)
	if resp.StatusCode == http.StatusOK {
		wantStatus(t, resp, body, http.StatusOK, "Allow", "Deny")
		resp, body = o.walk(t, c, o.consent(t, c, body, "allow").Header.Get("Location"))
	}
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want the redirect to the application:\n%s", resp.StatusCode, body)
	}
	return location(t, resp)
}

// arrive brings the browser to the relying party's callback and returns
// what the relying party made of it.
func (rp *relyingParty) arrive(t *testing.T, cb *url.URL, l *login) rpResult {
	t.Helper()
	rp.pending.Store(l)
	resp, err := http.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return <-rp.got
}

// sessionCookie puts a session made directly in the store into the jar.
func (o *oidcPortal) sessionBy(t *testing.T, c *http.Client, u *lanyard.User, method string) {
	t.Helper()
	token, err := store.NewSessionService(o.db).CreateSessionBy(context.Background(), u.ID, "127.0.0.1", method, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(o.URL)
	c.Jar.SetCookies(pu, []*http.Cookie{{Name: "lanyard_session", Value: token, Path: "/"}})
}

// loginRedirect runs the authorization request and returns where the
// portal sends the browser to log in.
func (o *oidcPortal) loginRedirect(t *testing.T, c *http.Client, l *login) *url.URL {
	t.Helper()
	resp, _ := o.get(t, c, strings.TrimPrefix(l.url, o.URL))
	cont := location(t, resp)
	if cont.Path != oidc.ContinuePath {
		t.Fatalf("authorize redirected to %s", cont)
	}
	resp, body := o.get(t, c, cont.RequestURI())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("continue: status %d\n%s", resp.StatusCode, body)
	}
	return location(t, resp)
}

// passwordClient is an application that allows password login,
// as the tests' users log in with passwords.
func passwordClient() oidc.NewClient { return oidc.NewClient{AllowPassword: true} }

func (o *oidcPortal) userID(t *testing.T, username string) int64 {
	t.Helper()
	u, err := o.users.FindUserByUsername(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
