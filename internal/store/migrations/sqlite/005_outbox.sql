-- Mail waiting to be sent, and mail sent. The body (which may hold an
-- activation link) is stored only sealed under a key derived from the
-- master key.
CREATE TABLE outbox (
	id INTEGER PRIMARY KEY,
	to_addr TEXT NOT NULL,
	subject TEXT NOT NULL,
	kind TEXT NOT NULL,
	body BLOB NOT NULL,
	created_at BIGINT NOT NULL,
	sent_at BIGINT NOT NULL DEFAULT 0,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox(sent_at, next_attempt_at);
