package oidc

import (
	"context"
	"net/http"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

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
