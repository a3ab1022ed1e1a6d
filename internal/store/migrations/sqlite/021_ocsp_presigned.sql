-- Each certificate's OCSP response, signed ahead for its current status:
-- in the transaction that issues the certificate or changes its status,
-- and again by one instance of the cluster before it ages. ocsp_status
-- names the status the response is for ("status revoked_at reason"), so
-- a response is never served for a status the certificate no longer has.
-- ocsp_this_update orders the refresh; expired certificates leave it.
ALTER TABLE certificates ADD COLUMN ocsp_der BLOB;
ALTER TABLE certificates ADD COLUMN ocsp_status TEXT NOT NULL DEFAULT '';
ALTER TABLE certificates ADD COLUMN ocsp_this_update BIGINT NOT NULL DEFAULT 0;
CREATE INDEX certificates_ocsp_refresh ON certificates(ocsp_this_update);

-- The lease of the instance that signs ahead; one at a time.
CREATE TABLE ocsp_signer_lease (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	holder TEXT NOT NULL,
	expires_at BIGINT NOT NULL
);
INSERT INTO ocsp_signer_lease (id, holder, expires_at) VALUES (1, '', 0);

-- The status changes of the last minutes, in commit order: a server on
-- SQLite reads them every few milliseconds to learn of the changes other
-- processes (the administration commands) made. PostgreSQL tells of them
-- by NOTIFY instead.
CREATE TABLE ocsp_changes (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	serial TEXT NOT NULL,
	changed_at BIGINT NOT NULL
);
