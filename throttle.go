package lanyard

import (
	"context"
	"time"
)

// LoginPolicy slows password guessing down without locking the real user
// out (NIST SP 800-63B §5.2.2). Every failed login counts against the
// account and against the client's address. After a few failures in a row
// each further attempt waits, one second at first and twice as long after
// each failure, up to MaxDelay; while it waits no password is checked, not
// even the right one, so guessing costs the attacker time and the server
// nothing. The real user, whose right password is refused at most for the
// current wait, gets in after it. Only more than LockAfter failures in a row
// lock the account's password login, until an administrator lifts it.
type LoginPolicy struct {
	UserFree  int           // failures of an account before attempts wait
	AddrFree  int           // failures from an address before attempts wait
	MaxDelay  time.Duration // the longest wait
	LockAfter int           // more failures of an account than this in a row lock it
}

// DefaultLoginPolicy is the policy when nothing is configured.
var DefaultLoginPolicy = LoginPolicy{UserFree: 3, AddrFree: 20, MaxDelay: 5 * time.Minute, LockAfter: 100}

// Delay is the wait after the failures-th failure in a row of a key that is
// allowed free failures.
func (p LoginPolicy) Delay(failures, free int) time.Duration {
	if failures < free {
		return 0
	}
	n := failures - free
	if n >= 30 {
		return p.MaxDelay
	}
	return min(time.Second<<n, p.MaxDelay)
}

// LoginAttempt is the outcome of claiming an attempt before a password is
// checked.
type LoginAttempt struct {
	// Wait, when positive, is how long the account or the address must
	// wait; nothing was claimed, and the password must not be checked.
	Wait time.Duration
	// Locked means the account's password login is locked; nothing was
	// claimed.
	Locked bool
	// Last means this attempt, if it fails, locks the account.
	Last bool
}

// LoginLock is an account whose password login is locked.
type LoginLock struct {
	Username string
	Failures int
	Since    time.Time // the last failure
}

// LoginThrottle counts failed logins per account and per address across
// every instance of a cluster. An attempt is claimed, and counted as a
// failure, before its password is checked, so a burst of concurrent
// guesses cannot slip past the limit together; a right password then
// takes the count back.
type LoginThrottle interface {
	// ReserveLogin claims one attempt for the account username from the
	// address addr, unless either must wait or the account is locked.
	ReserveLogin(ctx context.Context, username, addr string) (LoginAttempt, error)
	// LoginSucceeded ends the account's failures in a row and gives the
	// address its claimed attempt back.
	LoginSucceeded(ctx context.Context, username, addr string) error
	// ReleaseLogin gives back a claimed attempt whose password was never
	// checked.
	ReleaseLogin(ctx context.Context, username, addr string) error
	// FindLoginLocks returns the locked accounts among usernames.
	FindLoginLocks(ctx context.Context, usernames []string) (map[string]LoginLock, error)
	// LiftLoginLock unlocks the password login of an account, audited.
	LiftLoginLock(ctx context.Context, actor Actor, username string) error
}
