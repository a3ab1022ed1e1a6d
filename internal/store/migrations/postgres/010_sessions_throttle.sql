-- A message for the next page a session shows (instead of free text in a
-- URL), and login throttling: per key (an account or an address) the
-- failures in a row, the time before which no attempt is checked, and when
-- the account's password login was locked.
ALTER TABLE sessions ADD COLUMN flash TEXT NOT NULL DEFAULT '';

CREATE TABLE login_throttle (
	key TEXT PRIMARY KEY,
	failures INTEGER NOT NULL DEFAULT 0,
	next_at BIGINT NOT NULL DEFAULT 0,
	last_at BIGINT NOT NULL DEFAULT 0,
	locked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX login_throttle_last_at ON login_throttle(last_at);
