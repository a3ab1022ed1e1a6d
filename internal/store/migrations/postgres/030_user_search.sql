-- The user search of the Admin and Operator pages finds the users whose
-- username, email or name contains the text searched for. With a million
-- users, reading the table for it takes a second. users_search indexes
-- every run of three characters (trigram, from the extension pg_trgm that
-- comes with PostgreSQL) of those columns, so that a text of three
-- characters or more finds the users that may contain it at once; the
-- search then checks each of them as before.
--
-- The extension is made where the database has it already, or in the
-- schema public. Where it cannot be made (a role that may not create it),
-- there is no index, and the search reads the table as before.
-- Migrations run one at a time in a database (see applyMigration), so
-- that two schemas migrating at once do not both make it.
DO $$
DECLARE
	home text;
BEGIN
	BEGIN
		CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
	EXCEPTION WHEN OTHERS THEN
		RAISE NOTICE 'no index for the user search: %', SQLERRM;
	END;
	SELECT n.nspname INTO home FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		WHERE e.extname = 'pg_trgm';
	IF home IS NOT NULL THEN
		EXECUTE format('CREATE INDEX users_search ON users USING gin
			(lower(username || chr(1) || email || chr(1) || common_name) %I.gin_trgm_ops)', home);
	END IF;
END
$$;
