package e2e_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// browserRP is a web application that logs its users in through Lanyard:
// /start sends the browser to the authorization endpoint, /callback
// exchanges the code and greets the user by the ID token's claims.
type browserRP struct {
	srv     *httptest.Server
	issuer  string
	config  oauth2.Config
	mu      sync.Mutex
	pending map[string]string // state → PKCE verifier
	logins  []string          // preferred_username of each login
}

func newBrowserRP(t *testing.T, issuer string) *browserRP {
	rp := &browserRP{issuer: issuer, pending: map[string]string{}}
	rp.srv = httptest.NewServer(http.HandlerFunc(rp.serve))
	t.Cleanup(rp.srv.Close)
	return rp
}

func (rp *browserRP) connect(t *testing.T, clientID, secret string) *gooidc.Provider {
	t.Helper()
	p, err := gooidc.NewProvider(context.Background(), rp.issuer)
	if err != nil {
		t.Fatal(err)
	}
	rp.config = oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(),
		RedirectURL: rp.srv.URL + "/callback", Scopes: []string{gooidc.ScopeOpenID, "profile", "email"}}
	return p
}

func (rp *browserRP) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	switch r.URL.Path {
	case "/start":
		state, verifier := randomText(), oauth2.GenerateVerifier()
		rp.mu.Lock()
		rp.pending[state] = verifier
		rp.mu.Unlock()
		http.Redirect(w, r, rp.config.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), http.StatusFound)
	case "/callback":
		rp.mu.Lock()
		verifier, ok := rp.pending[r.URL.Query().Get("state")]
		delete(rp.pending, r.URL.Query().Get("state"))
		rp.mu.Unlock()
		if !ok {
			http.Error(w, "unknown state", http.StatusBadRequest)
			return
		}
		if e := r.URL.Query().Get("error"); e != "" {
			fmt.Fprintf(w, "<main><h1>Refused: %s</h1></main>", html.EscapeString(e))
			return
		}
		ctx := r.Context()
		tok, err := rp.config.Exchange(ctx, r.URL.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		p, err := gooidc.NewProvider(ctx, rp.issuer)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := p.Verifier(&gooidc.Config{ClientID: rp.config.ClientID}).Verify(ctx, raw)
		var claims struct {
			Name     string `json:"name"`
			Username string `json:"preferred_username"`
		}
		if err == nil {
			err = idt.Claims(&claims)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		rp.mu.Lock()
		rp.logins = append(rp.logins, claims.Username)
		rp.mu.Unlock()
		fmt.Fprintf(w, "<main><h1>Welcome, %s</h1></main>", html.EscapeString(claims.Name))
	default:
		http.NotFound(w, r)
	}
}

// TestBrowserOIDCLogin logs a user in to an application in Chromium: the
// application sends the browser to Lanyard, the login page, the consent
// screen's Allow, back at the application. Then, consent remembered, the
// login form leads straight back to the application, through the page
// policies a real browser enforces.
func TestBrowserOIDCLogin(t *testing.T) {
	in := newInstance(t, "sqlite")
	s := startServer(t, in)
	s.waitReady()
	pw := "alice-" + randomText()
	addUser(t, in, "alice", pw)
	rp := newBrowserRP(t, s.url)
	out := mustLanyard(t, append([]string{"oidc", "add-client", "Team Wiki", "--redirect-uri", rp.srv.URL + "/callback", "--allow-password"}, in.args()...)...).stdout
	id, secret := clientIDOut.FindStringSubmatch(out), clientSecretOut.FindStringSubmatch(out)
	if id == nil || secret == nil {
		t.Fatalf("add-client printed %q", out)
	}
	rp.connect(t, id[1], secret[1])

	b := newBrowser(t, s.url)
	b.do("open the application", chromedp.Navigate(rp.srv.URL+"/start"))
	b.waitHeading("Log in to Self-Service")
	b.fillLogin("alice", pw)
	b.waitHeading("Allow Team Wiki?")
	b.screenshot("consent")
	b.submit("Allow", chromedp.Search(xpathText("//main//button", "Allow")))
	b.waitHeading("Welcome, Alice Example")

	// Logged out of Lanyard, the consent remembered: from the login form
	// straight back to the application.
	b.open("/")
	b.submit("log out", chromedp.Search(xpathText(`//form[@action="/logout"]//button`, "Log out")))
	b.do("open the application again", chromedp.Navigate(rp.srv.URL+"/start"))
	b.waitHeading("Log in to Self-Service")
	b.fillLogin("alice", pw)
	b.waitHeading("Welcome, Alice Example")

	// The user withdraws the consent on their Applications page.
	b.open("/applications")
	b.waitHeading("Applications")
	b.screenshot("applications")
	b.submit("Withdraw", chromedp.Search(xpathText("//main//button", "Withdraw")))
	b.do("open the application a third time", chromedp.Navigate(rp.srv.URL+"/start"))
	b.waitHeading("Allow Team Wiki?")
	b.submit("Deny", chromedp.Search(xpathText("//main//button", "Deny")))
	b.waitHeading("Refused: access_denied")

	rp.mu.Lock()
	defer rp.mu.Unlock()
	if len(rp.logins) != 2 || rp.logins[0] != "alice" || rp.logins[1] != "alice" {
		t.Fatalf("the application saw the logins %v, want alice twice", rp.logins)
	}
}

// TestBrowserAdminApplications is an administrator registering an
// application in Admin › Applications, reading its secret once, rotating
// it and disabling the application.
func TestBrowserAdminApplications(t *testing.T) {
	in := newInstance(t, "sqlite")
	s := startServer(t, in)
	s.waitReady()
	b := newBrowser(t, s.url)
	b.firstAdminLogin(s)

	b.open("/admin")
	b.submit("open Admin › Applications", chromedp.Search(`//main//a[@href="/admin/applications"]`))
	b.waitHeading("Applications")
	b.do("open the add form and fill it in",
		chromedp.Click(chromedp.Search(xpathText("//main//summary", "Add an application"))),
		chromedp.WaitVisible(chromedp.ID("app-name")),
		chromedp.SendKeys(chromedp.ID("app-name"), "Grafana"),
		chromedp.SendKeys(chromedp.ID("app-redirects"), "https://grafana.example.com/login/generic_oauth"),
	)
	b.screenshot("applications-add")
	b.submit("add the application", chromedp.Search(xpathText("//main//button", "Add application")))
	b.waitHeading("Application added")
	secret := b.text(chromedp.Search(`//main//code[@class="secret"]`))
	if len(secret) < 40 {
		t.Fatalf("the secret shown is %q", secret)
	}
	b.submit("back to the application", chromedp.Search(xpathText("//main//a", "Back to the application")))
	b.waitHeading("Grafana")
	b.screenshot("application")

	b.submit("rotate the secret", chromedp.Search(xpathText("//main//button", "Rotate secret")))
	b.waitHeading("New client secret")
	if again := b.text(chromedp.Search(`//main//code[@class="secret"]`)); again == secret || len(again) < 40 {
		t.Fatalf("the rotated secret is %q", again)
	}
	b.submit("back to the application", chromedp.Search(xpathText("//main//a", "Back to the application")))
	b.submit("disable it", chromedp.Search(xpathText("//main//button", "Disable")))
	if got := b.notice(); !strings.Contains(got, "Disabled") {
		t.Fatalf("after Disable the page says %q", got)
	}
	b.open("/admin/applications")
	if rows := b.rows("//main//table//tr[td]"); len(rows) != 1 || rows[0][0] != "Grafana" || rows[0][len(rows[0])-1] != "disabled" {
		t.Fatalf("the list shows %v", rows)
	}
}
