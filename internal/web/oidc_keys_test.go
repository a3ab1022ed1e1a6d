package web_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/oidc"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"golang.org/x/oauth2"
)

// header reads the kid and alg of a JWT.
func header(t *testing.T, jwt string) (kid, alg string) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid, Alg string }
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid, h.Alg
}

// idToken logs in through rp and returns the raw ID token.
func (o *oidcPortal) idToken(t *testing.T, c *http.Client, rp *relyingParty) string {
	t.Helper()
	l := rp.start()
	got := rp.arrive(t, o.codeFlow(t, c, l), l)
	if got.err != nil {
		t.Fatal(got.err)
	}
	raw, _ := got.token.Extra("id_token").(string)
	return raw
}

// TestOIDCKeyRotation: a token signed before a rotation keeps verifying
// against the JWKS; one signed after carries the new kid; the old key
// leaves the JWKS once its tokens have expired. The key is not a CA key.
func TestOIDCKeyRotation(t *testing.T) {
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			o := newOIDCPortal(t, testenv.DSN(t, engine))
			o.addUser(t, "alice", lanyard.UserActive)
			rp, _ := o.newRP(t, oidc.NewClient{AllowPassword: true})
			c := o.loggedIn(t, "alice")
			ctx := context.Background()

			before := o.idToken(t, c, rp)
			oldKid, alg := header(t, before)
			if alg != "RS256" {
				t.Fatalf("alg %s, want RS256", alg)
			}
			if _, err := o.provider.RotateKeys(ctx, lanyard.CLIActor); err != nil {
				t.Fatal(err)
			}
			after := o.idToken(t, c, rp)
			if newKid, _ := header(t, after); newKid == oldKid {
				t.Fatalf("the token after the rotation has the old kid %s", oldKid)
			}
			// A relying party that fetches the JWKS afresh verifies both.
			fresh, err := gooidc.NewProvider(ctx, o.URL)
			if err != nil {
				t.Fatal(err)
			}
			v := fresh.Verifier(&gooidc.Config{ClientID: rp.client.ClientID})
			for name, raw := range map[string]string{"before": before, "after": after} {
				if _, err := v.Verify(ctx, raw); err != nil {
					t.Errorf("token %s the rotation: %v", name, err)
				}
			}
			ids, err := o.provider.PublishedKeyIDs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(ids, ","), oldKid) {
				t.Fatalf("the JWKS %v lost the old key right after the rotation", ids)
			}
			// No CA key is among them.
			keys, err := store.NewOIDCStore(o.db).Keys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for rest := o.ca.ChainPEM(); ; {
				var b *pem.Block
				if b, rest = pem.Decode(rest); b == nil {
					break
				}
				cert, err := x509.ParseCertificate(b.Bytes)
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range keys {
					if bytes.Equal(k.PublicKey, cert.RawSubjectPublicKeyInfo) {
						t.Fatalf("signing key %s is the key of %s", k.ID, cert.Subject)
					}
				}
			}

			// A day later the old key's tokens are long expired: it is gone.
			o.db.Now = func() time.Time { return time.Now().Add(25 * time.Hour) }
			defer func() { o.db.Now = time.Now }()
			ids, err = o.provider.PublishedKeyIDs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(strings.Join(ids, ","), oldKid) {
				t.Fatalf("the JWKS %v still has the old key a day later", ids)
			}
		})
	}
}

// TestOIDCES256: an application registered for ES256 gets ES256 ID tokens;
// others keep RS256.
func TestOIDCES256(t *testing.T) {
	o := newOIDCPortal(t, sqliteDSN(t))
	o.addUser(t, "alice", lanyard.UserActive)
	rp, _ := o.newRP(t, oidc.NewClient{AllowPassword: true, IDTokenAlg: "ES256"})
	c := o.loggedIn(t, "alice")
	if _, alg := header(t, o.idToken(t, c, rp)); alg != "ES256" {
		t.Fatalf("alg %s, want ES256", alg)
	}
	// client_secret_post finds the client's algorithm as well.
	rp.config.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	if _, alg := header(t, o.idToken(t, c, rp)); alg != "ES256" {
		t.Fatalf("alg %s with client_secret_post, want ES256", alg)
	}
	rs, _ := o.newRP(t, oidc.NewClient{Name: "Other", AllowPassword: true})
	if _, alg := header(t, o.idToken(t, c, rs)); alg != "RS256" {
		t.Fatalf("alg %s, want RS256", alg)
	}
}

// TestOIDCSubjects: sub is stable per user and differs between users.
func TestOIDCSubjects(t *testing.T) {
	o := newOIDCPortal(t, sqliteDSN(t))
	o.addUser(t, "alice", lanyard.UserActive)
	o.addUser(t, "bob", lanyard.UserActive)
	rp, _ := o.newRP(t, oidc.NewClient{AllowPassword: true})
	sub := func(user string) string {
		c := o.loggedIn(t, user)
		l := rp.start()
		got := rp.arrive(t, o.codeFlow(t, c, l), l)
		if got.err != nil {
			t.Fatal(got.err)
		}
		return got.claims.Subject
	}
	a1, b, a2 := sub("alice"), sub("bob"), sub("alice")
	if a1 != a2 || a1 == b || len(a1) < 20 {
		t.Fatalf("subjects alice %q and %q, bob %q", a1, a2, b)
	}
}
