package pki_test

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestCRLBurstSharesOneCRL revokes many certificates at once: they share a
// few CRLs instead of one each, published in the background, and the CRL
// served once they are lists them all.
func TestCRLBurstSharesOneCRL(t *testing.T) {
	e := newEnv(t, testenv.DSN(t, "sqlite"), pki.Config{})
	ctx := context.Background()
	var serials []string
	for range 12 {
		c, _ := e.issue(t, e.alice, lanyard.UsageSignature)
		serials = append(serials, c.Serial)
	}
	before, err := e.st.LatestCRL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range serials {
		if _, err := e.ca.RevokeCertificate(ctx, lanyard.CLIActor, s, lanyard.ReasonKeyCompromise); err != nil {
			t.Fatal(err)
		}
	}
	var crl *pki.CRLRecord
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var err error
		if crl, err = e.ca.CRL(ctx); err != nil {
			t.Fatal(err)
		}
		if g, _ := e.st.CRLGeneration(ctx); crl.Covers >= g {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("after 20 s the CRL covers generation %d of %d", crl.Covers, g)
		}
	}
	if made := crl.Number - before.Number; made < 1 || made > 3 {
		t.Fatalf("%d CRLs published for a burst of 12 revocations", made)
	}
	rl, err := x509.ParseRevocationList(crl.DER)
	if err != nil {
		t.Fatal(err)
	}
	if len(rl.RevokedCertificateEntries) != len(serials) {
		t.Fatalf("the CRL served after the burst lists %d of %d", len(rl.RevokedCertificateEntries), len(serials))
	}
}

// TestClosePublishesWhatIsOwed revokes twice in a row, so the second
// revocation waits for a scheduled CRL, and closes the CA before that:
// the CRL in the database lists both.
func TestClosePublishesWhatIsOwed(t *testing.T) {
	e := newEnv(t, testenv.DSN(t, "sqlite"), pki.Config{})
	ctx := context.Background()
	a, _ := e.issue(t, e.alice, lanyard.UsageSignature)
	b, _ := e.issue(t, e.alice, lanyard.UsageSignature)
	for _, c := range []*lanyard.Certificate{a, b} {
		if _, err := e.ca.RevokeCertificate(ctx, lanyard.CLIActor, c.Serial, lanyard.ReasonKeyCompromise); err != nil {
			t.Fatal(err)
		}
	}
	e.ca.Close()
	latest, err := e.st.LatestCRL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rl, _ := x509.ParseRevocationList(latest.DER)
	if len(rl.RevokedCertificateEntries) != 2 {
		t.Fatalf("the CRL after Close lists %d of 2 revocations", len(rl.RevokedCertificateEntries))
	}
}
