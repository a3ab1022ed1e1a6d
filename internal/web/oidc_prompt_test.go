package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"golang.org/x/oauth2"
)

// TestOIDCPrompts: prompt=none answers the application instead of showing
// a page; prompt=login asks for a fresh login that then satisfies it.
func TestOIDCPrompts(t *testing.T) {
	o := newOIDCPortal(t, sqliteDSN(t))
	o.addUser(t, "alice", lanyard.UserActive)
	rp, _ := o.newRP(t, passwordClient())
	none := oauth2.SetAuthURLParam("prompt", "none")

	// No session, prompt=none: login_required at the application.
	l := rp.start(none)
	resp, _ := o.walk(t, o.browser(t), l.url)
	if q := location(t, resp).Query(); q.Get("error") != "login_required" || q.Get("state") != l.state {
		t.Fatalf("prompt=none without a session: %v", q)
	}
	// A session but no consent: consent_required.
	c := o.loggedIn(t, "alice")
	l = rp.start(none)
	resp, _ = o.walk(t, c, l.url)
	if q := location(t, resp).Query(); q.Get("error") != "consent_required" {
		t.Fatalf("prompt=none without consent: %v", q)
	}
	// With consent it returns a code silently.
	l = rp.start()
	if got := rp.arrive(t, o.codeFlow(t, c, l), l); got.err != nil {
		t.Fatal(got.err)
	}
	l = rp.start(none)
	if got := rp.arrive(t, o.codeFlow(t, c, l), l); got.err != nil {
		t.Fatalf("prompt=none with a session and consent: %v", got.err)
	}
	// prompt=consent asks again though the consent is remembered.
	resp, body := o.walk(t, c, rp.start(oauth2.SetAuthURLParam("prompt", "consent")).url)
	wantStatus(t, resp, body, http.StatusOK, "Allow Wiki?")

	// prompt=login: the login page, returning to the request without the
	// prompt; after the login the request goes through.
	l = rp.start(oauth2.SetAuthURLParam("prompt", "login"))
	loc := o.loginRedirect(t, c, l)
	next := loc.Query().Get("next")
	if loc.Path != "/login" || strings.Contains(next, "prompt") || !strings.HasPrefix(next, "/oidc/authorize?") {
		t.Fatalf("prompt=login: %s", loc)
	}
	resp, body = o.post(t, c, "/login", url.Values{"username": {"alice"}, "password": {"password of alice"}, "next": {next}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if got := rp.arrive(t, o.codeFlow(t, c, &login{state: l.state, nonce: l.nonce, verifier: l.verifier, url: o.URL + next}), l); got.err != nil {
		t.Fatalf("after the fresh login: %v", got.err)
	}
}

// TestOIDCBackFromPortalPage: arriving from a page of the portal (the
// login form's redirects), the way back to the application is a page of
// its own, not a redirect a form's policy would stop.
func TestOIDCBackFromPortalPage(t *testing.T) {
	o := newOIDCPortal(t, sqliteDSN(t))
	o.addUser(t, "alice", lanyard.UserActive)
	rp, _ := o.newRP(t, passwordClient())
	c := o.loggedIn(t, "alice")
	l := rp.start()
	rp.arrive(t, o.codeFlow(t, c, l), l)

	l = rp.start()
	resp, _ := o.get(t, c, strings.TrimPrefix(l.url, o.URL))
	req, _ := http.NewRequest(http.MethodGet, location(t, resp).String(), nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, body := do(t, c, req)
	wantStatus(t, resp, body, http.StatusOK, `http-equiv="refresh"`, "/oidc/authorize/callback?id=", "Continue")
}

// TestOIDCCallbackUnknown: a callback for an unknown request shows the
// portal's error page with a plain reason.
func TestOIDCCallbackUnknown(t *testing.T) {
	o := newOIDCPortal(t, sqliteDSN(t))
	resp, body := o.get(t, o.browser(t), "/oidc/authorize/callback?id=nosuchrequest")
	wantStatus(t, resp, body, http.StatusBadRequest, "<title>Bad Request · Lanyard</title>", "This login request is unknown or used.")
	if strings.Contains(body, "lanyard error") || strings.Contains(body, "ErrorType") {
		t.Fatalf("the page shows an internal error text:\n%s", body)
	}
	resp, body = o.get(t, o.browser(t), "/oidc/continue?id=nosuchrequest")
	wantStatus(t, resp, body, http.StatusNotFound, "This login request is unknown or used.")
	resp, body = o.post(t, o.loggedIn(t, o.addUser(t, "alice", lanyard.UserActive).Username), "/oidc/consent", url.Values{"id": {"nosuchrequest"}, "decision": {"allow"}})
	wantStatus(t, resp, body, http.StatusNotFound)
}

// TestOIDCLongRequest: an authorization request longer than the login
// page keeps as its return address returns by the request's next step.
func TestOIDCLongRequest(t *testing.T) {
	o := newOIDCPortal(t, sqliteDSN(t))
	o.addUser(t, "alice", lanyard.UserActive)
	rp, _ := o.newRP(t, passwordClient())
	c := o.browser(t)
	l := rp.start(oauth2.SetAuthURLParam("state", strings.Repeat("s", 600)))
	l.state = strings.Repeat("s", 600)
	loc := o.loginRedirect(t, c, l)
	next := loc.Query().Get("next")
	if !strings.HasPrefix(next, "/oidc/continue?id=") {
		t.Fatalf("next = %q, want the request's next step", next)
	}
	resp, body := o.post(t, c, "/login", url.Values{"username": {"alice"}, "password": {"password of alice"}, "next": {next}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	cb := o.codeFlow(t, c, &login{url: o.URL + next})
	if got := rp.arrive(t, cb, l); got.err != nil {
		t.Fatal(got.err)
	}
}
