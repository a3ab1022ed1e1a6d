package appapi

import (
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/mobileid"
)

// deviceRequest reads a device-signed request for the mobile ID service
// to check.
func (a *API) deviceRequest(w http.ResponseWriter, r *http.Request) (mobileid.DeviceRequest, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, appclient.MaxRequestBody))
	if err != nil {
		return mobileid.DeviceRequest{}, lanyard.Errorf(lanyard.EINVALID, "The request body could not be read.")
	}
	sig, err := base64.StdEncoding.DecodeString(r.Header.Get(appclient.HeaderSignature))
	if err != nil || len(sig) == 0 {
		return mobileid.DeviceRequest{}, lanyard.Errorf(lanyard.EUNAUTHORIZED, "The request is not signed by a device.")
	}
	return mobileid.DeviceRequest{
		MobileID: r.Header.Get(appclient.HeaderDevice), Timestamp: r.Header.Get(appclient.HeaderTimestamp), Signature: sig,
		Method: r.Method, PathAndQuery: r.URL.RequestURI(), Body: body,
	}, nil
}

func (a *API) handleSync(w http.ResponseWriter, r *http.Request) {
	req, err := a.deviceRequest(w, r)
	if err != nil {
		a.renderError(w, r, err)
		return
	}
	m, err := a.MobileIDs.AuthenticateDevice(r.Context(), req)
	if lanyard.ErrorCode(err) == lanyard.EUNAUTHORIZED {
		// A phone whose mobile ID was locked or deactivated, and so its
		// authentication certificate revoked or held, still learns the
		// state once it proves to be that phone; it gets no key.
		if state, serr := a.MobileIDs.DeviceState(r.Context(), req); serr == nil && state != lanyard.MobileIDActive {
			render(w, http.StatusOK, appclient.SyncResponse{MobileID: req.MobileID, State: string(state), EncryptionKeys: []appclient.EncryptionKey{}})
			return
		}
	}
	if err != nil {
		a.renderError(w, r, err)
		return
	}
	res, err := a.MobileIDs.Sync(r.Context(), m)
	if err != nil {
		a.renderError(w, r, err)
		return
	}
	render(w, http.StatusOK, appclient.SyncResponse{
		MobileID: m.PublicID, State: string(m.State), RecoveryPending: m.RecoveryPending,
		EncryptionKeys: encryptionKeys(res.EncryptionKeys),
	})
}

func (a *API) handleChallenge(w http.ResponseWriter, r *http.Request) {
	var req struct{}
	if r.ContentLength != 0 {
		if err := decode(w, r, &req); err != nil {
			a.renderError(w, r, err)
			return
		}
	}
	// Challenges cost a row each until they expire: a client gets at most
	// challengeLimit a minute.
	if !a.allow(w, r, "challenge:"+clientAddr(r), challengeLimit, time.Minute, "Too many challenges from this address; try again later.") {
		return
	}
	id, challenge, expires, err := a.MobileIDs.Challenge(r.Context())
	if err != nil {
		a.renderError(w, r, err)
		return
	}
	render(w, http.StatusOK, appclient.ChallengeResponse{
		ChallengeID: id, Challenge: base64.StdEncoding.EncodeToString(challenge), ExpiresAt: expires,
	})
}

func (a *API) handleVerify(w http.ResponseWriter, r *http.Request) {
	if !a.waitOK(w, r, "verify:"+clientAddr(r), a.EnrollLimit, a.EnrollWindow, "Too many failed verifications from this address; try again later.") {
		return
	}
	var req appclient.VerifyRequest
	if err := decode(w, r, &req); err != nil {
		a.renderError(w, r, err)
		return
	}
	if req.ChallengeID == "" || len(req.Certificate) == 0 || len(req.Signature) == 0 {
		a.renderError(w, r, lanyard.Errorf(lanyard.EINVALID, "challenge_id, certificate and signature are required."))
		return
	}
	who, err := a.MobileIDs.VerifyChallenge(r.Context(), req.ChallengeID, req.Certificate, req.Signature)
	if err != nil {
		if err := a.Limiter.RecordLoginFailure(r.Context(), "verify:"+clientAddr(r)); err != nil {
			a.Logger.Error("record verification failure", "err", err)
		}
		a.renderError(w, r, err)
		return
	}
	render(w, http.StatusOK, appclient.VerifyResponse{
		Username: who.User.Username, UserID: who.MobileID.ProfileUser, CommonName: who.User.CommonName,
		MobileID: who.MobileID.PublicID, ProfileName: who.MobileID.ProfileName,
	})
}

// challengeLimit is how many challenges one address may ask for a minute.
const challengeLimit = 120

// allow counts one use of key and refuses the request once key was used
// limit times within window.
func (a *API) allow(w http.ResponseWriter, r *http.Request, key string, limit int, window time.Duration, msg string) bool {
	if !a.waitOK(w, r, key, limit, window, msg) {
		return false
	}
	if err := a.Limiter.RecordLoginFailure(r.Context(), key); err != nil {
		a.renderError(w, r, err)
		return false
	}
	return true
}

// waitOK refuses the request with 429 and Retry-After while key is over
// its limit.
func (a *API) waitOK(w http.ResponseWriter, r *http.Request, key string, limit int, window time.Duration, msg string) bool {
	wait, err := a.Limiter.LoginAllowed(r.Context(), key, limit, window)
	if err != nil {
		a.renderError(w, r, err)
		return false
	}
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)))
		a.renderError(w, r, lanyard.Errorf(lanyard.ERATELIMITED, "%s", msg))
		return false
	}
	return true
}
