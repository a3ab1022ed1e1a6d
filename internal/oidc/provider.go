package oidc

import (
	"context"
	"crypto"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/secret"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The provider's paths. Discovery is at /.well-known/openid-configuration
// under the issuer; everything else under Prefix.
const (
	Prefix        = "/oidc/"
	DiscoveryPath = oidc.DiscoveryEndpoint
	// ContinuePath is the portal's page that an authorization request goes
	// to: it logs the user in, asks their consent and returns a code.
	ContinuePath = "/oidc/continue"
	// AuthorizePath is the authorization endpoint.
	AuthorizePath = "/oidc/authorize"
	callbackPath  = AuthorizePath + "/callback"
	tokenPath     = "/oidc/token"
	endSession    = "/oidc/end_session"
)

// Config is what a Provider is made of.
type Config struct {
	// Issuer is the public URL, exactly as ID tokens and discovery name it.
	Issuer string
	// MasterKey seals the signing keys and derives the key that encrypts
	// codes and access tokens, so every instance of a cluster reads those of
	// the others.
	MasterKey []byte
	Store     Store
	Users     lanyard.UserService
	Logger    *slog.Logger
	// Lifetimes; zero takes the default.
	CodeTTL        time.Duration // 60 s
	RequestTTL     time.Duration // 10 min, for the login and consent
	AccessTokenTTL time.Duration // 1 h
	IDTokenTTL     time.Duration // 1 h
	// RefreshTokenTTL is how long a refresh token lives unused; each use
	// replaces it. Default 30 days.
	RefreshTokenTTL time.Duration
	// KeyOverlap is how long a retired signing key stays published; it
	// must outlast the ID tokens it signed. Default 24 h.
	KeyOverlap time.Duration
	// Now is the clock; tests set it.
	Now func() time.Time
}

// Provider is Lanyard's OpenID Connect provider.
type Provider struct {
	*Registry
	cfg   Config
	store Store
	users lanyard.UserService
	keys  *keyRing
	op    *op.Provider
}

// New returns a provider. Signing keys are made when first needed.
func New(cfg Config) (*Provider, error) {
	if cfg.Store == nil || cfg.Users == nil {
		return nil, fmt.Errorf("oidc: Store and Users are required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.CodeTTL, time.Minute)
	def(&cfg.RequestTTL, 10*time.Minute)
	def(&cfg.AccessTokenTTL, time.Hour)
	def(&cfg.IDTokenTTL, time.Hour)
	def(&cfg.RefreshTokenTTL, 30*24*time.Hour)
	def(&cfg.KeyOverlap, 24*time.Hour)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	keyBox, err := secret.New(cfg.MasterKey, "oidc signing keys")
	if err != nil {
		return nil, err
	}
	p := &Provider{Registry: NewRegistry(cfg.Store), cfg: cfg, store: cfg.Store, users: cfg.Users}
	p.keys = &keyRing{store: cfg.Store, box: keyBox, overlap: cfg.KeyOverlap, now: cfg.Now, unsealed: map[string]crypto.Signer{}}
	tokenKey, err := deriveKey(cfg.MasterKey, "oidc codes and access tokens")
	if err != nil {
		return nil, err
	}
	opCfg := &op.Config{
		CryptoKey:      tokenKey,
		CryptoKeyId:    "1",
		CodeMethodS256: true,
		AuthMethodPost: true,
		// Offered only to the clients registered for it.
		GrantTypeRefreshToken: true,
		SupportedClaims:       []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "c_hash", "email", "email_verified", "name", "preferred_username"},
		SupportedScopes:       []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail},
	}
	p.op, err = op.NewProvider(opCfg, &storage{p: p}, op.StaticIssuer(cfg.Issuer),
		op.WithAllowInsecure(), // the issuer is --public-url; plain http on loopback and behind proxies
		op.WithCustomEndpoints(
			op.NewEndpoint(AuthorizePath), op.NewEndpoint(tokenPath), op.NewEndpoint("/oidc/userinfo"),
			op.NewEndpoint("/oidc/revoke"), op.NewEndpoint(endSession), op.NewEndpoint("/oidc/keys")),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint("/oidc/introspect")),
		op.WithCustomDeviceAuthorizationEndpoint(op.NewEndpoint("/oidc/device_authorization")),
	)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	return p, nil
}

func deriveKey(master []byte, purpose string) ([32]byte, error) {
	var k [32]byte
	if len(master) < 32 {
		return k, fmt.Errorf("oidc: the master key must have at least 32 bytes")
	}
	b, err := hkdf.Key(sha256.New, master, nil, "lanyard "+purpose, 32)
	if err != nil {
		return k, fmt.Errorf("derive key: %w", err)
	}
	copy(k[:], b)
	return k, nil
}

func (p *Provider) now() time.Time { return p.cfg.Now() }

// Issuer returns the issuer the provider names in tokens and discovery.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// RotateKeys makes new signing keys; the old ones stay published for
// KeyOverlap, so tokens they signed keep verifying.
func (p *Provider) RotateKeys(ctx context.Context, actor lanyard.Actor) ([]*Key, error) {
	return p.keys.rotate(ctx, actor)
}

// PublishedKeyIDs lists the key IDs of the JWKS, active keys first.
func (p *Provider) PublishedKeyIDs(ctx context.Context) ([]string, error) {
	keys, err := p.keys.published(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = string(k.Algorithm()) + " " + k.ID()
	}
	return ids, nil
}
