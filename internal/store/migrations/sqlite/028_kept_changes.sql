-- Each server keeps in memory the sessions it has read, with their users,
-- and the current option scripts, and must drop them when another process
-- changes a user or a script or ends a session: these triggers count
-- every such change in kept_changes, which the server reads after each
-- change of the write-ahead log. Writing a session's last use (last_seen)
-- is no change for them.
CREATE TABLE kept_changes (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n INTEGER NOT NULL
);
INSERT INTO kept_changes (id, n) VALUES (1, 0);

CREATE TRIGGER users_changed AFTER UPDATE ON users
BEGIN
	UPDATE kept_changes SET n = n + 1;
END;

CREATE TRIGGER users_deleted AFTER DELETE ON users
BEGIN
	UPDATE kept_changes SET n = n + 1;
END;

CREATE TRIGGER sessions_ended AFTER DELETE ON sessions
BEGIN
	UPDATE kept_changes SET n = n + 1;
END;

CREATE TRIGGER sessions_changed AFTER UPDATE OF token_hash, user_id, created_at, expires_at, addr, method ON sessions
BEGIN
	UPDATE kept_changes SET n = n + 1;
END;

CREATE TRIGGER option_scripts_added AFTER INSERT ON option_scripts
BEGIN
	UPDATE kept_changes SET n = n + 1;
END;

CREATE TRIGGER option_scripts_changed AFTER UPDATE ON option_scripts
BEGIN
	UPDATE kept_changes SET n = n + 1;
END;

CREATE TRIGGER option_scripts_deleted AFTER DELETE ON option_scripts
BEGIN
	UPDATE kept_changes SET n = n + 1;
END;
