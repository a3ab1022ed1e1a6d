// Package appclient is the public Go side of the Lanyard app API, the
// contract between a Lanyard server and a mobile app described in
// docs/app-api.md: its wire types, the strings both sides sign, the sealing
// of server-made keys to the device, and a Client for the app's calls.
//
// The server imports the same types and helpers, so that the two sides of
// the contract cannot drift apart. The package depends on the standard
// library and the root lanyard package only.
package appclient

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The paths of the app API, relative to the server's base URL.
const (
	PathEnroll    = "/app/v1/enroll"
	PathSync      = "/app/v1/sync"
	PathChallenge = "/app/v1/auth/challenge"
	PathVerify    = "/app/v1/auth/verify"
	// PathLogin is the login link's path; PathLoginInfo and PathLoginAnswer
	// are the app's calls about a login request.
	PathLogin       = "/app/v1/login"
	PathLoginInfo   = "/app/v1/login/info"
	PathLoginAnswer = "/app/v1/login/answer"
)

// The decisions of a login request's answer.
const (
	DecisionApprove = "approve"
	DecisionDeny    = "deny"
)

// The headers of a device-signed request.
const (
	// HeaderDevice carries the mobile ID the request is about.
	HeaderDevice = "Lanyard-Device"
	// HeaderTimestamp carries the Unix time in seconds of the request.
	HeaderTimestamp = "Lanyard-Timestamp"
	// HeaderSignature carries the base64 ASN.1 ECDSA signature over
	// DevicePayload, made with the authentication key.
	HeaderSignature = "Lanyard-Signature"
)

// MaxRequestBody is the largest request body the server accepts, in bytes.
const MaxRequestBody = 256 << 10

// MaxClockSkew is how far a device-signed request's timestamp may be from
// the server's clock.
const MaxClockSkew = 5 * time.Minute

// MaxDeviceName is the longest device name, in characters, an enrollment
// may carry.
const MaxDeviceName = 64

// DevicePayload returns the bytes a device-signed request signs:
//
//	"lanyard-device-v1\n" + METHOD + "\n" + PATH_AND_QUERY + "\n" + TIMESTAMP + "\n" + hex(SHA-256(body))
//
// method is the HTTP method in upper case, pathAndQuery the request's path
// relative to the base URL with its query if it has one (for example
// "/app/v1/sync"), timestamp the value of the Lanyard-Timestamp header and
// body the request body, empty for a GET.
func DevicePayload(method, pathAndQuery string, timestamp int64, body []byte) []byte {
	sum := sha256.Sum256(body)
	b := make([]byte, 0, 128+len(pathAndQuery))
	b = append(b, "lanyard-device-v1\n"...)
	b = append(b, method...)
	b = append(b, '\n')
	b = append(b, pathAndQuery...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, timestamp, 10)
	b = append(b, '\n')
	return hex.AppendEncode(b, sum[:])
}

// AuthPayload returns the bytes an authentication key signs to answer a
// challenge: "lanyard-auth-v2\n" + origin + "\n" + challengeID + "\n" +
// challengeB64, origin being the server's origin as the app knows it
// (scheme://host[:port], see Origin) and the challenge the base64 text
// exactly as the server sent it. Naming the origin means a signature made
// for one server cannot be relayed to another.
func AuthPayload(origin, challengeID, challengeB64 string) []byte {
	return []byte("lanyard-auth-v2\n" + origin + "\n" + challengeID + "\n" + challengeB64)
}

// LoginPayload returns the bytes an authentication key signs to answer a
// login request: "lanyard-login-v1\n" + origin + "\n" + requestID + "\n" +
// challengeB64 + "\n" + decision + "\n" + match, with the server's origin,
// the request's ID and challenge as LoginInfo gave them, the decision
// (DecisionApprove or DecisionDeny) and the two-digit number the user chose.
func LoginPayload(origin, requestID, challengeB64, decision, match string) []byte {
	return []byte("lanyard-login-v1\n" + origin + "\n" + requestID + "\n" + challengeB64 + "\n" + decision + "\n" + match)
}

// Origin returns the origin of a base URL: its scheme and host (with the
// port, if any) in lower case, without a path; "" for a URL without them.
func Origin(baseURL string) string {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}
