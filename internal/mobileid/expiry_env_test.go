package mobileid_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/mobileid"
	"github.com/lanyard-id/lanyard/internal/options"
	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// clock is a time tests set by hand, shared by the services of an env.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time        { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)       { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Shift(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// env is one Lanyard instance on a fresh database with a real CA: the
// service's clock is set by the test, the CA's runs shifted by caShift.
type env struct {
	dsn     string
	dataDir string
	db      *store.DB
	users   *store.UserService
	opts    *options.Service
	ca      *pki.CA
	outbox  *store.Outbox
	svc     *mobileid.Service
	clock   *clock
	caClock *clock
}

func newEnv(t *testing.T, dsn string) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{dsn: dsn, dataDir: t.TempDir(), clock: &clock{t: time.Now()}, caClock: &clock{t: time.Now()}}
	e.db = testenv.OpenDB(t, dsn)
	e.users = store.NewUserService(e.db, password.Params{Memory: 64, Time: 1, Threads: 1})
	e.opts = &options.Service{Store: e.db, Users: e.users, Engine: options.New(options.Config{})}
	if err := e.opts.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	ca, err := pki.Open(ctx, store.NewPKIStore(e.db), pki.Config{PublicURL: "http://lanyard.test", DataDir: e.dataDir, Now: e.caClock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.ca = ca
	e.svc, e.outbox = e.instance(t, e.db)
	return e
}

// instance returns the reminder service of another instance on db, as a
// cluster member has: its own connections, the same keys and clock.
func (e *env) instance(t *testing.T, db *store.DB) (*mobileid.Service, *store.Outbox) {
	t.Helper()
	master, err := pki.LoadMasterKey("", e.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	outbox, err := store.OpenOutbox(db, master)
	if err != nil {
		t.Fatal(err)
	}
	return &mobileid.Service{
		Store: db, Users: e.users, Certs: e.ca, CA: e.ca, Options: e.opts, Mail: outbox,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		BaseURL: "https://id.example.com", Now: e.clock.Now,
		ScreenCodeTTL: 15 * time.Minute, EmailCodeTTL: 72 * time.Hour,
	}, outbox
}

// addUser creates an active user.
func (e *env) addUser(t *testing.T, username string) *lanyard.User {
	t.Helper()
	u := &lanyard.User{Username: username, Email: username + "@example.com", CommonName: strings.ToUpper(username[:1]) + username[1:] + " Example", State: lanyard.UserActive}
	if err := e.users.CreateUser(context.Background(), lanyard.CLIActor, u, ""); err != nil {
		t.Fatal(err)
	}
	return u
}

// activeMobileID gives u an active mobile ID holding a signature and an
// authentication certificate valid for one year from the CA's clock, and
// the recovered certificates given, and returns it with the time it
// expires.
func (e *env) activeMobileID(t *testing.T, u *lanyard.User, recovered ...string) (*lanyard.MobileID, time.Time) {
	t.Helper()
	ctx := context.Background()
	m := &lanyard.MobileID{PublicID: rand.Text(), UserID: u.ID, State: lanyard.MobileIDRegistered, Process: options.MobileIDSelfServiceProcGet,
		ProfileName: "MobileID " + u.CommonName, ServerName: "Smart ID", ProfileUser: u.Email, DeviceName: u.Username + "'s phone", TransportKey: make([]byte, 32)}
	var expires time.Time
	var signed []lanyard.SignedCertificate
	for _, usage := range []lanyard.CertificateUsage{lanyard.UsageSignature, lanyard.UsageAuthentication} {
		c, err := e.ca.SignCertificate(u, usage, csr(t), 1)
		if err != nil {
			t.Fatal(err)
		}
		if expires.IsZero() || c.NotAfter.Before(expires) {
			expires = c.NotAfter
		}
		signed = append(signed, lanyard.SignedCertificate{Certificate: c})
	}
	en := &lanyard.Enrollment{PublicID: rand.Text(), UserID: u.ID, Process: m.Process, Step: lanyard.StepIntro, Options: []byte("{}")}
	if err := e.db.CreateEnrollment(ctx, lanyard.SystemActor, en); err != nil {
		t.Fatal(err)
	}
	code := mobileid.HashCode(rand.Text())
	if err := e.db.SetActivationCode(ctx, lanyard.SystemActor, en, &lanyard.ActivationCode{Hash: code, ExpiresAt: time.Now().Add(time.Hour), MobileID: m}); err != nil {
		t.Fatal(err)
	}
	m.RecoveryPending = len(recovered) > 0
	if _, err := e.db.EnrollMobileID(ctx, lanyard.SystemActor, code, m, signed); err != nil {
		t.Fatal(err)
	}
	if len(recovered) > 0 {
		if err := e.db.AddRecoveredCertificates(ctx, lanyard.SystemActor, m, recovered); err != nil {
			t.Fatal(err)
		}
	}
	return m, expires
}

// csr returns a PKCS#10 request for a fresh P-256 key, as the app makes.
func csr(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// run runs the reminder job once and returns how many mails it queued.
func (e *env) run(t *testing.T) int {
	t.Helper()
	n, err := e.svc.SendExpiryReminders(context.Background())
	if err != nil {
		t.Fatalf("send expiry reminders: %v", err)
	}
	return n
}

// mails returns the expiry reminders queued for a user, oldest first.
func (e *env) mails(t *testing.T, u *lanyard.User) []*lanyard.Mail {
	t.Helper()
	ctx := context.Background()
	list, err := e.outbox.ListMail(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*lanyard.Mail
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Kind == "expiring" && list[i].To == u.Email {
			_, m, err := e.outbox.FindMail(ctx, list[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}

// audits returns the audit events of an action about a mobile ID.
func (e *env) audits(t *testing.T, action string, m *lanyard.MobileID) []*lanyard.AuditEvent {
	t.Helper()
	ev, err := e.db.FindAuditEvents(context.Background(), lanyard.AuditFilter{Action: action, Subject: m.PublicID})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// setScript saves the MobileIDExpiring script.
func (e *env) setScript(t *testing.T, src string) {
	t.Helper()
	if _, _, err := e.opts.Save(context.Background(), lanyard.CLIActor, options.MobileIDExpiring, src, ""); err != nil {
		t.Fatalf("save script: %v", err)
	}
}
