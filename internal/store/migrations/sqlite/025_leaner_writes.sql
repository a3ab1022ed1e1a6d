-- A queued mail's seal is bound to a reference of its own and to its
-- envelope (recipient, subject, kind), which the row gets as it is
-- inserted: before, it was bound to the row's ID, which took a second
-- write of every mail. Rows sealed before keep an empty reference and
-- their binding to the ID.
ALTER TABLE outbox ADD COLUMN seal_ref TEXT NOT NULL DEFAULT '';

-- Messages after a redirect now travel in a cookie sealed to the session.
ALTER TABLE sessions DROP COLUMN flash;
