package appclient

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/lanyard-id/lanyard"
)

// APIError is an error answer of the app API: the HTTP status and the
// stable code and message of the error body. It unwraps to a
// *lanyard.Error with the same code and message, so lanyard.ErrorCode and
// lanyard.ErrorMessage work on it.
type APIError struct {
	Status  int
	Code    string
	Message string
	// RetryAfter is the wait the server asked for with Retry-After, with
	// rate_limited; zero if it asked for none.
	RetryAfter time.Duration
}

// Error returns the message, the code and the HTTP status on one line.
func (e *APIError) Error() string {
	return fmt.Sprintf("%s (%s, HTTP %d)", e.Message, e.Code, e.Status)
}

// Unwrap returns the error as a domain error.
func (e *APIError) Unwrap() error {
	return &lanyard.Error{Code: e.Code, Message: e.Message}
}

// decodeError turns a non-2xx answer into an *APIError. A body that is not
// an error body, such as a proxy's HTML page, gives code internal with the
// HTTP status in the message.
func decodeError(resp *http.Response, data []byte) *APIError {
	e := &APIError{Status: resp.StatusCode}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	var body ErrorBody
	if err := json.Unmarshal(data, &body); err != nil || body.Error.Code == "" {
		e.Code = lanyard.EINTERNAL
		e.Message = fmt.Sprintf("The server answered HTTP %s without an error code.", statusText(resp))
		return e
	}
	e.Code, e.Message = body.Error.Code, body.Error.Message
	if e.Message == "" {
		e.Message = fmt.Sprintf("The server answered HTTP %s.", statusText(resp))
	}
	return e
}

// statusText returns the status code and its text, such as
// "502 Bad Gateway".
func statusText(resp *http.Response) string {
	if t := http.StatusText(resp.StatusCode); t != "" {
		return strconv.Itoa(resp.StatusCode) + " " + t
	}
	return strconv.Itoa(resp.StatusCode)
}
