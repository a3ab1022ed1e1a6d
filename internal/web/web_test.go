package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/appapi"
	"github.com/lanyard-id/lanyard/internal/mobileid"
	"github.com/lanyard-id/lanyard/internal/options"
	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"github.com/lanyard-id/lanyard/internal/web"
	"github.com/prometheus/client_golang/prometheus"
)

// portal is a running portal on a fresh database.
type portal struct {
	*httptest.Server
	dsn      string
	db       *store.DB
	users    *store.UserService
	sessions *store.SessionService
	// clock is the database's time, which tests move.
	clock  *clock
	log    *logBuffer
	ca     *pki.CA
	outbox *store.Outbox
	mobile *mobileid.Service
}

// testHash keeps argon2id cheap in the tests that do not measure it.
var testHash = password.Params{Memory: 1024, Time: 1, Threads: 1}

func newPortal(t testing.TB, dsn string, edit ...func(*web.Server)) *portal {
	t.Helper()
	return newPortalHashing(t, dsn, testHash, edit...)
}

// newPortalHashing is newPortal with passwords hashed at the cost params.
func newPortalHashing(t testing.TB, dsn string, params password.Params, edit ...func(*web.Server)) *portal {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// The database reads the time from a clock the tests move, set before
	// anything runs: background work reads it too.
	clk := &clock{}
	db.Now = clk.Now
	users := store.NewUserService(db, params)
	sessions := store.NewSessionService(db)
	sessions.Policy = lanyard.LoginPolicy{UserFree: 5, AddrFree: 100, MaxDelay: 5 * time.Minute, LockAfter: 100}
	logBuf := &logBuffer{}
	opts := &options.Service{Store: db, Users: users, Engine: options.New(options.Config{})}
	if err := opts.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	ca, err := pki.Open(ctx, store.NewPKIStore(db), pki.Config{PublicURL: "http://lanyard.test", DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ca.Close)
	master, err := pki.LoadMasterKey("", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	outbox, err := store.OpenOutbox(db, master)
	if err != nil {
		t.Fatal(err)
	}
	auditKey, err := ca.AuditSigner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv := &web.Server{
		AuditChain: db, AuditKey: auditKey.Public(),
		Users: users, Sessions: sessions, Throttle: sessions, Limiter: sessions, Audit: db, Options: opts, Outbox: outbox, Stats: db,
		Logger: slog.New(slog.NewTextHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Ready:  db.Ready, SessionTTL: time.Hour, MetricsToken: metricsToken,
		Hashing: password.NewGate(2),
	}
	ts := httptest.NewUnstartedServer(nil)
	srv.MobileIDs = &mobileid.Service{
		Store: db, Users: users, Certs: ca, CA: ca, Options: opts, Mail: outbox, Logger: srv.Logger, Logins: db,
		BaseURL: "http://" + ts.Listener.Addr().String(), ScreenCodeTTL: 15 * time.Minute, EmailCodeTTL: 72 * time.Hour,
	}
	srv.Registry = prometheus.NewRegistry()
	api := &appapi.API{MobileIDs: srv.MobileIDs, Limiter: sessions, Logger: srv.Logger, EnrollLimit: 20, EnrollWindow: time.Minute, Registry: srv.Registry, Ready: db.Ready}
	srv.PKI = ca.Handler()
	srv.Mount = func(mux *http.ServeMux) {
		api.RegisterRoutes(mux)
	}
	for _, f := range edit {
		f(srv)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return &portal{Server: ts, dsn: dsn, db: db, users: users, sessions: sessions, clock: clk, log: logBuf, ca: ca, outbox: outbox, mobile: srv.MobileIDs}
}

// addUser creates a user with the password "password of <username>".
func (p *portal) addUser(t *testing.T, username string, state lanyard.UserState, roles ...lanyard.Role) *lanyard.User {
	t.Helper()
	u := &lanyard.User{Username: username, Email: username + "@example.com", CommonName: strings.ToUpper(username[:1]) + username[1:] + " Example", State: state, Roles: roles}
	if err := p.users.CreateUser(context.Background(), lanyard.CLIActor, u, "password of "+username); err != nil {
		t.Fatal(err)
	}
	return u
}

// browser returns a client with a cookie jar that does not follow redirects.
func (p *portal) browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// post sends a same-origin form, as a browser on the portal's page would.
func (p *portal) post(t *testing.T, c *http.Client, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return do(t, c, req)
}

func (p *portal) get(t *testing.T, c *http.Client, path string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.URL+path, nil)
	return do(t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (p *portal) login(t *testing.T, c *http.Client, username, pw string) (*http.Response, string) {
	t.Helper()
	return p.post(t, c, "/login", url.Values{"username": {username}, "password": {pw}})
}

// loggedIn returns a client logged in as username.
func (p *portal) loggedIn(t *testing.T, username string) *http.Client {
	t.Helper()
	c := p.browser(t)
	resp, body := p.login(t, c, username, "password of "+username)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d %s", username, resp.StatusCode, body)
	}
	return c
}

// logBuffer captures the server's log for tests that read it.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func wantStatus(t *testing.T, resp *http.Response, body string, status int, contains ...string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body:\n%s", resp.StatusCode, status, body)
	}
	for _, s := range contains {
		if !strings.Contains(body, s) {
			t.Fatalf("body does not contain %q:\n%s", s, body)
		}
	}
}

func sqliteDSN(t *testing.T) string { return testenv.DSN(t, "sqlite") }

// clock is a time that tests move: the real time plus an offset, or a
// fixed time plus an offset once Set.
type clock struct {
	mu     sync.Mutex
	fixed  time.Time
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fixed.IsZero() {
		return c.fixed.Add(c.offset)
	}
	return time.Now().Add(c.offset)
}

// Add moves the clock forward by d.
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Set stops the clock at t.
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fixed, c.offset = t, 0
}

// Reset gives the clock the real time again.
func (c *clock) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fixed, c.offset = time.Time{}, 0
}
