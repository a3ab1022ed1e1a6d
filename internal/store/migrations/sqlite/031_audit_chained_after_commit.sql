-- The search terms' mark names an event's number in the chain, not its
-- ID, as on PostgreSQL, where events are chained after they commit and
-- their IDs do not follow the commits.
UPDATE audit_terms_mark SET upto = COALESCE((SELECT MAX(seq) FROM audit_log WHERE id <= audit_terms_mark.upto), 0);
