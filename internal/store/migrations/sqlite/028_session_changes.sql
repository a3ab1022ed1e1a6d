-- Each server holds the sessions it has read, with their users, and must
-- drop them when another process changes a user or ends a session: these
-- triggers count every such change in session_changes, which the server
-- reads after each change of the write-ahead log. Writing a session's
-- last use (last_seen) is no change for them.
CREATE TABLE session_changes (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n INTEGER NOT NULL
);
INSERT INTO session_changes (id, n) VALUES (1, 0);

CREATE TRIGGER users_changed AFTER UPDATE ON users
BEGIN
	UPDATE session_changes SET n = n + 1;
END;

CREATE TRIGGER users_deleted AFTER DELETE ON users
BEGIN
	UPDATE session_changes SET n = n + 1;
END;

CREATE TRIGGER sessions_ended AFTER DELETE ON sessions
BEGIN
	UPDATE session_changes SET n = n + 1;
END;

CREATE TRIGGER sessions_changed AFTER UPDATE OF token_hash, user_id, created_at, expires_at, addr, method ON sessions
BEGIN
	UPDATE session_changes SET n = n + 1;
END;
