-- Partitioned CRLs. Every certificate is listed, when revoked, by the CRL
-- shard named in its CRL distribution point, fixed at issuance by its
-- notAfter; certificates issued before shards existed have none ('') and
-- are listed only by the complete CRL. crl_shards holds, per shard, the
-- generation of its certificates' statuses (raised by every transaction
-- that changes one, so that any instance of a cluster sees what is owed),
-- and crl_shard_crls the latest CRL of each shard, in a table of its own
-- so that a status change never rewrites a CRL's bytes.
ALTER TABLE certificates ADD COLUMN crl_shard TEXT NOT NULL DEFAULT '';
CREATE INDEX certificates_revoked ON certificates(crl_shard, not_after, serial, revoked_at, reason) WHERE status <> 'valid';
CREATE TABLE crl_shards (
	shard TEXT PRIMARY KEY,
	generation BIGINT NOT NULL
);
CREATE TABLE crl_shard_crls (
	shard TEXT PRIMARY KEY,
	number BIGINT NOT NULL,
	covers BIGINT NOT NULL,
	this_update BIGINT NOT NULL,
	next_update BIGINT NOT NULL,
	der BLOB NOT NULL
);
