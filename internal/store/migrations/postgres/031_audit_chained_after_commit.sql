-- Audit events are written unchained and chained once their transaction
-- has committed (ChainAudit), in the order the chaining finds them: the
-- head's row lock, taken by every writer until its commit was on disk,
-- made the commits of every instance run one after the other.
--
-- The search terms' mark names an event's number in the chain, not its
-- ID: the numbers follow the commits, where IDs no longer do.
UPDATE audit_terms_mark SET upto = COALESCE((SELECT MAX(seq) FROM audit_log WHERE id <= audit_terms_mark.upto), 0);
