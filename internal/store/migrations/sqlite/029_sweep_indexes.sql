-- The sweeps delete rows whose time has passed, most of them in the
-- transaction that adds a row (a login sweeps the expired sessions, a
-- failed login the old failures): each needs an index on its column, or
-- it reads the whole table every time, and a burst of failed logins costs
-- time that grows with the square of its length.
CREATE INDEX sessions_expires ON sessions(expires_at);
CREATE INDEX login_failures_at ON login_failures(at);
CREATE INDEX auth_challenges_expires ON auth_challenges(expires_at);
CREATE INDEX oidc_refresh_tokens_expires ON oidc_refresh_tokens(expires_at);
CREATE INDEX ocsp_changes_changed ON ocsp_changes(changed_at);
