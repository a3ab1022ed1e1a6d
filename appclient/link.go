package appclient

import (
	"net/url"
	"strings"

	"github.com/lanyard-id/lanyard"
)

// EnrollmentLink returns the link Self-Service shows as a QR code:
// <baseURL>/app/v1/enroll?code=<code>.
func EnrollmentLink(baseURL, code string) string {
	return strings.TrimRight(baseURL, "/") + PathEnroll + "?code=" + url.QueryEscape(code)
}

// ParseEnrollmentLink splits an enrollment link into the server's base URL
// (everything before /app/v1/enroll, without a trailing slash) and the
// activation code. It accepts only http and https links to a host, with no
// user name or password in them, whose path ends in /app/v1/enroll and
// whose query has exactly one non-empty code. Surrounding white space, as
// a QR code or a copied line may carry, is ignored. Errors are invalid
// errors with a message for a person; they never repeat the link, which
// may hold an activation code.
func ParseEnrollmentLink(link string) (baseURL, code string, err error) {
	return parseLink(link, PathEnroll, "code", "enrollment link")
}

// parseLink splits a link of the app API whose path ends in path into the
// base URL and its one non-empty parameter param; what names the link in
// messages.
func parseLink(link, path, param, what string) (baseURL, value string, err error) {
	link = strings.TrimSpace(link)
	u, perr := url.Parse(link)
	name := map[string]string{"code": "activation code", "request": "login request"}[param]
	a := "a " + what
	if strings.IndexByte("aeiou", what[0]) >= 0 {
		a = "an " + what
	}
	switch {
	case link == "":
		return "", "", lanyard.Errorf(lanyard.EINVALID, "The %s is empty.", what)
	case perr != nil:
		return "", "", lanyard.Errorf(lanyard.EINVALID, "This is not %s: it is not a valid URL.", a)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "", lanyard.Errorf(lanyard.EINVALID, "This is not %s: it must start with https:// or http://.", a)
	case u.Host == "" || u.Opaque != "":
		return "", "", lanyard.Errorf(lanyard.EINVALID, "This is not %s: it names no server.", a)
	case u.User != nil:
		return "", "", lanyard.Errorf(lanyard.EINVALID, "This is not %s: it must not carry a user name or password.", a)
	case !strings.HasSuffix(u.EscapedPath(), path):
		return "", "", lanyard.Errorf(lanyard.EINVALID, "This is not %s: its path must end in %s.", a, path)
	}
	query, qerr := url.ParseQuery(u.RawQuery)
	values := query[param]
	switch {
	case qerr != nil:
		return "", "", lanyard.Errorf(lanyard.EINVALID, "This is not %s: its query is malformed.", a)
	case len(values) == 0 || values[0] == "":
		return "", "", lanyard.Errorf(lanyard.EINVALID, "The %s has no %s.", what, name)
	case len(values) > 1:
		return "", "", lanyard.Errorf(lanyard.EINVALID, "The %s has more than one %s.", what, name)
	}
	prefix := strings.TrimSuffix(u.EscapedPath(), path)
	return u.Scheme + "://" + u.Host + prefix, values[0], nil
}

// LoginLink returns the link of a login request that the login page shows
// as a QR code and as text: <baseURL>/app/v1/login?request=<token>.
func LoginLink(baseURL, token string) string {
	return strings.TrimRight(baseURL, "/") + PathLogin + "?request=" + url.QueryEscape(token)
}

// ParseLoginLink splits a login link into the server's base URL and the
// login request's token, with the rules of ParseEnrollmentLink.
func ParseLoginLink(link string) (baseURL, token string, err error) {
	return parseLink(link, PathLogin, "request", "login link")
}
