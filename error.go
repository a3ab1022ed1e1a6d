package lanyard

import (
	"errors"
	"fmt"
)

// Error codes are stable: the app API returns them to phones and scripts
// match on them, so a code is never renamed once released. The web and API
// edges map them to HTTP statuses; nothing below the edge knows about HTTP.
const (
	EINVALID      = "invalid"      // the caller sent something malformed or out of range
	ENOTFOUND     = "not_found"    // the thing does not exist or the caller may not see it
	ECONFLICT     = "conflict"     // the thing exists already or is in the wrong state
	EUNAUTHORIZED = "unauthorized" // the caller is not authenticated
	EFORBIDDEN    = "forbidden"    // the caller is authenticated but may not do this
	ERATELIMITED  = "rate_limited" // the caller tried too often; wait and retry
	EUSERSTATE    = "user_state"   // the user's state does not allow the process
	EEXPIRED      = "expired"      // a code or token is past its lifetime
	EINTERNAL     = "internal"     // a failure the caller cannot fix; details are logged, not shown
	EUNAVAILABLE  = "unavailable"  // what Lanyard depends on (its database) cannot be reached now; retry shortly
	ENOTIMPL      = "not_implemented"
)

// Error is the one error type that crosses package boundaries with a meaning
// a user may see. Message is written for a person and never contains secrets
// or internal details; internal failures are wrapped with fmt.Errorf instead
// and reach users only as EINTERNAL.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("lanyard error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of the first *Error in err's
// chain. Internal errors get a generic message so that their details (SQL,
// paths, key material) never reach a user.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred. It has been logged; please try again later."
}
