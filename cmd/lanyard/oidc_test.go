package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

var (
	clientIDLine     = regexp.MustCompile(`(?m)^client_id: ([a-z0-9]{26})$`)
	clientSecretLine = regexp.MustCompile(`(?m)^client_secret: ([A-Z0-9]{52})$`)
)

func TestOIDCCommands(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			c := newCLI(t, engine)

			out := c.ok("", "oidc", "add-client", "Grafana", "--redirect-uri", "https://grafana.example.com/login/generic_oauth",
				"--redirect-uri", "https://grafana.example.com/other")
			id, secret := clientIDLine.FindStringSubmatch(out), clientSecretLine.FindStringSubmatch(out)
			if id == nil || secret == nil || strings.Count(out, "\n") != 2 {
				t.Fatalf("add-client printed %q, want client_id and client_secret lines", out)
			}
			out = c.ok("", "oidc", "add-client", "--public", "Phone app", "--redirect-uri", "http://127.0.0.1:8400/cb", "--allow-password", "--refresh-tokens")
			pub := clientIDLine.FindStringSubmatch(out)
			if pub == nil || strings.Contains(out, "client_secret") {
				t.Fatalf("add-client --public printed %q, want only a client_id line", out)
			}

			// Registering needs no master key: none was made.
			if _, err := os.Stat(filepath.Join(c.base[1], "master.key")); !os.IsNotExist(err) {
				t.Fatalf("add-client made or read a master key: %v", err)
			}
			db := testenv.OpenDB(t, c.dsn())
			st := store.NewOIDCStore(db)
			g, err := st.FindClient(context.Background(), id[1])
			if err != nil {
				t.Fatal(err)
			}
			if g.Name != "Grafana" || len(g.RedirectURIs) != 2 || g.Public || g.AllowPassword || g.RefreshTokens || len(g.SecretHash) != 32 || g.IDTokenAlg != "RS256" {
				t.Fatalf("stored client %+v", g)
			}
			if strings.Contains(string(g.SecretHash), secret[1]) {
				t.Fatal("the secret is stored in clear")
			}
			p, err := st.FindClient(context.Background(), pub[1])
			if err != nil || !p.Public || !p.AllowPassword || !p.RefreshTokens || p.SecretHash != nil {
				t.Fatalf("stored public client %+v %v", p, err)
			}
			ev, err := db.FindAuditEvents(context.Background(), lanyard.AuditFilter{Action: "oidc.client.create"})
			if err != nil || len(ev) != 2 || ev[0].Actor != "cli" || strings.Contains(ev[0].Detail+ev[1].Detail, secret[1]) {
				t.Fatalf("audit: %v %v", ev, err)
			}

			out = c.ok("", "oidc", "list-clients")
			if !strings.Contains(out, id[1]) || !strings.Contains(out, "Phone app") || strings.Contains(out, secret[1]) {
				t.Fatalf("list-clients printed %q", out)
			}
			out = c.ok("", "oidc", "rotate-key")
			if !regexp.MustCompile(`(?m)^new RS256 signing key: \S+\nnew ES256 signing key: \S+\n$`).MatchString(out) {
				t.Fatalf("rotate-key printed %q", out)
			}

			c.fails(2, "--redirect-uri is required", "oidc", "add-client", "Wiki")
			c.fails(2, "usage", "oidc", "add-client")
			c.fails(1, "absolute URI", "oidc", "add-client", "Wiki", "--redirect-uri", "/relative")
			c.fails(1, "must be one of", "oidc", "add-client", "Wiki", "--redirect-uri", "https://w.example/cb", "--id-token-alg", "HS256")
			c.fails(2, "unknown subcommand", "oidc", "remove-everything")
		})
	}
}
