package oidc

import (
	"context"
	"crypto"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
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
	p := &Provider{cfg: cfg, store: cfg.Store, users: cfg.Users}
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

// ServeHTTP answers discovery and the protocol endpoints under Prefix. The
// portal calls it with the browser's session in the context (WithLogout).
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	switch r.URL.Path {
	case DiscoveryPath:
		p.discover(w, r)
		return
	case AuthorizePath:
		if err := r.ParseForm(); err != nil {
			http.Error(w, "The request's form could not be read.", http.StatusBadRequest)
			return
		}
		// The login page returns to the authorization request as it came.
		uri := r.URL.RequestURI()
		if r.Method == http.MethodPost {
			uri = AuthorizePath + "?" + r.Form.Encode()
		}
		ctx = context.WithValue(ctx, authorizeURIKey, uri)
	case tokenPath:
		// The ID token is signed with the algorithm the client registered.
		if err := r.ParseForm(); err == nil {
			id, _, ok := r.BasicAuth()
			if !ok {
				id = r.PostForm.Get("client_id")
			} else {
				id, _ = url.QueryUnescape(id)
			}
			if c, err := p.store.FindClient(ctx, id); err == nil && c.IDTokenAlg != "" {
				ctx = context.WithValue(ctx, algKey, c.IDTokenAlg)
			}
		}
	}
	p.op.ServeHTTP(w, r.WithContext(ctx))
}

// discover serves the discovery document: the library's, saying only what
// Lanyard offers — the code flow, no implicit flow, no JWT grants.
func (p *Provider) discover(w http.ResponseWriter, r *http.Request) {
	d := op.CreateDiscoveryConfig(op.ContextWithIssuer(r.Context(), p.cfg.Issuer), p.op, &storage{p: p})
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{string(oidc.ResponseModeQuery)}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	d.DeviceAuthorizationEndpoint = ""
	// The library's CORS handling is not on this path: a relying party in
	// a browser reads the document from another origin.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	op.Discover(w, d)
}

// WithLogout hands the provider the function that ends the browser's
// portal session, for RP-initiated logout.
func WithLogout(ctx context.Context, logout func(context.Context) error) context.Context {
	return context.WithValue(ctx, logoutKey, logout)
}

// IsEndSession reports whether r is an RP-initiated logout.
func IsEndSession(r *http.Request) bool { return r.URL.Path == endSession }

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

// loginURL is the portal's login page, returning to the request; only the
// mobile ID is offered unless the client allows passwords.
func loginURL(r *AuthRequest, c *Client) string {
	u := "/login?next=" + url.QueryEscape(withoutFreshLogin(r.AuthorizeURI))
	if !c.AllowPassword {
		u += "&method=mobile-id"
	}
	return u
}

// scopeClaims says, for the consent screen, what each scope hands over.
var scopeClaims = map[string]string{
	oidc.ScopeOpenID:        "an identifier of you that tells nothing about you (sub), and how you logged in (acr, amr)",
	oidc.ScopeProfile:       "your name and username (name, preferred_username)",
	oidc.ScopeEmail:         "your email address (email, email_verified)",
	oidc.ScopeOfflineAccess: "access while you are not logged in, until you withdraw it (offline_access)",
}

// ClaimsOf describes the claims of scopes, for a person to read.
func ClaimsOf(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if d, ok := scopeClaims[s]; ok {
			out = append(out, d)
		}
	}
	return out
}

func joinScopes(s []string) string { return strings.Join(s, " ") }

// withoutFreshLogin drops prompt=login and max_age from an authorization
// request's URI: after the login they asked for, the request is met.
func withoutFreshLogin(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	q := u.Query()
	if !q.Has("prompt") && !q.Has("max_age") {
		return uri
	}
	q.Del("max_age")
	if prompts := slices.DeleteFunc(strings.Fields(q.Get("prompt")), func(p string) bool { return p == oidc.PromptLogin }); len(prompts) > 0 {
		q.Set("prompt", strings.Join(prompts, " "))
	} else {
		q.Del("prompt")
	}
	u.RawQuery = q.Encode()
	return u.RequestURI()
}
