-- Each server keeps in memory the sessions it has read, with their users,
-- and the current option scripts, and must drop them when another
-- instance changes a user or a script or ends a session: these triggers
-- notify lanyard_kept of every such change, with the schema of the table
-- changed, delivered at the commit to each server that listens (TRUNCATE,
-- which runs no DELETE trigger, has its own). Writing a session's last use
-- (last_seen) is no change for them.
CREATE FUNCTION kept_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('lanyard_kept', TG_TABLE_SCHEMA);
	RETURN NULL;
END
$$;

CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION kept_changed();

CREATE TRIGGER sessions_ended AFTER DELETE ON sessions
	FOR EACH ROW EXECUTE FUNCTION kept_changed();

CREATE TRIGGER sessions_changed AFTER UPDATE OF token_hash, user_id, created_at, expires_at, addr, method ON sessions
	FOR EACH ROW EXECUTE FUNCTION kept_changed();

CREATE TRIGGER option_scripts_changed AFTER INSERT OR UPDATE OR DELETE ON option_scripts
	FOR EACH STATEMENT EXECUTE FUNCTION kept_changed();

CREATE TRIGGER users_truncated AFTER TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION kept_changed();

CREATE TRIGGER sessions_truncated AFTER TRUNCATE ON sessions
	FOR EACH STATEMENT EXECUTE FUNCTION kept_changed();

CREATE TRIGGER option_scripts_truncated AFTER TRUNCATE ON option_scripts
	FOR EACH STATEMENT EXECUTE FUNCTION kept_changed();
