-- The hash of an activation code once used, so that an app that enrolled
-- but lost the answer can send the same code and keys again and get the
-- same mobile ID, while the code would still have been valid.
ALTER TABLE enrollments ADD COLUMN used_code_hash BYTEA;
CREATE INDEX enrollments_used_code ON enrollments(used_code_hash);
-- The expiry job looks for codes that expired every few seconds.
CREATE INDEX enrollments_code_expires ON enrollments(code_expires_at) WHERE code_hash IS NOT NULL;
