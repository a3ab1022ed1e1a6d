package e2e_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

var (
	clientIDOut     = regexp.MustCompile(`(?m)^client_id: (\S+)$`)
	clientSecretOut = regexp.MustCompile(`(?m)^client_secret: (\S+)$`)
	consentIDField  = regexp.MustCompile(`name="id" value="([^"]+)"`)
)

// TestOIDCCluster registers an application with `lanyard oidc add-client`
// and logs a user in to it through two instances on one PostgreSQL
// database, each step at the other instance: the authorization request at
// A, the consent screen at B, the answer at A, the code made at B, the
// code exchanged at B, userinfo and the JWKS at A.
func TestOIDCCluster(t *testing.T) {
	in := newInstance(t, "postgres")
	a := startServer(t, in)
	a.waitReady()
	// One cluster has one public URL, the issuer of every instance.
	b := startServer(t, in, "--public-url", a.url)
	b.waitReady()

	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer rp.Close()
	out := mustLanyard(t, append([]string{"oidc", "add-client", "Wiki", "--redirect-uri", rp.URL + "/callback", "--allow-password"}, in.args()...)...).stdout
	id, secret := clientIDOut.FindStringSubmatch(out), clientSecretOut.FindStringSubmatch(out)
	if id == nil || secret == nil {
		t.Fatalf("add-client printed %q", out)
	}
	pw := "alice-" + randomText()
	addUser(t, in, "alice", pw)

	ctx := context.Background()
	provider, err := gooidc.NewProvider(ctx, a.url)
	if err != nil {
		t.Fatalf("discovery at A: %v", err)
	}
	ep := provider.Endpoint()
	ep.TokenURL = strings.Replace(ep.TokenURL, a.url, b.url, 1)
	ep.AuthStyle = oauth2.AuthStyleInHeader
	cfg := oauth2.Config{ClientID: id[1], ClientSecret: secret[1], Endpoint: ep, RedirectURL: rp.URL + "/callback",
		Scopes: []string{gooidc.ScopeOpenID, "profile", "email"}}

	code, verifier := oidcLogin(t, cfg, "alice", pw, a.url, b.url)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange at B: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: id[1]}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("ID token from B against A's JWKS: %v", err)
	}
	var claims struct {
		Username string   `json:"preferred_username"`
		AMR      []string `json:"amr"`
	}
	if err := idt.Claims(&claims); err != nil || claims.Username != "alice" || len(claims.AMR) != 1 || claims.AMR[0] != "pwd" {
		t.Fatalf("claims %+v %v", claims, err)
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Subject != idt.Subject || info.Email != "alice@example.com" {
		t.Fatalf("userinfo at A: %+v %v", info, err)
	}

	// The code replayed at A is refused and its token revoked everywhere.
	cfgA := cfg
	cfgA.Endpoint.TokenURL = strings.Replace(ep.TokenURL, b.url, a.url, 1)
	if _, err := cfgA.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("the code was exchanged twice")
	}
	if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("the access token works after its code was replayed")
	}
	a.stopOK()
	b.stopOK()
}

// oidcLogin logs username in through the portal and returns the code
// that reaches the application, and its PKCE verifier. Each step goes to
// the next of bases in turn, starting with the login and the
// authorization request at bases[0].
func oidcLogin(t *testing.T, cfg oauth2.Config, username, pw string, bases ...string) (code, verifier string) {
	t.Helper()
	next := func(i int) string { return bases[i%len(bases)] }
	a := next(0)
	jar, err := cookiejar.New(nil) // cookies go by host, so every instance gets them
	if err != nil {
		t.Fatal(err)
	}
	browser := newClient(jar)
	if r := login(t, browser, a, username, pw); r.status != http.StatusSeeOther {
		t.Fatalf("login at %s: %d", a, r.status)
	}
	verifier, state := oauth2.GenerateVerifier(), randomText()
	r := fetch(t, browser, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil)
	if r.status != http.StatusFound || r.location() != "/oidc/continue" {
		t.Fatalf("authorize at %s: %d %q", a, r.status, r.header.Get("Location"))
	}
	r = fetch(t, browser, next(1)+r.header.Get("Location"), nil)
	m := consentIDField.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil || !strings.Contains(r.body, "Allow ") {
		t.Fatalf("continue at %s: %d\n%s", next(1), r.status, r.body)
	}
	r = fetch(t, browser, next(2)+"/oidc/consent", url.Values{"id": {m[1]}, "decision": {"allow"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("Allow at %s: %d\n%s", next(2), r.status, r.body)
	}
	r = fetch(t, browser, next(3)+r.header.Get("Location"), nil)
	cb, err := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || err != nil || cb.Query().Get("state") != state {
		t.Fatalf("callback at %s: %d %q", next(3), r.status, r.header.Get("Location"))
	}
	return cb.Query().Get("code"), verifier
}
