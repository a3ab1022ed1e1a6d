// Package appapi serves the app API (/app/v1/…) of docs/app-api.md: JSON
// in, JSON out, every error as a stable code. It translates between the
// wire types of package appclient and the mobile ID service, and nothing
// else: every decision is the service's.
package appapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/mobileid"
	"github.com/prometheus/client_golang/prometheus"
)

// API is the app API's HTTP side.
type API struct {
	MobileIDs *mobileid.Service
	Limiter   lanyard.LoginLimiter
	Logger    *slog.Logger
	// EnrollLimit failed enrollments per client address within
	// EnrollWindow are allowed before further attempts get 429.
	EnrollLimit  int
	EnrollWindow time.Duration
	// Registry, when set, gets the app API's metrics.
	Registry *prometheus.Registry
	// Ready reports whether the database answers; an internal failure
	// while it does not is answered 503 with the code "unavailable", so
	// that the app retries.
	Ready func(ctx context.Context) error

	enrollments *prometheus.CounterVec
}

// RegisterRoutes adds the app API's routes to mux.
func (a *API) RegisterRoutes(mux *http.ServeMux) {
	a.enrollments = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lanyard_enrollments_total", Help: "Enrollments by the app, by result: ok or the error code.",
	}, []string{"result"})
	if a.Registry != nil {
		_ = a.Registry.Register(a.enrollments)
	}
	mux.HandleFunc("POST "+appclient.PathEnroll, a.handleEnroll)
	mux.HandleFunc("GET "+appclient.PathSync, a.handleSync)
	mux.HandleFunc("POST "+appclient.PathChallenge, a.handleChallenge)
	mux.HandleFunc("POST "+appclient.PathVerify, a.handleVerify)
	mux.HandleFunc("POST "+appclient.PathLoginInfo, a.handleLoginInfo)
	mux.HandleFunc("POST "+appclient.PathLoginAnswer, a.handleLoginAnswer)
	mux.HandleFunc("OPTIONS /app/", a.handlePreflight)
	mux.HandleFunc("/app/", a.handleUnknown)
}

func (a *API) handleUnknown(w http.ResponseWriter, r *http.Request) {
	a.renderError(w, r, lanyard.Errorf(lanyard.ENOTFOUND, "There is no %s %s in the app API.", r.Method, r.URL.Path))
}

// render writes v as JSON with status.
func render(w http.ResponseWriter, status int, v any) {
	allowAnyOrigin(w)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// statuses maps error codes to HTTP statuses, at this edge only.
var statuses = map[string]int{
	lanyard.EINVALID:      http.StatusBadRequest,
	lanyard.EUNAUTHORIZED: http.StatusUnauthorized,
	lanyard.EUSERSTATE:    http.StatusForbidden,
	lanyard.EFORBIDDEN:    http.StatusForbidden,
	lanyard.ENOTFOUND:     http.StatusNotFound,
	lanyard.ECONFLICT:     http.StatusConflict,
	lanyard.EEXPIRED:      http.StatusGone,
	lanyard.ERATELIMITED:  http.StatusTooManyRequests,
	lanyard.EINTERNAL:     http.StatusInternalServerError,
	lanyard.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

// renderError writes err as the API's error body. Internal errors are
// logged once and reach the app only as a generic message.
func (a *API) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := lanyard.ErrorCode(err)
	status, ok := statuses[code]
	if !ok {
		code, status = lanyard.EINTERNAL, http.StatusInternalServerError
	}
	msg := lanyard.ErrorMessage(err)
	if code == lanyard.EINTERNAL && a.unavailable(r.Context()) {
		a.Logger.Warn("app API request failed: the database is unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		code, status, msg = lanyard.EUNAVAILABLE, http.StatusServiceUnavailable, "The server cannot reach its database at the moment. Try again in a few seconds."
		w.Header().Set("Retry-After", "5")
	} else if code == lanyard.EINTERNAL {
		a.Logger.Error("app API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	render(w, status, appclient.ErrorBody{Error: appclient.ErrorDetail{Code: code, Message: msg}})
}

// decode reads a JSON body of at most MaxRequestBody bytes into v and
// refuses unknown fields and trailing data.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, appclient.MaxRequestBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return lanyard.Errorf(lanyard.EINVALID, "The request body is larger than %d bytes.", appclient.MaxRequestBody)
	} else if err != nil {
		return lanyard.Errorf(lanyard.EINVALID, "The request body could not be read.")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return lanyard.Errorf(lanyard.EINVALID, "The request body is not the expected JSON: %s.", jsonReason(err))
	}
	if dec.More() {
		return lanyard.Errorf(lanyard.EINVALID, "The request body has data after the JSON object.")
	}
	return nil
}

// jsonReason describes a JSON error without echoing the input.
func jsonReason(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "malformed at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		return "field " + typ.Field + " has the wrong type"
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "it cannot be decoded"
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// unavailable reports whether the database does not answer now.
func (a *API) unavailable(ctx context.Context) bool {
	if a.Ready == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	return a.Ready(ctx) != nil
}
