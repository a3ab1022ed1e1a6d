package pki

import (
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ocspCacheSeconds is how long a shared cache may keep an OCSP response to
// a request without a nonce; it is well under the response's nextUpdate.
const ocspCacheSeconds = 300

const ocspGETPrefix = "/pki/ocsp/"

// routes adds the relying-party endpoints to mux:
//
//	GET  /pki/ca.pem           the chain, issuing CA first (PEM)
//	GET  /pki/ca.cer           the issuing CA certificate (DER), for AIA
//	GET  /pki/crl              the latest complete CRL (DER)
//	GET  /pki/ocsp/{request}   OCSP, base64 request in the path (RFC 6960 A.1)
//	POST /pki/ocsp             OCSP, DER request in the body
func (ca *CA) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /pki/ca.pem", ca.serveChain)
	mux.HandleFunc("GET /pki/ca.cer", ca.serveIssuer)
	mux.HandleFunc("GET /pki/crl", ca.serveCRL)
	mux.HandleFunc("GET /pki/ocsp/{request...}", ca.serveOCSPGet)
	mux.HandleFunc("POST /pki/ocsp", ca.serveOCSPPost)
}

// Handler returns the handler of the relying-party endpoints under /pki/.
// A ServeMux redirects paths with "//", which a base64 OCSP request may
// contain, so OCSP GETs are taken before any mux: servers put this handler
// in front of their own mux, not on it.
func (ca *CA) Handler() http.Handler {
	mux := http.NewServeMux()
	ca.routes(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(r.URL.EscapedPath(), ocspGETPrefix) {
			ca.serveOCSPGet(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (ca *CA) serveChain(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/pem-certificate-chain")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(ca.chainPEM)
}

func (ca *CA) serveIssuer(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/pkix-cert")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(ca.issuer.Raw)
}

func (ca *CA) serveCRL(w http.ResponseWriter, r *http.Request) {
	crl, err := ca.CRL(r.Context())
	if err != nil {
		slog.Error("serve CRL", "err", err)
		http.Error(w, "The CRL is not available; try again later.", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Header().Set("Cache-Control", "public, max-age=300, no-transform")
	w.Header().Set("Last-Modified", crl.ThisUpdate.Format(http.TimeFormat))
	w.Header().Set("Expires", crl.NextUpdate.Format(http.TimeFormat))
	w.Write(crl.DER)
}

func (ca *CA) serveOCSPGet(w http.ResponseWriter, r *http.Request) {
	enc := strings.TrimPrefix(r.URL.EscapedPath(), ocspGETPrefix)
	raw, err := url.PathUnescape(enc)
	var der []byte
	if err == nil {
		der, err = decodeBase64(raw)
	}
	if err != nil {
		ca.writeOCSP(w, statusOnly(ocspMalformedRequest), true)
		return
	}
	resp, nonce := ca.respond(r.Context(), der)
	ca.writeOCSP(w, resp, nonce)
}

func (ca *CA) serveOCSPPost(w http.ResponseWriter, r *http.Request) {
	der, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	if err != nil || len(der) > 64<<10 {
		ca.writeOCSP(w, statusOnly(ocspMalformedRequest), true)
		return
	}
	resp, nonce := ca.respond(r.Context(), der)
	ca.writeOCSP(w, resp, nonce)
}

// writeOCSP sends an OCSP response. Responses to nonce requests, and error
// responses, are not to be cached; others may be for a few minutes.
func (ca *CA) writeOCSP(w http.ResponseWriter, resp []byte, noCache bool) {
	h := w.Header()
	h.Set("Content-Type", "application/ocsp-response")
	h.Set("Content-Length", strconv.Itoa(len(resp)))
	if noCache || len(resp) < 16 {
		h.Set("Cache-Control", "no-cache, no-store, max-age=0")
	} else {
		now := ca.now()
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(ocspCacheSeconds)+", no-transform, must-revalidate")
		h.Set("Last-Modified", now.Format(http.TimeFormat))
		h.Set("Expires", now.Add(ocspCacheSeconds*time.Second).Format(http.TimeFormat))
	}
	w.Write(resp)
}

// decodeBase64 accepts the standard and the URL-safe alphabets, with or
// without padding, since clients differ.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
