// Package oidc makes Lanyard an OpenID Connect provider: other web
// applications log their users in through Lanyard, with the mobile ID or,
// where an application allows it, a password.
//
// The protocol is github.com/zitadel/oidc/v3's op package, an OpenID
// Certified provider library. It was chosen over ory/fosite because it is
// built for OpenID Connect first: discovery, JWKS, userinfo, RP-initiated
// logout, PKCE and both client_secret_basic and client_secret_post come
// with it and are driven by one Storage interface, where fosite is an
// OAuth 2.0 framework whose OpenID Connect parts, discovery and JWKS an
// application assembles and serves by itself. Less protocol code of
// Lanyard's own is less to get wrong.
//
// This package keeps what the library leaves to its user: applications
// (clients) with hashed secrets, authorization requests and their one-time
// codes, access tokens, the ID token signing keys (sealed under the master
// key like the CA's, rotated with the old public key still published) and
// the users' consents. All of it lives in the database through Store, so
// any instance of a cluster answers any step of a flow. The pages of the
// flow — login, consent — are the portal's (internal/web); they call the
// Provider's methods.
package oidc
