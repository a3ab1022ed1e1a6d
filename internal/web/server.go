// Package web serves Lanyard's pages — Self-Service, Operator and Admin —
// and the operational endpoints /healthz, /readyz and /metrics. Every route
// is registered in Handler; each page action lives in a file of its own.
package web

import (
	"context"
	"crypto"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/auditlog"
	"github.com/lanyard-id/lanyard/internal/mobileid"
	"github.com/lanyard-id/lanyard/internal/oidc"
	"github.com/lanyard-id/lanyard/internal/options"
	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/webapp"
	"github.com/prometheus/client_golang/prometheus"
)

// Server holds the dependencies of the pages. Fields are set once before
// Handler is called.
type Server struct {
	Users    lanyard.UserService
	Sessions lanyard.SessionService
	// Throttle limits password guessing per account and address.
	Throttle lanyard.LoginThrottle
	// Limiter counts other attempts by key, such as the login requests
	// an address starts.
	Limiter lanyard.LoginLimiter
	// Hashing bounds how many password hashes run at once; nil: a gate
	// sized for password.Default.
	Hashing *password.Gate
	// TrustedProxies are the reverse proxies whose X-Forwarded-For or
	// Forwarded header names the client; any other peer is the client.
	TrustedProxies []netip.Prefix
	Audit          lanyard.AuditService
	// AuditChain and AuditKey, when set, let Admin › Audit log verify the
	// log's chain against the audit key's checkpoints and export it whole.
	AuditChain auditlog.Source
	AuditKey   crypto.PublicKey
	Options    *options.Service
	Outbox     OutboxLister
	// MobileIDs runs the mobile ID processes.
	MobileIDs *mobileid.Service
	Logger    *slog.Logger

	// OIDC, when set, makes the portal an OpenID Connect provider, with
	// Admin › Applications and the user's list of consents.
	OIDC *oidc.Provider

	// Ready reports whether the instance can serve: the database answers
	// and its schema is current.
	Ready func(ctx context.Context) error
	// Mount registers extra routes, such as the app API's /app/v1/ routes,
	// on the portal's mux.
	Mount func(mux *http.ServeMux)
	// PKI serves everything under /pki/ (the CA's relying-party endpoints)
	// ahead of the portal's mux, which would redirect the "//" an OCSP GET
	// request may hold.
	PKI http.Handler
	// Stats, when set, adds the database's counts to /metrics.
	Stats lanyard.StatsService
	// Registry collects the Prometheus metrics served at /metrics.
	Registry *prometheus.Registry
	// Directory, when set, is the LDAP directory sync of Admin › Directory;
	// its state is also a line of /readyz.
	Directory DirectorySyncer
	// MetricsToken is the bearer token a scraper shows for /metrics;
	// empty: only administrators' sessions see them on this handler.
	MetricsToken string

	SessionTTL    time.Duration
	SecureCookies bool

	pages   pages
	metrics *metrics
}

