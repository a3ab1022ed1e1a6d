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
	link = strings.TrimSpace(link)
	u, perr := url.Parse(link)
	switch {
	case link == "":
		return "", "", lanyard.Errorf(lanyard.EINVALID, "The enrollment link is empty.")
	case perr != nil:
		return "", "", lanyard.Errorf(lanyard.EINVALID, "This is not an enrollment link: it is not a valid URL.")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "", lanyard.Errorf(lanyard.EINVALID, "This is not an enrollment link: it must start with https:// or http://.")
	case u.Host == "" || u.Opaque != "":
		return "", "", lanyard.Errorf(lanyard.EINVALID, "This is not an enrollment link: it names no server.")
	case u.User != nil:
		return "", "", lanyard.Errorf(lanyard.EINVALID, "This is not an enrollment link: it must not carry a user name or password.")
	case !strings.HasSuffix(u.EscapedPath(), PathEnroll):
		return "", "", lanyard.Errorf(lanyard.EINVALID, "This is not an enrollment link: its path must end in %s.", PathEnroll)
	}
	query, qerr := url.ParseQuery(u.RawQuery)
	codes := query["code"]
	switch {
	case qerr != nil:
		return "", "", lanyard.Errorf(lanyard.EINVALID, "This is not an enrollment link: its query is malformed.")
	case len(codes) == 0 || codes[0] == "":
		return "", "", lanyard.Errorf(lanyard.EINVALID, "The enrollment link has no activation code.")
	case len(codes) > 1:
		return "", "", lanyard.Errorf(lanyard.EINVALID, "The enrollment link has more than one activation code.")
	}
	prefix := strings.TrimSuffix(u.EscapedPath(), PathEnroll)
	return u.Scheme + "://" + u.Host + prefix, codes[0], nil
}
