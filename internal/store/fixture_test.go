package store_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/store"
	"golang.org/x/crypto/ocsp"
)

// fixture is a database with users, a real CA and an open outbox, for the
// tests of operations on mobile IDs.
type fixture struct {
	dsn     string
	dataDir string
	db      *store.DB
	users   *store.UserService
	pki     *store.PKIStore
	ca      *pki.CA
}

func newFixture(t *testing.T, dsn string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{dsn: dsn, dataDir: t.TempDir(), db: openDB(t, dsn)}
	f.users = store.NewUserService(f.db, fastHash)
	f.pki = store.NewPKIStore(f.db)
	dataDir := f.dataDir
	ca, err := pki.Open(ctx, f.pki, pki.Config{PublicURL: "http://lanyard.test", DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ca.Close)
	f.ca = ca
	master, err := pki.LoadMasterKey("", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.OpenOutbox(f.db, master); err != nil {
		t.Fatal(err)
	}
	return f
}

// user creates an active user with a unique name.
func (f *fixture) user(t *testing.T) *lanyard.User {
	t.Helper()
	name := "u" + strings.ToLower(rand.Text()[:10])
	u := &lanyard.User{Username: name, Email: name + "@example.com", CommonName: "User " + name, State: lanyard.UserActive}
	if err := f.users.CreateUser(context.Background(), lanyard.CLIActor, u, ""); err != nil {
		t.Fatal(err)
	}
	return u
}

// registered starts a process for u with a registered mobile ID waiting
// for the app, and returns it with the hash of its activation code.
func (f *fixture) registered(t *testing.T, u *lanyard.User) (*lanyard.MobileID, []byte) {
	t.Helper()
	ctx := context.Background()
	e := &lanyard.Enrollment{PublicID: rand.Text(), UserID: u.ID, Process: "MobileIDSelfServiceProcGet", Step: lanyard.StepActivation,
		Options: []byte("{}"), Usages: []lanyard.CertificateUsage{lanyard.UsageSignature, lanyard.UsageAuthentication, lanyard.UsageEncryption}}
	if err := f.db.CreateEnrollment(ctx, lanyard.SystemActor, e); err != nil {
		t.Fatal(err)
	}
	m := &lanyard.MobileID{PublicID: rand.Text(), UserID: u.ID, State: lanyard.MobileIDRegistered, Process: e.Process,
		ProfileName: "MobileID " + u.CommonName, ServerName: "Smart ID", ProfileUser: u.Email}
	code := []byte(rand.Text())
	if err := f.db.SetActivationCode(ctx, lanyard.SystemActor, e, &lanyard.ActivationCode{Hash: code, ExpiresAt: time.Now().Add(time.Hour), MobileID: m}); err != nil {
		t.Fatal(err)
	}
	m.DeviceName, m.TransportKey, m.RecoveryPending = "phone", make([]byte, 32), true
	return m, code
}

// signed signs, without recording, the certificates of a mobile ID of u:
// signature, authentication and encryption with its archived key.
func (f *fixture) signed(t *testing.T, u *lanyard.User) []lanyard.SignedCertificate {
	t.Helper()
	var out []lanyard.SignedCertificate
	for _, usage := range []lanyard.CertificateUsage{lanyard.UsageSignature, lanyard.UsageAuthentication} {
		c, err := f.ca.SignCertificate(u, usage, newCSR(t), 1)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, lanyard.SignedCertificate{Certificate: c})
	}
	sc, _, err := f.ca.SignEncryptionCertificate(u, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, sc)
}

// active gives u an active mobile ID and returns it with its certificates.
func (f *fixture) active(t *testing.T, u *lanyard.User) (*lanyard.MobileID, []lanyard.SignedCertificate) {
	t.Helper()
	m, code := f.registered(t, u)
	certs := f.signed(t, u)
	if _, err := f.db.EnrollMobileID(context.Background(), lanyard.SystemActor, code, m, certs); err != nil {
		t.Fatal(err)
	}
	return m, certs
}

func newCSR(t *testing.T) []byte {
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

// ocspStatus asks the CA's OCSP responder about a certificate.
func (f *fixture) ocspStatus(t *testing.T, c *lanyard.Certificate) int {
	t.Helper()
	cert, err := x509.ParseCertificate(c.DER)
	if err != nil {
		t.Fatal(err)
	}
	der, err := ocsp.CreateRequest(cert, f.ca.Issuer(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/pki/ocsp", bytes.NewReader(der))
	req.Header.Set("Content-Type", "application/ocsp-request")
	rec := httptest.NewRecorder()
	f.ca.Handler().ServeHTTP(rec, req)
	resp, err := ocsp.ParseResponse(rec.Body.Bytes(), f.ca.Issuer())
	if err != nil {
		t.Fatalf("OCSP response: %v", err)
	}
	return resp.Status
}

// checkOCSP fails t unless OCSP says of each certificate what the database
// holds: good for a valid one, revoked for one revoked or on hold, unknown
// for one never recorded.
func (f *fixture) checkOCSP(t *testing.T, certs []lanyard.SignedCertificate) {
	t.Helper()
	for _, sc := range certs {
		want := ocsp.Unknown
		c, err := f.pki.FindCertificate(context.Background(), sc.Certificate.Serial)
		switch {
		case lanyard.ErrorCode(err) == lanyard.ENOTFOUND:
		case err != nil:
			t.Fatal(err)
		case c.Status == lanyard.CertificateValid:
			want = ocsp.Good
		default:
			want = ocsp.Revoked
		}
		if got := f.ocspStatus(t, sc.Certificate); got != want {
			t.Fatalf("OCSP says %d of %s, the database %d", got, sc.Certificate.Serial, want)
		}
		// The status read OCSP uses agrees with the whole row.
		st, serr := f.pki.FindCertificateStatus(context.Background(), sc.Certificate.Serial)
		if lanyard.ErrorCode(serr) != lanyard.ErrorCode(err) ||
			(err == nil && (st.Status != c.Status || !st.RevokedAt.Equal(c.RevokedAt) || st.Reason != c.Reason)) {
			t.Fatalf("status of %s: %+v %v, the row %+v %v", sc.Certificate.Serial, st, serr, c, err)
		}
	}
}
