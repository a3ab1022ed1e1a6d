package appapi

import (
	"net/http"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/mobileid"
)

func (a *API) handleEnroll(w http.ResponseWriter, r *http.Request) {
	key := "enroll:" + clientAddr(r)
	if !a.waitOK(w, r, key, a.EnrollLimit, a.EnrollWindow, "Too many failed enrollments from this address; try again later.") {
		return
	}
	var req appclient.EnrollRequest
	if err := decode(w, r, &req); err != nil {
		a.renderError(w, r, err)
		return
	}
	in := mobileid.EnrollRequest{
		Code: req.Code, DeviceName: req.DeviceName, TransportKey: req.TransportKey,
		CSRs: map[lanyard.CertificateUsage][]byte{},
	}
	if req.CSRs.Signature != nil {
		in.CSRs[lanyard.UsageSignature] = req.CSRs.Signature
	}
	if req.CSRs.Authentication != nil {
		in.CSRs[lanyard.UsageAuthentication] = req.CSRs.Authentication
	}
	res, err := a.MobileIDs.Enroll(r.Context(), in)
	result := lanyard.ErrorCode(err)
	if result == "" {
		result = "ok"
	}
	a.enrollments.WithLabelValues(result).Inc()
	if err != nil {
		// Guessing codes is what the limit is for; count what looks like it.
		if c := lanyard.ErrorCode(err); c == lanyard.ENOTFOUND || c == lanyard.EEXPIRED || c == lanyard.EINVALID {
			if err := a.Limiter.RecordLoginFailure(r.Context(), key); err != nil {
				a.Logger.Error("record enrollment failure", "err", err)
			}
		}
		a.renderError(w, r, err)
		return
	}
	m := res.MobileID
	out := appclient.EnrollResponse{
		MobileID: m.PublicID, State: string(m.State),
		ProfileName: m.ProfileName, ServerName: m.ServerName, UserID: m.ProfileUser,
		RecoveryPending: m.RecoveryPending,
		Certificates:    []appclient.Certificate{}, EncryptionKeys: encryptionKeys(res.EncryptionKeys),
	}
	for _, c := range res.Certificates {
		if c.Usage != lanyard.UsageEncryption {
			out.Certificates = append(out.Certificates, appclient.Certificate{Usage: string(c.Usage), Serial: c.Serial, Certificate: c.DER})
		}
	}
	for _, c := range res.Chain {
		out.Chain = append(out.Chain, c.Raw)
	}
	render(w, http.StatusOK, out)
}

func encryptionKeys(keys []mobileid.DeliveredKey) []appclient.EncryptionKey {
	out := []appclient.EncryptionKey{}
	for _, k := range keys {
		out = append(out, appclient.EncryptionKey{
			Serial: k.Certificate.Serial, Certificate: k.Certificate.DER, Recovered: k.Recovered, SealedKey: k.SealedKey,
		})
	}
	return out
}
