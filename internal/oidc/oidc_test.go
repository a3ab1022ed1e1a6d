package oidc_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/oidc"
	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/secret"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

func TestNewClientValidate(t *testing.T) {
	ok := []string{"https://app.example/cb"}
	tests := []struct {
		name string
		c    oidc.NewClient
		want string // part of the message; "" for valid
	}{
		{"valid", oidc.NewClient{Name: "App", RedirectURIs: ok}, ""},
		{"custom scheme", oidc.NewClient{Name: "App", RedirectURIs: []string{"com.example.app:/cb"}, Public: true}, ""},
		{"ES256", oidc.NewClient{Name: "App", RedirectURIs: ok, IDTokenAlg: "ES256"}, ""},
		{"no name", oidc.NewClient{Name: "  ", RedirectURIs: ok}, "name"},
		{"control character", oidc.NewClient{Name: "A\nB", RedirectURIs: ok}, "control characters"},
		{"no redirect URI", oidc.NewClient{Name: "App"}, "at least one redirect URI"},
		{"relative", oidc.NewClient{Name: "App", RedirectURIs: []string{"/cb"}}, "absolute URI"},
		{"fragment", oidc.NewClient{Name: "App", RedirectURIs: []string{"https://app.example/cb#x"}}, "without a fragment"},
		{"no host", oidc.NewClient{Name: "App", RedirectURIs: []string{"https:///cb"}}, "no host"},
		{"javascript", oidc.NewClient{Name: "App", RedirectURIs: []string{"javascript:alert(1)"}}, "may not be redirected to"},
		{"HS256", oidc.NewClient{Name: "App", RedirectURIs: ok, IDTokenAlg: "HS256"}, "must be one of"},
		{"bad logout URI", oidc.NewClient{Name: "App", RedirectURIs: ok, PostLogoutRedirectURIs: []string{"bye"}}, "post-logout redirect URI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if lanyard.ErrorCode(err) != lanyard.EINVALID || !strings.Contains(lanyard.ErrorMessage(err), tt.want) {
				t.Fatalf("err %v, want EINVALID with %q", err, tt.want)
			}
		})
	}
}

// TestSigningKeysSealed: the signing keys lie in the database sealed
// under the master key, bound to their ID; another master key does not
// open them.
func TestSigningKeysSealed(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testenv.OpenDB(t, dsn)
		st := store.NewOIDCStore(db)
		master := []byte(rand.Text() + rand.Text())
		p, err := oidc.New(oidc.Config{Issuer: "https://id.example", MasterKey: master, Store: st,
			Users: store.NewUserService(db, password.Params{Memory: 1024, Time: 1, Threads: 1})})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.RotateKeys(ctx, lanyard.CLIActor); err != nil {
			t.Fatal(err)
		}
		keys, err := st.Keys(ctx)
		if err != nil || len(keys) != 2 {
			t.Fatalf("keys %v %v", keys, err)
		}
		box, _ := secret.New(master, "oidc signing keys")
		other, _ := secret.New([]byte(rand.Text()+rand.Text()), "oidc signing keys")
		for _, k := range keys {
			der, err := box.Open(k.Sealed, "lanyard oidc key v1|"+k.ID)
			if err != nil {
				t.Fatalf("key %s does not open: %v", k.ID, err)
			}
			priv, err := x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				t.Fatal(err)
			}
			pub, _ := x509.MarshalPKIXPublicKey(priv.(crypto.Signer).Public())
			if !bytes.Equal(pub, k.PublicKey) {
				t.Fatalf("key %s: the sealed key is not the published one", k.ID)
			}
			if bytes.Contains(k.Sealed, der[len(der)-32:]) {
				t.Fatalf("key %s is in clear", k.ID)
			}
			if _, err := other.Open(k.Sealed, "lanyard oidc key v1|"+k.ID); err == nil {
				t.Fatalf("key %s opens with another master key", k.ID)
			}
			if _, err := box.Open(k.Sealed, "lanyard oidc key v1|another"); err == nil {
				t.Fatalf("key %s opens as another key", k.ID)
			}
		}
	})
}
