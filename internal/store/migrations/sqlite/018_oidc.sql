-- OpenID Connect provider: registered applications, each user's opaque
-- subject, authorization requests with their codes, issued access tokens,
-- refresh tokens, the ID token signing keys and the users' consents.
CREATE TABLE oidc_clients (
	id INTEGER PRIMARY KEY,
	client_id TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	redirect_uris TEXT NOT NULL DEFAULT '',
	post_logout_redirect_uris TEXT NOT NULL DEFAULT '',
	public INTEGER NOT NULL DEFAULT 0,
	allow_password INTEGER NOT NULL DEFAULT 0,
	refresh_tokens INTEGER NOT NULL DEFAULT 0,
	secret_hash BLOB,
	id_token_alg TEXT NOT NULL DEFAULT 'RS256',
	disabled INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE TABLE oidc_subjects (
	user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	subject TEXT NOT NULL UNIQUE
);

CREATE TABLE oidc_auth_requests (
	id TEXT PRIMARY KEY,
	client_id TEXT NOT NULL,
	request TEXT NOT NULL,
	authorize_uri TEXT NOT NULL DEFAULT '',
	user_id INTEGER NOT NULL DEFAULT 0,
	subject TEXT NOT NULL DEFAULT '',
	method TEXT NOT NULL DEFAULT '',
	auth_time BIGINT NOT NULL DEFAULT 0,
	done INTEGER NOT NULL DEFAULT 0,
	code_hash BLOB UNIQUE,
	code_expires_at BIGINT NOT NULL DEFAULT 0,
	code_used INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests(expires_at);

CREATE TABLE oidc_tokens (
	id TEXT PRIMARY KEY,
	auth_request_id TEXT NOT NULL DEFAULT '',
	client_id TEXT NOT NULL,
	user_id INTEGER NOT NULL,
	subject TEXT NOT NULL,
	scopes TEXT NOT NULL DEFAULT '',
	revoked INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX oidc_tokens_auth_request ON oidc_tokens(auth_request_id);
CREATE INDEX oidc_tokens_expires ON oidc_tokens(expires_at);

-- Refresh tokens, for the applications that may have them: only their
-- hashes. Each use replaces the token; a replaced one used again revokes
-- its whole grant.
CREATE TABLE oidc_refresh_tokens (
	token_hash BLOB PRIMARY KEY,
	auth_request_id TEXT NOT NULL,
	client_id TEXT NOT NULL,
	user_id INTEGER NOT NULL,
	subject TEXT NOT NULL,
	method TEXT NOT NULL,
	auth_time BIGINT NOT NULL,
	scopes TEXT NOT NULL DEFAULT '',
	used INTEGER NOT NULL DEFAULT 0,
	revoked INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX oidc_refresh_tokens_grant ON oidc_refresh_tokens(auth_request_id);

CREATE TABLE oidc_keys (
	id TEXT PRIMARY KEY,
	algorithm TEXT NOT NULL,
	sealed BLOB NOT NULL,
	public_key BLOB NOT NULL,
	created_at BIGINT NOT NULL,
	retired_at BIGINT NOT NULL DEFAULT 0
);
-- One signing key per algorithm at a time: instances that create the first
-- key together agree on one.
CREATE UNIQUE INDEX oidc_keys_active ON oidc_keys(algorithm) WHERE retired_at = 0;

CREATE TABLE oidc_consents (
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	client INTEGER NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
	scopes TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (user_id, client)
);
