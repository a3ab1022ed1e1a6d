-- Users read from an LDAP directory. directory_dn is set for directory
-- users only (empty: a local user); directory_seen is the number of the last
-- sync that found the user; directory_deactivated marks users the directory
-- made inactive, the only ones it makes active again.
ALTER TABLE users ADD COLUMN directory_dn TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN directory_seen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN directory_deactivated INTEGER NOT NULL DEFAULT 0;
CREATE INDEX users_directory_seen ON users(directory_seen);

-- One row per sync, dry runs included: what it found and changed, or why it
-- failed. changes holds the first changes as JSON, for Admin › Directory.
CREATE TABLE directory_syncs (
	id INTEGER PRIMARY KEY,
	started_at BIGINT NOT NULL,
	finished_at BIGINT NOT NULL DEFAULT 0,
	dry_run INTEGER NOT NULL DEFAULT 0,
	actor TEXT NOT NULL DEFAULT '',
	ok INTEGER NOT NULL DEFAULT 0,
	entries INTEGER NOT NULL DEFAULT 0,
	added INTEGER NOT NULL DEFAULT 0,
	updated INTEGER NOT NULL DEFAULT 0,
	deactivated INTEGER NOT NULL DEFAULT 0,
	reactivated INTEGER NOT NULL DEFAULT 0,
	conflicts INTEGER NOT NULL DEFAULT 0,
	changes TEXT NOT NULL DEFAULT '[]',
	error TEXT NOT NULL DEFAULT ''
);

-- The schedule of the periodic sync: an instance claims a run by moving
-- next_run forward with a conditional update, so a cluster syncs once per
-- interval.
CREATE TABLE directory_schedule (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	next_run BIGINT NOT NULL
);
INSERT INTO directory_schedule (id, next_run) VALUES (1, 0);
