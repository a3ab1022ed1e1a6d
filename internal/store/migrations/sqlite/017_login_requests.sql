-- Requests to log in with the mobile ID. The link's token and the asking
-- browser's secret are kept as SHA-256 hashes only.
CREATE TABLE login_requests (
	id INTEGER PRIMARY KEY,
	public_id TEXT NOT NULL UNIQUE,
	token_hash BLOB NOT NULL UNIQUE,
	browser_hash BLOB NOT NULL,
	challenge BLOB NOT NULL,
	match TEXT NOT NULL,
	choices TEXT NOT NULL,
	user_agent TEXT NOT NULL,
	addr TEXT NOT NULL,
	next TEXT NOT NULL,
	state TEXT NOT NULL,
	detail TEXT NOT NULL DEFAULT '',
	user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
	mobile_id BIGINT,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX login_requests_expires ON login_requests(expires_at);
