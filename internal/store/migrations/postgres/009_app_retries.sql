-- The hash of an activation code once used, so that an app that enrolled
-- but lost the answer can send the same code and keys again and get the
-- same mobile ID, while the code would still have been valid.
ALTER TABLE enrollments ADD COLUMN used_code_hash BYTEA;
CREATE INDEX enrollments_used_code ON enrollments(used_code_hash);
-- The expiry job looks for codes that expired every few seconds.
CREATE INDEX enrollments_code_expires ON enrollments(code_expires_at) WHERE code_hash IS NOT NULL;
-- Device-signed requests seen within the clock skew they are accepted in,
-- by the hash of their signature, so that a replayed request is refused.
CREATE TABLE device_requests (
	signature_hash BYTEA PRIMARY KEY,
	mobile_id BIGINT NOT NULL REFERENCES mobile_ids(id),
	expires_at BIGINT NOT NULL
);
CREATE INDEX device_requests_expires ON device_requests(expires_at);
