-- Which instance of a cluster is ordering a certificate from the ACME CA,
-- until when: the others wait for its certificate instead of ordering one
-- of their own.
CREATE TABLE acme_orders (
	name TEXT PRIMARY KEY,
	holder TEXT NOT NULL,
	expires_at BIGINT NOT NULL
);
