-- The user search of the Admin and Operator pages finds the users whose
-- username, email or name contains the text searched for. With a million
-- users, reading the table for it takes a second. users_search indexes
-- every run of three characters (trigram) of the three joined, so that a
-- text of three characters or more finds the users that may contain it
-- at once; the search then checks each of them as before. The triggers
-- keep it with every write of the users, whatever makes it.
--
-- search_text is computed, not stored: the index reads it when it checks
-- a user it found. The index records only which users hold a trigram
-- (detail = 'none'), which is all a LIKE needs.
ALTER TABLE users ADD COLUMN search_text TEXT
	GENERATED ALWAYS AS (username || char(1) || email || char(1) || common_name) VIRTUAL;
CREATE VIRTUAL TABLE users_search USING fts5(search_text,
	content = 'users', content_rowid = 'id', tokenize = 'trigram', detail = 'none');
-- Trigrams are gathered in memory up to 8 MB before they are written (1 MB
-- by default), which makes an import of many users faster.
INSERT INTO users_search (users_search, rank) VALUES ('hashsize', 8388608);
INSERT INTO users_search (users_search) VALUES ('rebuild');

CREATE TRIGGER users_search_added AFTER INSERT ON users
BEGIN
	INSERT INTO users_search (rowid, search_text) VALUES (new.id, new.search_text);
END;

CREATE TRIGGER users_search_deleted AFTER DELETE ON users
BEGIN
	INSERT INTO users_search (users_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;

CREATE TRIGGER users_search_changed AFTER UPDATE OF id, username, email, common_name ON users
BEGIN
	INSERT INTO users_search (users_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
	INSERT INTO users_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
