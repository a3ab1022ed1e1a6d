package appapi

import (
	"encoding/base64"
	"net/http"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/mobileid"
)

// handleLoginInfo tells the phone who asks to log in: the server's origin,
// the browser, its address, when, and the numbers to choose from.
func (a *API) handleLoginInfo(w http.ResponseWriter, r *http.Request) {
	key := "login-answer:" + clientAddr(r)
	if !a.waitOK(w, r, key, a.EnrollLimit, a.EnrollWindow, "Too many failed login answers from this address; try again later.") {
		return
	}
	var req appclient.LoginRequestRef
	if err := decode(w, r, &req); err != nil {
		a.renderError(w, r, err)
		return
	}
	if req.Request == "" {
		a.renderError(w, r, lanyard.Errorf(lanyard.EINVALID, "request is required."))
		return
	}
	lr, err := a.MobileIDs.LoginInfo(r.Context(), req.Request)
	if err != nil {
		a.failed(w, r, key, err)
		return
	}
	render(w, http.StatusOK, appclient.LoginInfo{
		RequestID: lr.PublicID, Origin: a.MobileIDs.Origin(), Browser: browserName(lr.UserAgent), Address: lr.Addr,
		CreatedAt: lr.CreatedAt, ExpiresAt: lr.ExpiresAt, Challenge: base64.StdEncoding.EncodeToString(lr.Challenge), Choices: lr.Choices,
	})
}

// handleLoginAnswer takes the phone's signed approval or denial.
func (a *API) handleLoginAnswer(w http.ResponseWriter, r *http.Request) {
	key := "login-answer:" + clientAddr(r)
	if !a.waitOK(w, r, key, a.EnrollLimit, a.EnrollWindow, "Too many failed login answers from this address; try again later.") {
		return
	}
	var req appclient.LoginAnswer
	if err := decode(w, r, &req); err != nil {
		a.renderError(w, r, err)
		return
	}
	if req.Request == "" || req.MobileID == "" || len(req.Signature) == 0 {
		a.renderError(w, r, lanyard.Errorf(lanyard.EINVALID, "request, mobile_id, decision and signature are required."))
		return
	}
	state, err := a.MobileIDs.AnswerLogin(r.Context(), mobileid.LoginAnswer{
		Token: req.Request, MobileID: req.MobileID, Decision: req.Decision, Match: req.Match, Signature: req.Signature,
	})
	if err != nil {
		a.failed(w, r, key, err)
		return
	}
	render(w, http.StatusOK, appclient.LoginAnswered{State: string(state)})
}

// failed counts a failed call against the address and answers it.
func (a *API) failed(w http.ResponseWriter, r *http.Request, key string, err error) {
	if code := lanyard.ErrorCode(err); code != lanyard.EINTERNAL && code != "" {
		if err := a.Limiter.RecordLoginFailure(r.Context(), key); err != nil {
			a.Logger.Error("record failure", "err", err)
		}
	}
	a.renderError(w, r, err)
}
