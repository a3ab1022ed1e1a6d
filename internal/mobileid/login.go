package mobileid

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
)

// LoginStart is a browser's request to log in with the mobile ID.
type LoginStart struct {
	UserAgent string
	Addr      string
	Next      string
}

// LoginStarted is a new login request with its secrets: the token of the
// link the phone opens, and the secret the asking browser keeps in a
// cookie, without which the approval does not become its session.
type LoginStarted struct {
	Request       *lanyard.LoginRequest
	Token         string
	BrowserSecret string
}

// StartLogin makes a login request: a link token and a browser secret of
// 130 random bits each, a 32-byte challenge, the two-digit number the
// browser shows and two other numbers for the phone to offer beside it.
func (s *Service) StartLogin(ctx context.Context, actor lanyard.Actor, in LoginStart) (*LoginStarted, error) {
	challenge := make([]byte, 32)
	rand.Read(challenge)
	choices := distinctNumbers(3)
	r := &lanyard.LoginRequest{
		PublicID: newSecret(), Challenge: challenge, Match: choices[0], Choices: shuffled(choices),
		UserAgent: clip(in.UserAgent, 300), Addr: in.Addr, Next: in.Next,
	}
	started := &LoginStarted{Request: r, Token: newSecret(), BrowserSecret: newSecret()}
	if err := s.Logins.CreateLoginRequest(ctx, actor, r, HashCode(started.Token), HashCode(started.BrowserSecret)); err != nil {
		return nil, err
	}
	return started, nil
}

