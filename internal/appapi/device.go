package appapi

import (
	"encoding/base64"
	"io"
	"net/http"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/mobileid"
)

// device authenticates a device-signed request and returns its mobile ID.
func (a *API) device(w http.ResponseWriter, r *http.Request) (*lanyard.MobileID, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, appclient.MaxRequestBody))
	if err != nil {
		a.renderError(w, r, lanyard.Errorf(lanyard.EINVALID, "The request body could not be read."))
		return nil, false
	}
	sig, err := base64.StdEncoding.DecodeString(r.Header.Get(appclient.HeaderSignature))
	if err != nil || len(sig) == 0 {
		a.renderError(w, r, lanyard.Errorf(lanyard.EUNAUTHORIZED, "The request is not signed by a device."))
		return nil, false
	}
	m, err := a.MobileIDs.AuthenticateDevice(r.Context(), mobileid.DeviceRequest{
		MobileID: r.Header.Get(appclient.HeaderDevice), Timestamp: r.Header.Get(appclient.HeaderTimestamp), Signature: sig,
		Method: r.Method, PathAndQuery: r.URL.RequestURI(), Body: body,
	})
	if err != nil {
		a.renderError(w, r, err)
		return nil, false
	}
	return m, true
}

func (a *API) handleSync(w http.ResponseWriter, r *http.Request) {
	m, ok := a.device(w, r)
	if !ok {
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
		a.renderError(w, r, err)
		return
	}
	render(w, http.StatusOK, appclient.VerifyResponse{
		Username: who.User.Username, UserID: who.MobileID.ProfileUser, CommonName: who.User.CommonName,
		MobileID: who.MobileID.PublicID, ProfileName: who.MobileID.ProfileName,
	})
}
