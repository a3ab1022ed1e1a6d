-- Each server holds the sessions it has read, with their users, and must
-- drop them when another instance changes a user or ends a session: these
-- triggers notify lanyard_sessions of every such change, delivered at the
-- commit to each server that listens. Writing a session's last use
-- (last_seen) is no change for them.
CREATE FUNCTION sessions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('lanyard_sessions', '');
	RETURN NULL;
END
$$;

CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION sessions_changed();

CREATE TRIGGER sessions_ended AFTER DELETE ON sessions
	FOR EACH ROW EXECUTE FUNCTION sessions_changed();

CREATE TRIGGER sessions_changed AFTER UPDATE OF token_hash, user_id, created_at, expires_at, addr, method ON sessions
	FOR EACH ROW EXECUTE FUNCTION sessions_changed();
