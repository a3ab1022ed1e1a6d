package pki

import (
	"bytes"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
)

// ocspCacheSeconds is how long a shared cache may keep an OCSP response to
// a request without a nonce; it is well under the response's nextUpdate,
// and short, because a client that caches sees a revocation only after it.
const ocspCacheSeconds = 300

const ocspGETPrefix = "/pki/ocsp/"

// routes adds the relying-party endpoints to mux:
//
//	GET  /pki/ca.pem           the chain, issuing CA first (PEM)
//	GET  /pki/ca.cer           the issuing CA certificate (DER), for AIA
//	GET  /pki/crl              the latest complete CRL (DER)
//	GET  /pki/crl/{shard}      the latest CRL of a shard (DER), as the
//	                           certificates of the shard name it
//	GET  /pki/ocsp/{request}   OCSP, base64 request in the path (RFC 6960 A.1)
//	POST /pki/ocsp             OCSP, DER request in the body
func (ca *CA) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /pki/ca.pem", ca.serveChain)
	mux.HandleFunc("GET /pki/ca.cer", ca.serveIssuer)
	mux.HandleFunc("GET /pki/crl", ca.serveCRL)
	mux.HandleFunc("GET /pki/crl/{shard}", ca.serveShardCRL)
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
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(r.URL.Path, ocspGETPrefix) {
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

// crlCacheSeconds is how long a client or shared cache may keep a CRL: a
// relying party sees a revocation within it (and OCSP at once).
const crlCacheSeconds = 300

func (ca *CA) serveCRL(w http.ResponseWriter, r *http.Request) {
	crl, err := ca.CRL(r.Context())
	if err != nil {
		slog.Error("serve CRL", "err", err)
		http.Error(w, "The CRL is not available; try again later.", http.StatusServiceUnavailable)
		return
	}
	ca.writeCRL(w, r, crl)
}

func (ca *CA) serveShardCRL(w http.ResponseWriter, r *http.Request) {
	crl, err := ca.ShardCRL(r.Context(), r.PathValue("shard"))
	if lanyard.ErrorCode(err) == lanyard.ENOTFOUND {
		http.Error(w, "There is no such CRL.", http.StatusNotFound)
		return
	} else if err != nil {
		slog.Error("serve CRL shard", "shard", r.PathValue("shard"), "err", err)
		http.Error(w, "The CRL is not available; try again later.", http.StatusServiceUnavailable)
		return
	}
	ca.writeCRL(w, r, crl)
}

// writeCRL sends a CRL from memory. Its ETag is its shard and number: the
// database never lets two CRLs of one shard share a number, so one ETag
// is always the same bytes, on every instance. http.ServeContent answers
// If-None-Match and If-Modified-Since with 304 and HEAD without a body.
func (ca *CA) writeCRL(w http.ResponseWriter, r *http.Request, crl *CRLRecord) {
	h := w.Header()
	now := ca.now()
	maxAge := min(crlCacheSeconds*time.Second, crl.NextUpdate.Sub(now)).Truncate(time.Second)
	h.Set("Content-Type", "application/pkix-crl")
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(max(maxAge, 0).Seconds()))+", no-transform")
	h.Set("ETag", `"`+crlETag(crl)+`"`)
	h.Set("Expires", now.Add(max(maxAge, 0)).Format(http.TimeFormat))
	http.ServeContent(w, r, "", crl.ThisUpdate, bytes.NewReader(crl.DER))
}

func crlETag(crl *CRLRecord) string {
	if crl.Shard == "" {
		return "crl-" + strconv.FormatInt(crl.Number, 10)
	}
	return "crl-" + crl.Shard + "-" + strconv.FormatInt(crl.Number, 10)
}

func (ca *CA) serveOCSPGet(w http.ResponseWriter, r *http.Request) {
	// The decoded path is the base64 request: what EscapedPath and
	// PathUnescape would give, without doing the work twice.
	der, err := decodeBase64(strings.TrimPrefix(r.URL.Path, ocspGETPrefix))
	if err != nil {
		ca.writeOCSP(w, r, &ocspAnswer{der: statusOnly(ocspMalformedRequest)})
		return
	}
	ca.writeOCSP(w, r, ca.respond(r.Context(), der))
}

func (ca *CA) serveOCSPPost(w http.ResponseWriter, r *http.Request) {
	der, err := readOCSPBody(r)
	if err != nil {
		ca.writeOCSP(w, r, &ocspAnswer{der: statusOnly(ocspMalformedRequest)})
		return
	}
	ca.writeOCSP(w, r, ca.respond(r.Context(), der))
}

// maxOCSPBody bounds a POSTed OCSP request.
const maxOCSPBody = 64 << 10

// readOCSPBody reads a POSTed request: at once into a buffer of its
// Content-Length when it gives one, as OCSP clients do.
func readOCSPBody(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n <= maxOCSPBody {
		der := make([]byte, n)
		if _, err := io.ReadFull(r.Body, der); err != nil {
			return nil, err
		}
		return der, nil
	}
	der, err := io.ReadAll(io.LimitReader(r.Body, maxOCSPBody+1))
	if err == nil && len(der) > maxOCSPBody {
		err = errMalformed
	}
	return der, err
}

// writeOCSP sends an OCSP response. Responses to nonce requests, and error
// responses, are not to be cached. Others may be, for a few minutes and
// never past their nextUpdate, by clients and by shared caches such as a
// CDN, which can revalidate them by their ETag.
func (ca *CA) writeOCSP(w http.ResponseWriter, r *http.Request, a *ocspAnswer) {
	h := w.Header()
	if a.etag == "" {
		h.Set("Content-Type", "application/ocsp-response")
		h.Set("Cache-Control", "no-cache, no-store, max-age=0")
		h.Set("Content-Length", strconv.Itoa(len(a.der)))
		w.Write(a.der)
		return
	}
	v := a.headers(ca.now())
	h["Content-Type"] = ocspContentType
	h["Cache-Control"] = v.cacheControl
	h["Etag"] = v.etag
	h["Last-Modified"] = v.lastModified
	h["Expires"] = v.expires
	if r.Method != http.MethodPost && etagMatches(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Length"] = v.contentLength
	w.Write(a.der)
}

// ocspContentType is the Content-Type of OCSP answers, one slice shared
// by all of them: net/http only reads it, and its full capacity makes an
// Add copy it rather than write into it.
var ocspContentType = []string{"application/ocsp-response"}

// ocspHeaders are the header values of a cacheable answer as of one
// second, made once for all the requests of that second.
type ocspHeaders struct {
	second                                                   int64
	cacheControl, etag, lastModified, expires, contentLength []string
}

// headers returns a's header values as of now.
func (a *ocspAnswer) headers(now time.Time) *ocspHeaders {
	sec := now.Unix()
	if v := a.hdr.Load(); v != nil && v.second == sec {
		return v
	}
	maxAge := min(ocspCacheSeconds*time.Second, a.nextUpdate.Sub(now)).Truncate(time.Second)
	one := func(s string) []string { return []string{s}[:1:1] }
	v := &ocspHeaders{
		second:        sec,
		cacheControl:  one("public, max-age=" + strconv.Itoa(int(max(maxAge, 0).Seconds())) + ", no-transform, must-revalidate"),
		etag:          one(a.etag),
		lastModified:  one(a.thisUpdate.Format(http.TimeFormat)),
		expires:       one(now.Add(maxAge).Format(http.TimeFormat)),
		contentLength: one(strconv.Itoa(len(a.der))),
	}
	a.hdr.Store(v)
	return v
}

// etagMatches reports whether an If-None-Match header names etag.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
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
