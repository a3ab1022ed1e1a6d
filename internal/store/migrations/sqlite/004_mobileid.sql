-- Mobile IDs, the processes that create them with their activation codes,
-- and the challenges of device authentication.
CREATE TABLE mobile_ids (
	id INTEGER PRIMARY KEY,
	public_id TEXT NOT NULL UNIQUE,
	user_id INTEGER NOT NULL REFERENCES users(id),
	state TEXT NOT NULL,
	process TEXT NOT NULL,
	profile_name TEXT NOT NULL,
	server_name TEXT NOT NULL,
	profile_user TEXT NOT NULL,
	device_name TEXT NOT NULL DEFAULT '',
	transport_key BLOB,
	recovery_pending INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	activated_at BIGINT NOT NULL DEFAULT 0,
	updated_at BIGINT NOT NULL
);
CREATE INDEX mobile_ids_user ON mobile_ids(user_id);
-- One active mobile ID per user, held by the database itself.
CREATE UNIQUE INDEX mobile_ids_one_active ON mobile_ids(user_id) WHERE state = 'active';

CREATE TABLE mobile_id_certificates (
	mobile_id INTEGER NOT NULL REFERENCES mobile_ids(id),
	serial TEXT NOT NULL,
	usage TEXT NOT NULL,
	recovered INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (mobile_id, serial)
);
CREATE INDEX mobile_id_certificates_serial ON mobile_id_certificates(serial);

CREATE TABLE enrollments (
	id INTEGER PRIMARY KEY,
	public_id TEXT NOT NULL UNIQUE,
	user_id INTEGER NOT NULL REFERENCES users(id),
	process TEXT NOT NULL,
	step TEXT NOT NULL,
	options TEXT NOT NULL,
	usages TEXT NOT NULL DEFAULT '',
	recover_serials TEXT NOT NULL DEFAULT '',
	by_email INTEGER NOT NULL DEFAULT 0,
	code_hash BLOB UNIQUE,
	code_expires_at BIGINT NOT NULL DEFAULT 0,
	mobile_id INTEGER REFERENCES mobile_ids(id),
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX enrollments_user ON enrollments(user_id);

CREATE TABLE auth_challenges (
	public_id TEXT PRIMARY KEY,
	challenge BLOB NOT NULL,
	expires_at BIGINT NOT NULL
);
