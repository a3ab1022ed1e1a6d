package web_test

import (
	"context"
	"database/sql"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/oidc"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"golang.org/x/oauth2"
)

// TestOIDCRefreshTokens: refresh tokens are off unless an application is
// registered for them; then each use replaces the token, and a replaced
// one used again revokes the grant.
func TestOIDCRefreshTokens(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			o := newOIDCPortal(t, testenv.DSN(t, engine))
			o.addUser(t, "alice", lanyard.UserActive)
			c := o.loggedIn(t, "alice")
			ctx := context.Background()
			login := func(rp *relyingParty) *oauth2.Token {
				t.Helper()
				rp.config.Scopes = append(rp.config.Scopes, gooidc.ScopeOfflineAccess)
				l := rp.start()
				got := rp.arrive(t, o.codeFlow(t, c, l), l)
				if got.err != nil {
					t.Fatal(got.err)
				}
				return got.token
			}

			off, _ := o.newRP(t, oidc.NewClient{Name: "Plain", AllowPassword: true})
			if tok := login(off); tok.RefreshToken != "" {
				t.Fatal("an application not registered for refresh tokens got one")
			}

			rp, _ := o.newRP(t, oidc.NewClient{Name: "Sync", AllowPassword: true, RefreshTokens: true})
			tok := login(rp)
			if tok.RefreshToken == "" {
				t.Fatal("no refresh token with offline_access")
			}
			refresh := func(rt string) (*oauth2.Token, error) {
				return rp.config.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
			}
			next, err := refresh(tok.RefreshToken)
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken || next.AccessToken == tok.AccessToken {
				t.Fatalf("the refresh did not replace the tokens")
			}
			raw, _ := next.Extra("id_token").(string)
			if _, err := rp.provider.Verifier(&gooidc.Config{ClientID: rp.client.ClientID}).Verify(ctx, raw); err != nil {
				t.Fatalf("the refreshed ID token: %v", err)
			}
			if _, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(next)); err != nil {
				t.Fatalf("userinfo with the refreshed access token: %v", err)
			}
			// The replaced token used again: refused, and the grant revoked.
			if _, err := refresh(tok.RefreshToken); oauthError(err) != "invalid_grant" {
				t.Fatalf("a replaced refresh token: %v", err)
			}
			if _, err := refresh(next.RefreshToken); oauthError(err) != "invalid_grant" {
				t.Fatalf("the current refresh token after a replay: %v", err)
			}
			if _, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(next)); err == nil {
				t.Fatal("the access token works after the replay")
			}

			// Withdrawing the consent ends a grant's refresh token too, and
			// that is no replay.
			replays := func() int {
				events, err := o.db.FindAuditEvents(ctx, lanyard.AuditFilter{Action: "oidc.refresh.replay"})
				if err != nil {
					t.Fatal(err)
				}
				return len(events)
			}
			replayed := replays()
			fresh := login(rp)
			if err := o.provider.WithdrawConsent(ctx, lanyard.CLIActor, o.userID(t, "alice"), rp.client.ClientID); err != nil {
				t.Fatal(err)
			}
			if _, err := refresh(fresh.RefreshToken); oauthError(err) != "invalid_grant" {
				t.Fatalf("a refresh token after the consent was withdrawn: %v", err)
			}
			if n := replays(); n != replayed {
				t.Fatalf("a withdrawn grant's refresh token was audited as %d replays", n-replayed)
			}

			// A user who may no longer log in gets nothing for a refresh
			// token, and nothing is written: back in, the token works.
			// (Deactivating ends the user's portal sessions, so this comes
			// last.)
			held := login(rp)
			tokens := func() (n int) {
				t.Helper()
				if err := rawDB(t, o.dsn).QueryRowContext(ctx, `SELECT COUNT(*) FROM oidc_tokens`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			before := tokens()
			if _, err := o.users.SetUserState(ctx, lanyard.CLIActor, "alice", lanyard.UserInactive); err != nil {
				t.Fatal(err)
			}
			if _, err := refresh(held.RefreshToken); oauthError(err) != "invalid_grant" {
				t.Fatalf("a refresh for a deactivated user: %v", err)
			}
			if after := tokens(); after != before {
				t.Fatalf("the refused refresh stored %d access tokens", after-before)
			}
			if _, err := o.users.SetUserState(ctx, lanyard.CLIActor, "alice", lanyard.UserActive); err != nil {
				t.Fatal(err)
			}
			if _, err := refresh(held.RefreshToken); err != nil {
				t.Fatalf("the refresh token after the user is back: %v", err)
			}
		})
	}
}

// rawDB opens the portal's database directly, for what no service shows.
func rawDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	driver, name := "sqlite", "file:"+dsn
	if store.IsPostgresURL(dsn) {
		driver, name = "pgx", dsn
	}
	raw, err := sql.Open(driver, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}
