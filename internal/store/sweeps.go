package store

// The sweeps delete the rows whose time has passed. Most run in the
// transaction that adds a row to their table (a login sweeps the expired
// sessions, a failed login the old failures), so each has an index on its
// column (migration 029): without one it would read the whole table each
// time (TestSweepsUseIndexes).
const (
	sweepChallenges     = `DELETE FROM auth_challenges WHERE expires_at < ?`
	sweepDeviceRequests = `DELETE FROM device_requests WHERE expires_at < ?`
	sweepLoginRequests  = `DELETE FROM login_requests WHERE expires_at < ?`
	sweepLoginFailures  = `DELETE FROM login_failures WHERE at < ?`
	sweepLoginThrottle  = `DELETE FROM login_throttle WHERE last_at < ? AND failures <= ?`
	sweepSessions       = `DELETE FROM sessions WHERE expires_at < ?`
	sweepAuthRequests   = `DELETE FROM oidc_auth_requests WHERE expires_at < ?`
	sweepOIDCTokens     = `DELETE FROM oidc_tokens WHERE expires_at < ?`
	sweepRefreshTokens  = `DELETE FROM oidc_refresh_tokens WHERE expires_at < ?`
	sweepOCSPChanges    = `DELETE FROM ocsp_changes WHERE changed_at < ?` // SQLite only
)
