-- Audit events are written unchained and chained once their transaction
-- has committed (ChainAudit), in the order of the transactions' IDs: the
-- head's row lock, taken by every writer until its commit was on disk,
-- made the commits of every instance run one after the other. Events of
-- before are chained already (xid stays NULL); any not yet chained go
-- first.
ALTER TABLE audit_log ADD COLUMN xid xid8;
ALTER TABLE audit_log ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
UPDATE audit_log SET xid = '1' WHERE seq IS NULL;
CREATE INDEX audit_log_unchained ON audit_log (xid, id) WHERE seq IS NULL;

-- The search terms' mark names an event's number in the chain, not its
-- ID: the numbers follow the commits, where IDs no longer do.
UPDATE audit_terms_mark SET upto = COALESCE((SELECT MAX(seq) FROM audit_log WHERE id <= audit_terms_mark.upto), 0);
