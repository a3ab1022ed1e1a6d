package web_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/mobileid"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestInterruptedEnrollmentIsUndone stands in for a server stopped between
// the use of a code and the activation: the code is claimed and a
// certificate issued, but the mobile ID never became active. The clean-up
// job must leave no registered mobile ID and no valid certificate behind.
func TestInterruptedEnrollmentIsUndone(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		p := newPortal(t, dsn)
		alice := p.addUser(t, "alice", lanyard.UserActive)
		ac := p.loggedIn(t, "alice")
		_, link := p.startGet(t, ac, nil)
		code := link[len(link)-26:]
		if _, err := p.db.ClaimActivationCode(t.Context(), mobileid.HashCode(code)); err != nil {
			t.Fatal(err)
		}
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		cert, err := p.ca.IssueCertificate(t.Context(), lanyard.SystemActor, alice, lanyard.UsageSignature, csr(t, key, ""), 2)
		if err != nil {
			t.Fatal(err)
		}
		// A moment later nothing is cleaned: the enrollment may be running.
		if n, err := p.mobile.CleanUpInterrupted(t.Context()); err != nil || n != 0 {
			t.Fatalf("clean-up of a fresh enrollment: %d, %v", n, err)
		}
		p.clock.Add(11 * time.Minute)
		defer p.clock.Reset()
		if n, err := p.mobile.CleanUpInterrupted(t.Context()); err != nil || n != 2 {
			t.Fatalf("clean-up: %d, %v", n, err)
		}
		ms, _ := p.db.FindMobileIDs(t.Context(), alice.ID, 100)
		if len(ms) != 0 {
			t.Fatalf("%d mobile IDs left, state %s", len(ms), ms[0].State)
		}
		if c, _ := p.ca.FindCertificateBySerial(t.Context(), cert.Serial); c.Status != lanyard.CertificateRevoked {
			t.Fatalf("orphaned certificate is %s", c.Status)
		}
		if n, _ := p.mobile.CleanUpInterrupted(t.Context()); n != 0 {
			t.Fatalf("a second clean-up found %d", n)
		}
	})
}
