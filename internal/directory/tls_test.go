package directory_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/internal/directory"
	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestTLS syncs and logs in over StartTLS and over ldaps:// against a
// slapd that refuses simple binds without TLS, and refuses a directory
// whose certificate it cannot verify.
func TestTLS(t *testing.T) {
	ldif := "dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n" +
		"dn: uid=erin,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: erin\ncn: Erin Example\nsn: Example\nmail: erin@example.org\nuserPassword: " + testenv.SSHA("erin-password") + "\n\n"
	slapd := testenv.StartSlapd(t, testenv.SlapdOptions{LDIF: ldif, TLS: true})
	caPEM, err := os.ReadFile(slapd.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	cases := []struct {
		name     string
		url      string
		startTLS bool
		roots    *x509.CertPool
		fails    string
	}{
		{"starttls", strings.Replace(slapd.URL, "127.0.0.1", "localhost", 1), true, roots, ""},
		{"ldaps", slapd.LDAPSURL, false, roots, ""},
		{"in clear", slapd.URL, false, roots, "confidentiality required"},
		{"unknown CA", slapd.LDAPSURL, false, x509.NewCertPool(), "certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := testenv.OpenDB(t, testenv.DSN(t, "sqlite"))
			users := store.NewUserService(db, password.Params{Memory: 1024, Time: 1, Threads: 1})
			dir, err := directory.New(directory.Config{URL: tc.url, StartTLS: tc.startTLS, TLS: &tls.Config{RootCAs: tc.roots},
				BindDN: slapd.AdminDN, BindPassword: slapd.AdminPW, BaseDN: "ou=people,dc=example,dc=org"})
			if err != nil {
				t.Fatal(err)
			}
			defer dir.Close()
			s := &directory.Syncer{Dir: dir, Store: db, States: users, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxDeactivatePercent: 10}
			run, err := s.Sync(ctx, "test", false)
			if tc.fails != "" {
				if err == nil || !strings.Contains(strings.ToLower(run.Error), tc.fails) {
					t.Fatalf("sync: %v, want an error about %q", err, tc.fails)
				}
				if _, err := users.FindUserByUsername(ctx, "erin"); err == nil {
					t.Fatal("a failed sync added erin")
				}
				return
			}
			if err != nil || run.Result.Added != 1 {
				t.Fatalf("sync: %v %s", err, run.Result.Summary())
			}
			if err := dir.Bind(ctx, "erin", "erin-password"); err != nil {
				t.Fatalf("erin's directory password: %v", err)
			}
		})
	}
}