// Handler returns the HTTP handler of every route.
func (s *Server) Handler() http.Handler {
	s.pages = mustParsePages()
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(s.Registry)
	if s.Hashing == nil {
		s.Hashing = password.GateFor(password.Default)
	}
	if s.Stats != nil {
		_ = s.Registry.Register(newStatsCollector(s.Stats))
	}

	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.Handle("GET /metrics", s.metricsHandler())

	mux.HandleFunc("GET /login", s.handleLoginPage)
	mux.HandleFunc("POST /login", s.handleLogin)
	mux.HandleFunc("POST /logout", s.handleLogout)
	mux.HandleFunc("POST /login/mobile-id", s.handleMobileLoginStart)
	mux.HandleFunc("GET /login/mobile-id/{id}", s.handleMobileLoginWait)

	mux.Handle("GET /{$}", s.requireUser(s.handleDashboard))
	mux.Handle("GET /password", s.requireLogin(s.handlePasswordPage))
	mux.Handle("POST /password", s.requireLogin(s.handlePassword))
	mux.Handle("GET /mobile-id", s.requireUser(s.handleMobileID))
	mux.Handle("POST /mobile-id/{id}/lock", s.requireUser(s.handleLock))
	mux.Handle("GET /mobile-id/get", s.requireUser(s.handleGetIntro))
	mux.Handle("POST /mobile-id/get", s.requireUser(s.handleGetStart))
	mux.Handle("GET /mobile-id/get/{process}", s.requireUser(s.handleGetStep))
	mux.Handle("POST /mobile-id/get/{process}/recovery", s.requireUser(s.handleGetRecovery))
	mux.Handle("POST /mobile-id/get/{process}/finish", s.requireUser(s.handleGetFinish))
	mux.Handle("POST /mobile-id/get/{process}/cancel", s.requireUser(s.handleGetCancel))

	mux.Handle("GET /operator", s.requireOperator(s.handleOperator))
	mux.Handle("GET /operator/users/{username}", s.requireOperator(s.handleOperatorUser))
	mux.Handle("POST /operator/users/{username}/supply", s.requireOperator(s.handleOperatorSupply))
	mux.Handle("POST /operator/users/{username}/state", s.requireOperator(s.handleOperatorState))
	mux.Handle("POST /operator/users/{username}/mobile-ids/{id}/lock", s.requireOperator(s.handleOperatorLock))
	mux.Handle("POST /operator/users/{username}/mobile-ids/{id}/delete", s.requireOperator(s.handleOperatorDelete))

	mux.Handle("GET /admin", s.requireRole(lanyard.RoleAdmin, s.handleAdmin))
	mux.Handle("GET /admin/users", s.requireRole(lanyard.RoleAdmin, s.handleAdminUsers))
	mux.Handle("POST /admin/users", s.requireRole(lanyard.RoleAdmin, s.handleAdminUserAdd))
	mux.Handle("POST /admin/users/import", s.requireRole(lanyard.RoleAdmin, s.handleAdminUserImport))
	mux.Handle("POST /admin/users/{username}/password", s.requireRole(lanyard.RoleAdmin, s.handleAdminUserPassword))
	mux.Handle("POST /admin/users/{username}/state", s.requireRole(lanyard.RoleAdmin, s.handleAdminUserState))
	mux.Handle("POST /admin/users/{username}/roles", s.requireRole(lanyard.RoleAdmin, s.handleAdminUserRoles))
	mux.Handle("POST /admin/users/{username}/unlock", s.requireRole(lanyard.RoleAdmin, s.handleAdminUserUnlock))
	mux.Handle("GET /admin/audit", s.requireRole(lanyard.RoleAdmin, s.handleAdminAudit))
	mux.Handle("GET /admin/audit/export.csv", s.requireRole(lanyard.RoleAdmin, s.handleAdminAuditExport))
	mux.Handle("GET /admin/outbox", s.requireRole(lanyard.RoleAdmin, s.handleAdminOutbox))
	mux.Handle("GET /admin/directory", s.requireRole(lanyard.RoleAdmin, s.handleAdminDirectory))
	mux.Handle("POST /admin/directory/sync", s.requireRole(lanyard.RoleAdmin, s.handleAdminDirectorySync))
	mux.Handle("GET /admin/options", s.requireRole(lanyard.RoleAdmin, s.handleAdminOptions))
	mux.Handle("GET /admin/options/{process}", s.requireRole(lanyard.RoleAdmin, s.handleAdminOption))
	mux.Handle("POST /admin/options/{process}", s.requireRole(lanyard.RoleAdmin, s.handleAdminOptionPost))
	mux.Handle("POST /admin/options/{process}/restore", s.requireRole(lanyard.RoleAdmin, s.handleAdminOptionRestore))

	if s.OIDC != nil {
		mux.HandleFunc("GET "+oidc.DiscoveryPath, s.handleOIDC)
		mux.HandleFunc(oidc.Prefix, s.handleOIDC)
		mux.HandleFunc("GET "+oidc.ContinuePath, s.handleOIDCContinue)
		mux.HandleFunc("POST /oidc/consent", s.handleOIDCConsent)
		mux.Handle("GET /applications", s.requireUser(s.handleApplications))
		mux.Handle("POST /applications/{client}/withdraw", s.requireUser(s.handleWithdrawConsent))
		mux.Handle("GET /admin/applications", s.requireRole(lanyard.RoleAdmin, s.handleAdminApplications))
		mux.Handle("POST /admin/applications", s.requireRole(lanyard.RoleAdmin, s.handleAdminApplicationAdd))
		mux.Handle("GET /admin/applications/{client}", s.requireRole(lanyard.RoleAdmin, s.handleAdminApplication))
		mux.Handle("POST /admin/applications/{client}", s.requireRole(lanyard.RoleAdmin, s.handleAdminApplicationSave))
		mux.Handle("POST /admin/applications/{client}/secret", s.requireRole(lanyard.RoleAdmin, s.handleAdminApplicationSecret))
		mux.Handle("POST /admin/applications/{client}/state", s.requireRole(lanyard.RoleAdmin, s.handleAdminApplicationState))
		mux.Handle("POST /admin/applications/{client}/delete", s.requireRole(lanyard.RoleAdmin, s.handleAdminApplicationDelete))
	}
	if s.Mount != nil {
		s.Mount(mux)
	}
	mux.HandleFunc("GET /app/v1/enroll", s.handleEnrollLanding)
	mux.HandleFunc("GET /app/v1/login", s.handleLoginLanding)
	mux.Handle("GET "+webapp.Prefix, webapp.Handler())
	mux.Handle("GET /wallet", http.RedirectHandler(webapp.Prefix, http.StatusMovedPermanently))
	mux.HandleFunc("/", s.handleNotFound)

	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(s.handleCrossOrigin))
	// The app API trusts nothing a browser adds by itself (no cookie, no
	// session): each call proves itself with an activation code or a
	// device signature, so a phone app of another origin may call it.
	csrf.AddInsecureBypassPattern("/app/v1/")
	// The OpenID Connect back-channel endpoints take no cookie either: the
	// client authenticates itself or presents a token, and an application
	// in a browser calls them from its own origin.
	for _, p := range []string{"/oidc/token", "/oidc/userinfo", "/oidc/revoke", "/oidc/introspect"} {
		csrf.AddInsecureBypassPattern(p)
	}
	var routes http.Handler = s.securityHeaders(csrf.Handler(s.loadSession(routed(mux))))
	if s.PKI != nil {
		// The relying-party endpoints serve certificates, CRLs and OCSP
		// answers to programs: no page, no session, no state a cross-origin
		// request could change, so the pages' headers and checks are left
		// out, bar nosniff, and the busiest endpoint costs the least.
		pages := routes
		routes = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/pki/") {
				w.Header()["X-Content-Type-Options"] = nosniff
				s.PKI.ServeHTTP(w, r)
				return
			}
			pages.ServeHTTP(w, r)
		})
	}
	return s.realClient(s.observe(mux, s.recoverPanics(routes)))
}

// nosniff is the X-Content-Type-Options value of the relying-party
// endpoints, one slice for all: its full capacity makes an Add copy it.
var nosniff = []string{"nosniff"}
