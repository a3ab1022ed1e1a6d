-- The audit log is searched by actor, action and subject through
-- audit_terms, which the background work fills in batches with the events
-- after audit_terms_mark; a search reads those that are not there yet from
-- the log itself. The three indexes this replaces had every commit write a
-- page of each for each of its events: a quarter of the pages a mobile ID
-- wrote.
CREATE TABLE audit_terms (
	kind INTEGER NOT NULL, -- 1 actor, 2 action, 3 subject
	term TEXT NOT NULL,
	event_id BIGINT NOT NULL,
	PRIMARY KEY (kind, term, event_id)
);
CREATE TABLE audit_terms_mark (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	upto BIGINT NOT NULL -- the events up to this ID are in audit_terms
);
-- The mark first, then the events up to it: an older instance still
-- writing meanwhile writes events after the mark, which the indexing
-- finds (events get their IDs in the order they commit).
INSERT INTO audit_terms_mark (id, upto) VALUES (1, COALESCE((SELECT MAX(id) FROM audit_log), 0));
INSERT INTO audit_terms (kind, term, event_id) SELECT 1, actor, id FROM audit_log WHERE actor <> '' AND id <= (SELECT upto FROM audit_terms_mark);
INSERT INTO audit_terms (kind, term, event_id) SELECT 2, action, id FROM audit_log WHERE action <> '' AND id <= (SELECT upto FROM audit_terms_mark);
INSERT INTO audit_terms (kind, term, event_id) SELECT 3, subject, id FROM audit_log WHERE subject <> '' AND id <= (SELECT upto FROM audit_terms_mark);
DROP INDEX audit_log_actor;
DROP INDEX audit_log_action;
DROP INDEX audit_log_subject;
