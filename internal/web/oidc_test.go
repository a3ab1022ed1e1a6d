package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/oidc"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"golang.org/x/oauth2"
)

// TestOIDCCodeFlow logs a user in to an application that allows password
// login: discovery, the redirect, the portal's login page, consent, the
// code exchange with PKCE, the ID token verified against the JWKS,
// userinfo, and RP-initiated logout.
func TestOIDCCodeFlow(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			o := newOIDCPortal(t, testenv.DSN(t, engine))
			alice := o.addUser(t, "alice", lanyard.UserActive)
			rp, _ := o.newRP(t, oidc.NewClient{AllowPassword: true})
			c := o.browser(t)

			// No session: the login page, returning to the authorization
			// request as it came; password login is offered.
			l := rp.start()
			loc := o.loginRedirect(t, c, l)
			if loc.Path != "/login" || loc.Query().Has("method") {
				t.Fatalf("redirect to %s, want the login page without method", loc)
			}
			au, _ := url.Parse(l.url)
			if next := loc.Query().Get("next"); next != au.RequestURI() {
				t.Fatalf("next = %q, want the authorize URL %q", next, au.RequestURI())
			}
			resp, body := o.post(t, c, "/login", url.Values{"username": {"alice"}, "password": {"password of alice"}, "next": {loc.Query().Get("next")}})
			wantStatus(t, resp, body, http.StatusSeeOther)

			cb := o.codeFlow(t, c, l)
			got := rp.arrive(t, cb, l)
			if got.err != nil {
				t.Fatalf("relying party: %v", got.err)
			}
			cl := got.claims
			if cl.Subject == "" || cl.Subject == alice.Username || cl.Subject == alice.Email || strings.Contains(cl.Subject, "alice") {
				t.Errorf("sub %q is not opaque", cl.Subject)
			}
			if cl.Email != "alice@example.com" || !cl.EmailVerified || cl.Name != "Alice Example" || cl.PreferredUsername != "alice" {
				t.Errorf("claims %+v", cl)
			}
			if !slices.Equal(cl.AMR, []string{"pwd"}) || cl.ACR != oidc.ACRPassword {
				t.Errorf("amr %v acr %q, want [pwd] and the password acr", cl.AMR, cl.ACR)
			}

			info, err := rp.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(got.token))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			if info.Subject != cl.Subject || info.Email != "alice@example.com" {
				t.Errorf("userinfo %+v", info)
			}

			// The consent is remembered: the next login goes straight back,
			// with the same subject.
			l2 := rp.start()
			got2 := rp.arrive(t, o.codeFlow(t, c, l2), l2)
			if got2.err != nil || got2.claims.Subject != cl.Subject {
				t.Fatalf("second login: %v, sub %q want %q", got2.err, got2.claims.Subject, cl.Subject)
			}

			// RP-initiated logout ends the portal session and returns to
			// the registered address with the state.
			raw, _ := got.token.Extra("id_token").(string)
			var disc struct {
				EndSession string `json:"end_session_endpoint"`
			}
			if err := rp.provider.Claims(&disc); err != nil || disc.EndSession == "" {
				t.Fatalf("end_session_endpoint: %v %q", err, disc.EndSession)
			}
			q := url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {rp.srv.URL + "/bye"}, "state": {"s1"}}
			resp, _ = o.get(t, c, strings.TrimPrefix(disc.EndSession, o.URL)+"?"+q.Encode())
			if bye := location(t, resp); bye.String() != rp.srv.URL+"/bye?state=s1" {
				t.Fatalf("logout went to %s", bye)
			}
			resp, _ = o.get(t, c, "/")
			if location(t, resp).Path != "/login" {
				t.Fatal("the portal session survived the logout")
			}
			// An unregistered post-logout address is refused.
			q.Set("post_logout_redirect_uri", "https://evil.example/")
			resp, _ = o.get(t, c, strings.TrimPrefix(disc.EndSession, o.URL)+"?"+q.Encode())
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("unregistered post_logout_redirect_uri: %d", resp.StatusCode)
			}
		})
	}
}

// TestOIDCDiscovery checks the issuer, exactly the public URL, and what
// the provider offers.
func TestOIDCDiscovery(t *testing.T) {
	o := newOIDCPortal(t, sqliteDSN(t))
	resp, body := o.get(t, o.browser(t), "/.well-known/openid-configuration")
	wantStatus(t, resp, body, http.StatusOK)
	var d struct {
		Issuer     string   `json:"issuer"`
		JWKS       string   `json:"jwks_uri"`
		Methods    []string `json:"code_challenge_methods_supported"`
		AuthMethod []string `json:"token_endpoint_auth_methods_supported"`
		Grants     []string `json:"grant_types_supported"`
		Responses  []string `json:"response_types_supported"`
		Algs       []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if d.Issuer != o.URL {
		t.Errorf("issuer %q, want %q", d.Issuer, o.URL)
	}
	if !slices.Equal(d.Methods, []string{"S256"}) {
		t.Errorf("code challenge methods %v", d.Methods)
	}
	for _, m := range []string{"client_secret_basic", "client_secret_post", "none"} {
		if !slices.Contains(d.AuthMethod, m) {
			t.Errorf("auth methods %v lack %s", d.AuthMethod, m)
		}
	}
	if !slices.Equal(d.Grants, []string{"authorization_code", "refresh_token"}) || !slices.Equal(d.Responses, []string{"code"}) {
		t.Errorf("grant types %v, response types %v", d.Grants, d.Responses)
	}
	if !slices.Contains(d.Algs, "RS256") || !slices.Contains(d.Algs, "ES256") {
		t.Errorf("algorithms %v", d.Algs)
	}
	resp, body = o.get(t, o.browser(t), strings.TrimPrefix(d.JWKS, o.URL))
	wantStatus(t, resp, body, http.StatusOK, `"keys"`)
}