// LoginInfo is what the phone shows of the request its link names.
func (s *Service) LoginInfo(ctx context.Context, token string) (*lanyard.LoginRequest, error) {
	r, err := s.Logins.FindLoginRequestByToken(ctx, HashCode(token))
	if err != nil {
		return nil, err
	}
	if err := s.stillOpen(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Origin is the origin of the server's public URL, which the phone signs.
func (s *Service) Origin() string { return appclient.Origin(s.BaseURL) }

// LoginAnswer is a phone's answer to a login request.
type LoginAnswer struct {
	Token     string
	MobileID  string
	Decision  string
	Match     string
	Signature []byte
}

// AnswerLogin checks a phone's answer: a request still open, a signature
// by the authentication key of a valid certificate over the statement that
// names this server's origin, the request and its challenge; then the
// number, and the mobile ID and user both active. A wrong number, a mobile
// ID or user not active, or expiry voids the request; a denial ends it.
// Every outcome is audited.
func (s *Service) AnswerLogin(ctx context.Context, in LoginAnswer) (lanyard.LoginState, error) {
	if in.Decision != appclient.DecisionApprove && in.Decision != appclient.DecisionDeny {
		return "", lanyard.Errorf(lanyard.EINVALID, "The decision must be %q or %q.", appclient.DecisionApprove, appclient.DecisionDeny)
	}
	r, err := s.Logins.FindLoginRequestByToken(ctx, HashCode(in.Token))
	if err != nil {
		return "", err
	}
	if err := s.stillOpen(ctx, r); err != nil {
		return "", err
	}
	// The signature is checked whatever the certificate's status, so that
	// a phone whose certificate was revoked still ends the request.
	payload := appclient.LoginPayload(s.Origin(), r.PublicID, base64.StdEncoding.EncodeToString(r.Challenge), in.Decision, in.Match)
	m, cert, err := s.signedByAuthenticationKey(ctx, in.MobileID, payload, in.Signature,
		lanyard.Errorf(lanyard.EUNAUTHORIZED, "The answer is not signed by the mobile ID for this server and this login request."))
	if err != nil {
		return "", err
	}
	actor := lanyard.Actor{Username: "app", Addr: "device " + m.DeviceName}
	fail := func(err error) (lanyard.LoginState, error) {
		if aerr := s.Logins.AnswerLoginRequest(ctx, actor, r.ID, lanyard.LoginFailed, m.UserID, m.ID, lanyard.ErrorMessage(err)); aerr != nil {
			return "", aerr
		}
		return "", err
	}
	if in.Decision == appclient.DecisionDeny {
		if err := s.Logins.AnswerLoginRequest(ctx, actor, r.ID, lanyard.LoginDenied, m.UserID, m.ID, "denied on the phone"); err != nil {
			return "", err
		}
		return lanyard.LoginDenied, nil
	}
	if in.Match != r.Match {
		return fail(lanyard.Errorf(lanyard.EUNAUTHORIZED, "The number chosen is not the one the browser shows; the login request is void. Start again on the login page."))
	}
	if err := s.usable(cert); err != nil {
		return fail(err)
	}
	if m.State != lanyard.MobileIDActive {
		return fail(lanyard.Errorf(lanyard.EUSERSTATE, "The mobile ID is %s; it cannot log in.", m.State))
	}
	u, err := s.Users.FindUserByID(ctx, m.UserID)
	if err != nil {
		return "", err
	}
	if u.State != lanyard.UserActive {
		return fail(lanyard.Errorf(lanyard.EUSERSTATE, "The user %s is %s; only active users log in.", u.Username, u.State))
	}
	if err := s.Logins.AnswerLoginRequest(ctx, actor, r.ID, lanyard.LoginApproved, m.UserID, m.ID, "approved by "+u.Username); err != nil {
		return "", err
	}
	return lanyard.LoginApproved, nil
}

// stillOpen refuses a request that was answered, or whose time is up;
// an expired request is marked failed on the way, once.
func (s *Service) stillOpen(ctx context.Context, r *lanyard.LoginRequest) error {
	if r.State != lanyard.LoginPending {
		return lanyard.Errorf(lanyard.ECONFLICT, "The login request was answered already.")
	}
	if !s.now().Before(r.ExpiresAt) {
		err := s.Logins.AnswerLoginRequest(ctx, lanyard.SystemActor, r.ID, lanyard.LoginFailed, 0, 0, "expired")
		if err != nil && lanyard.ErrorCode(err) != lanyard.ECONFLICT {
			return err
		}
		return lanyard.Errorf(lanyard.EEXPIRED, "The login request has expired. Start again on the login page.")
	}
	return nil
}

// LoginStatus is where a browser's login request stands.
func (s *Service) LoginStatus(ctx context.Context, publicID, browserSecret string) (*lanyard.LoginRequest, error) {
	r, err := s.Logins.FindLoginRequest(ctx, publicID, HashCode(browserSecret))
	if err != nil {
		return nil, err
	}
	if r.State == lanyard.LoginPending && !s.now().Before(r.ExpiresAt) {
		if err := s.stillOpen(ctx, r); lanyard.ErrorCode(err) != lanyard.EEXPIRED {
			return nil, err
		}
		r.State, r.Detail = lanyard.LoginFailed, "expired"
	}
	return r, nil
}

// CompleteLogin turns an approved request into a session of the browser
// that asked, and returns the session's token and user.
func (s *Service) CompleteLogin(ctx context.Context, actor lanyard.Actor, r *lanyard.LoginRequest, ttl time.Duration) (string, *lanyard.User, error) {
	return s.Logins.CompleteLoginRequest(ctx, actor, r.ID, ttl)
}

// distinctNumbers returns n different two-digit numbers, "00" to "99".
func distinctNumbers(n int) []string {
	var out []string
	for len(out) < n {
		v, _ := rand.Int(rand.Reader, big.NewInt(100))
		s := fmt.Sprintf("%02d", v.Int64())
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// shuffled returns the numbers in a random order, so that the position of
// the right one tells nothing.
func shuffled(in []string) []string {
	out := slices.Clone(in)
	for i := len(out) - 1; i > 0; i-- {
		j, _ := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return out
}

// clip cuts text to at most n bytes.
func clip(text string, n int) string {
	if len(text) <= n {
		return text
	}
	return text[:n]
}
