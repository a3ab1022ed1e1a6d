package e2e_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestOIDCNoSecretInDatabaseOrLogs logs a user in to an application on a
// server that logs at debug level, and then looks for the client secret,
// the code, the access and refresh tokens and the PKCE verifier in the whole database,
// the files of the data folder and the log.
func TestOIDCNoSecretInDatabaseOrLogs(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			in := newInstance(t, engine)
			s := startServer(t, in, "--log-level", "debug")
			s.waitReady()
			rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			defer rp.Close()
			cli := mustLanyard(t, append([]string{"oidc", "add-client", "Wiki", "--redirect-uri", rp.URL + "/callback", "--allow-password", "--refresh-tokens", "--log-level", "debug"}, in.args()...)...)
			id, secret := clientIDOut.FindStringSubmatch(cli.stdout), clientSecretOut.FindStringSubmatch(cli.stdout)
			if id == nil || secret == nil {
				t.Fatalf("add-client printed %q", cli.stdout)
			}
			pw := "alice-" + randomText()
			addUser(t, in, "alice", pw)

			ctx := context.Background()
			provider, err := gooidc.NewProvider(ctx, s.url)
			if err != nil {
				t.Fatal(err)
			}
			ep := provider.Endpoint()
			ep.AuthStyle = oauth2.AuthStyleInParams
			cfg := oauth2.Config{ClientID: id[1], ClientSecret: secret[1], Endpoint: ep, RedirectURL: rp.URL + "/callback", Scopes: []string{"openid", "email", "offline_access"}}
			code, verifier := oidcLogin(t, cfg, "alice", pw, s.url)
			tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
				t.Fatal(err)
			}
			next, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil || tok.RefreshToken == "" {
				t.Fatalf("refresh: %v", err)
			}
			s.stopOK()

			secrets := map[string]string{"the client secret": secret[1], "the code": code, "the access token": tok.AccessToken, "the PKCE verifier": verifier,
				"the refresh token": tok.RefreshToken, "the second refresh token": next.RefreshToken, "the second access token": next.AccessToken}
			places := map[string]string{
				"the log (stderr of serve)":    s.stderr.String(),
				"stdout of serve":              s.stdout.String(),
				"the log of oidc add-client":   cli.stderr,
				"the files of the data folder": readFolder(t, in.data),
			}
			dump := dumpDatabase(t, in)
			found := false
			for _, c := range dump {
				found = found || (c.table == "oidc_clients" && c.column == "client_id" && c.text == id[1])
			}
			if !found {
				t.Fatal("the database dump has no oidc_clients row")
			}
			checkNoSecrets(t, secrets, places, dump)
		})
	}
}
