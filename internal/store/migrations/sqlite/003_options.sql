-- Every saved version of every process's option script.
CREATE TABLE option_scripts (
	id INTEGER PRIMARY KEY,
	process TEXT NOT NULL,
	version INTEGER NOT NULL,
	source TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL,
	UNIQUE (process, version)
);
