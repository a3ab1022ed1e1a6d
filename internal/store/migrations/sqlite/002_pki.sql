-- The CA: its certificates, its sealed keys, the issued certificates, the
-- archive of server-made encryption keys and the CRLs every instance serves.
CREATE TABLE ca (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	algorithm TEXT NOT NULL,
	backend TEXT NOT NULL,
	root_cert BLOB NOT NULL,
	issuing_cert BLOB NOT NULL,
	root_key_label TEXT NOT NULL,
	issuing_key_label TEXT NOT NULL,
	recovery_key BLOB NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE ca_keys (
	label TEXT PRIMARY KEY,
	algorithm TEXT NOT NULL,
	sealed BLOB NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE certificates (
	id INTEGER PRIMARY KEY,
	serial TEXT NOT NULL UNIQUE,
	user_id INTEGER NOT NULL REFERENCES users(id),
	usage TEXT NOT NULL,
	not_before BIGINT NOT NULL,
	not_after BIGINT NOT NULL,
	status TEXT NOT NULL,
	revoked_at BIGINT NOT NULL DEFAULT 0,
	reason INTEGER NOT NULL DEFAULT 0,
	der BLOB NOT NULL,
	issued_at BIGINT NOT NULL
);
CREATE INDEX certificates_user ON certificates(user_id, issued_at);
CREATE INDEX certificates_status ON certificates(status, not_after);

CREATE TABLE key_archive (
	id INTEGER PRIMARY KEY,
	certificate_id INTEGER NOT NULL UNIQUE REFERENCES certificates(id),
	user_id INTEGER NOT NULL REFERENCES users(id),
	serial TEXT NOT NULL UNIQUE,
	algorithm TEXT NOT NULL,
	wrapped_key BLOB NOT NULL,
	ciphertext BLOB NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX key_archive_user ON key_archive(user_id);

CREATE TABLE crls (
	number BIGINT PRIMARY KEY,
	this_update BIGINT NOT NULL,
	next_update BIGINT NOT NULL,
	der BLOB NOT NULL
);
