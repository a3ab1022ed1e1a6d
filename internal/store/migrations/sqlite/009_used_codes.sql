-- The hash of an activation code once used, so that an app that enrolled
-- but lost the answer can send the same code and keys again and get the
-- same mobile ID, while the code would still have been valid.
ALTER TABLE enrollments ADD COLUMN used_code_hash BLOB;
CREATE INDEX enrollments_used_code ON enrollments(used_code_hash);
