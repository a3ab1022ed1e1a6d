package appclient

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxResponseBody is the largest answer the client reads, in bytes.
const MaxResponseBody = 4 << 20

// defaultHTTP is used when a Client has no HTTP client of its own.
var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

// Client calls the app API of one server, as a mobile app does.
type Client struct {
	// BaseURL is the server's base URL, as ParseEnrollmentLink returns it.
	BaseURL string
	// HTTP makes the requests and sets their timeout; nil means a client
	// with a 30-second timeout.
	HTTP *http.Client
}

// Enroll activates a mobile ID with an activation code and returns what
// what the server made for it.
func (c *Client) Enroll(ctx context.Context, req EnrollRequest) (*EnrollResponse, error) {
	var out EnrollResponse
	if err := c.call(ctx, http.MethodPost, PathEnroll, req, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Sync fetches the state of a mobile ID and the encryption keys delivered
// to it, in a request signed with the mobile ID's authentication key.
func (c *Client) Sync(ctx context.Context, mobileID string, authKey crypto.Signer) (*SyncResponse, error) {
	if mobileID == "" || authKey == nil {
		return nil, errors.New("sync needs a mobile ID and its authentication key")
	}
	var out SyncResponse
	if err := c.call(ctx, http.MethodGet, PathSync, nil, &device{mobileID, authKey}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Challenge asks the server for an authentication challenge.
func (c *Client) Challenge(ctx context.Context) (*ChallengeResponse, error) {
	var out ChallengeResponse
	if err := c.call(ctx, http.MethodPost, PathChallenge, struct{}{}, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Verify answers a challenge and returns the user it authenticated.
func (c *Client) Verify(ctx context.Context, req VerifyRequest) (*VerifyResponse, error) {
	var out VerifyResponse
	if err := c.call(ctx, http.MethodPost, PathVerify, req, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LoginInfo fetches what a login request shows the user, by the token of
// its link.
func (c *Client) LoginInfo(ctx context.Context, token string) (*LoginInfo, error) {
	var out LoginInfo
	if err := c.call(ctx, http.MethodPost, PathLoginInfo, LoginRequestRef{Request: token}, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AnswerLogin approves or denies a login request, signed with the mobile
// ID's authentication key over LoginPayload.
func (c *Client) AnswerLogin(ctx context.Context, token, mobileID string, info *LoginInfo, decision, match string, authKey crypto.Signer) (*LoginAnswered, error) {
	digest := sha256.Sum256(LoginPayload(Origin(c.BaseURL), info.RequestID, info.Challenge, decision, match))
	sig, err := authKey.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("sign the answer: %w", err)
	}
	return c.SendLoginAnswer(ctx, LoginAnswer{Request: token, MobileID: mobileID, Decision: decision, Match: match, Signature: sig})
}

// SendLoginAnswer sends an answer to a login request signed already.
func (c *Client) SendLoginAnswer(ctx context.Context, ans LoginAnswer) (*LoginAnswered, error) {
	var out LoginAnswered
	if err := c.call(ctx, http.MethodPost, PathLoginAnswer, ans, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// device is who signs a device-signed request.
type device struct {
	mobileID string
	key      crypto.Signer
}

// call sends in as JSON (no body if in is nil), signs the request if dev
// is set, and decodes a 2xx answer into out and any other into *APIError.
func (c *Client) call(ctx context.Context, method, path string, in any, dev *device, out any) error {
	if c.BaseURL == "" {
		return errors.New("the client has no server base URL")
	}
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("bad server address: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if dev != nil {
		if err := signRequest(req, path, body, dev); err != nil {
			return err
		}
	}
	client := c.HTTP
	if client == nil {
		client = defaultHTTP
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the server: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
	if err != nil {
		return fmt.Errorf("read the server's answer: %w", err)
	}
	if len(data) > MaxResponseBody {
		return fmt.Errorf("the server's answer is larger than %d bytes", MaxResponseBody)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the server's answer to %s is not valid: %w", path, err)
	}
	return nil
}

// signRequest sets the three headers of a device-signed request.
func signRequest(req *http.Request, path string, body []byte, dev *device) error {
	ts := time.Now().Unix()
	digest := sha256.Sum256(DevicePayload(req.Method, path, ts, body))
	sig, err := dev.key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	req.Header.Set(HeaderDevice, dev.mobileID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	return nil
}
