-- What the ACME client keeps between runs — the account key, certificates
-- and their keys — sealed under the master key, shared by every instance.
CREATE TABLE acme_cache (
	name TEXT PRIMARY KEY,
	sealed BYTEA NOT NULL,
	updated_at BIGINT NOT NULL
);
