-- How a session's user logged in, as an RFC 8176 amr value: pwd (a
-- password) or swk (the mobile ID's software-held key).
ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT 'pwd';
