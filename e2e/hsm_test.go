//go:build cgo

package e2e_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ThalesGroup/crypto11"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"golang.org/x/crypto/ocsp"
	_ "modernc.org/sqlite" // the "sqlite" driver, to read the SQLite file
)

// hsmToken is a SoftHSM2 token of the test's own, set up as the README
// tells an operator to: a softhsm2.conf in a folder of its own, a token
// initialised with softhsm2-util, and the user PIN in a file.
type hsmToken struct {
	module  string
	label   string
	pin     string
	pinFile string
}

// newHSMToken initialises a fresh token labelled lanyard-ca and sets
// SOFTHSM2_CONF for the rest of the test. childEnv hands this process's
// environment to every lanyard process, so serve and the commands find the
// token through their environment, as they would from an operator's shell.
// It skips the test (fails it in CI) without SoftHSM2.
func newHSMToken(t *testing.T) hsmToken {
	t.Helper()
	tk := hsmToken{label: "lanyard-ca", pin: "5678"}
	tk.module = testenv.SoftHSMToken(t, tk.label, tk.pin)
	// The file ends with a newline, as `echo 5678 > hsm/pin` writes it.
	tk.pinFile = writeFile(t, t.TempDir(), "pin", tk.pin+"\n")
	return tk
}

// flags are the settings that put the CA keys in the token, for serve and
// for every command that opens the CA.
func (tk hsmToken) flags() []string {
	return []string{"--ca-backend", "pkcs11", "--pkcs11-module", tk.module,
		"--pkcs11-token", tk.label, "--pkcs11-pin-file", tk.pinFile}
}

// TestHSMBackedServer runs `lanyard serve` with its CA keys in a SoftHSM2
// token: alice gets a mobile ID whose certificates openssl trusts and whose
// OCSP answers the token signs; `lanyard ca export` and a restart find the
// same CA in the token; the software backend and a wrong PIN are refused in
// one line; and the database holds no key of the CA.
func TestHSMBackedServer(t *testing.T) {
	tk := newHSMToken(t)
	in := newInstance(t, "sqlite")
	s := startServer(t, in, tk.flags()...)
	s.waitReady()
	chainPEM := fetch(t, nil, s.url+"/pki/ca.pem", nil).body
	issuing, root := parseChain(t, chainPEM)

	pw := "alice-" + randomText()
	addUser(t, in, "alice", pw, tk.flags()...)
	ck := mustLogin(t, s.url, "alice", pw)
	phone := newPhone(t)
	getMobileIDOverHTTP(t, s, ck, "next", phone)
	sig := phone.profile(aliceProfile).cert(t, "signature")
	sigCert := sig.parse(t)

	// A relying party trusts her signature certificate and the responder
	// says it is good.
	rp := newRelyingParty(t, s)
	sigFile := rp.write("signature.pem", sig.PEM)
	if out := rp.run("verify", "-CAfile", rp.chain, "-purpose", "smimesign", sigFile); !strings.Contains(out, sigFile+": OK") {
		t.Errorf("openssl verify of alice's signature certificate against /pki/ca.pem:\n%s", out)
	}
	if got := rp.ocsp("signature", sig.PEM); got != "good" {
		t.Errorf("openssl ocsp says %q for alice's signature certificate, want good", got)
	}
	// This answer is checked against the key in the token at the end.
	answer := askOCSP(t, s, sigCert, issuing)

	// The command line finds the same CA in the token.
	export := mustLanyard(t, slices.Concat([]string{"ca", "export"}, in.args(), tk.flags())...)
	if export.stdout != chainPEM {
		t.Errorf("lanyard ca export printed\n%s\nwant the chain of /pki/ca.pem\n%s", export.stdout, chainPEM)
	}

	// After a restart the server loads its keys from the token by label
	// and signs with them again.
	s.stopOK()
	s = startServer(t, in, tk.flags()...)
	s.waitReady()
	if got := fetch(t, nil, s.url+"/pki/ca.pem", nil).body; got != chainPEM {
		t.Errorf("after a restart /pki/ca.pem is\n%s\nwant the chain from before\n%s", got, chainPEM)
	}
	if got := askOCSP(t, s, sigCert, issuing); got.Status != ocsp.Good {
		t.Errorf("after a restart the responder says status %d for alice's signature certificate, want good (%d)", got.Status, ocsp.Good)
	}
	s.stopOK()

	// The audit key is in the token too: the checkpoints it signed at each
	// stop cover the whole audit log.
	if r := mustLanyard(t, slices.Concat([]string{"audit", "verify"}, in.args(), tk.flags())...); !strings.Contains(r.stdout, "events verified, 0 not yet covered") {
		t.Errorf("lanyard audit verify with the token: %q, want every event verified under a checkpoint", r.stdout)
	}

	// The software backend refuses the CA, saying what to start with.
	serve := slices.Concat([]string{"serve", "--listen", freeAddr(t)}, in.args())
	r := runLanyard(t, nil, slices.Concat(serve, []string{"--ca-backend", "software"})...)
	want := "lanyard: the CA keys are in a PKCS#11 token; start with --ca-backend pkcs11 and its settings\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("serve --ca-backend software on a CA in a token: exit code %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
	}

	// A wrong PIN is refused in one line that does not repeat it.
	wrong := tk
	wrongPIN := "wrong-" + randomText()
	wrong.pinFile = writeFile(t, t.TempDir(), "wrong-pin", wrongPIN+"\n")
	r = runLanyard(t, nil, slices.Concat(serve, wrong.flags())...)
	if r.code != 1 {
		t.Errorf("serve with a wrong PIN: exit code %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	checkOneErrorLine(t, r.stderr, `the PIN for PKCS#11 token "lanyard-ca" is wrong`)
	if strings.Contains(r.stderr, wrongPIN) {
		t.Errorf("serve with a wrong PIN printed the PIN: %q", r.stderr)
	}

	// The database names the keys and holds none of them.
	rootLabel, issuingLabel := checkNoCAKeysInDatabase(t, in)

	// The token holds the key pairs of both CA certificates, and it is
	// the issuing CA's key there that signed alice's certificate and the
	// OCSP answer.
	keys := tokenKeys(t, tk, map[string]string{"root": rootLabel, "issuing": issuingLabel})
	for name, cert := range map[string]*x509.Certificate{"root": root, "issuing": issuing} {
		if pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(keys[name]) {
			t.Errorf("the %s CA certificate's public key is not the key pair the token holds under its label", name)
		}
	}
	signer := &x509.Certificate{PublicKey: keys["issuing"]}
	if err := signer.CheckSignature(sigCert.SignatureAlgorithm, sigCert.RawTBSCertificate, sigCert.Signature); err != nil {
		t.Errorf("alice's signature certificate is not signed by the issuing CA key in the token: %v", err)
	}
	if err := signer.CheckSignature(answer.SignatureAlgorithm, answer.TBSResponseData, answer.Signature); err != nil {
		t.Errorf("the OCSP answer is not signed by the issuing CA key in the token: %v", err)
	}
}

// parseChain decodes the chain of /pki/ca.pem: the issuing CA, then the
// root.
func parseChain(t *testing.T, chainPEM string) (issuing, root *x509.Certificate) {
	t.Helper()
	var certs []*x509.Certificate
	rest := []byte(chainPEM)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatalf("a certificate of /pki/ca.pem: %v", err)
		}
		certs = append(certs, c)
	}
	if len(certs) != 2 {
		t.Fatalf("/pki/ca.pem holds %d certificates, want the issuing CA and the root:\n%s", len(certs), chainPEM)
	}
	return certs[0], certs[1]
}

// askOCSP posts an OCSP request for cert to the server and returns the
// answer, whose signature it checks against the issuing CA certificate.
func askOCSP(t *testing.T, s *server, cert, issuer *x509.Certificate) *ocsp.Response {
	t.Helper()
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := newClient(nil).Post(s.url+"/pki/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		t.Fatalf("POST /pki/ocsp: %v", err)
	}
	defer resp.Body.Close()
	der, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /pki/ocsp: status %d, read error %v", resp.StatusCode, err)
	}
	answer, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err != nil {
		t.Fatalf("the OCSP answer does not verify against the issuing CA: %v", err)
	}
	return answer
}

// checkNoCAKeysInDatabase opens the SQLite file of a stopped installation
// read-only, fails the test if the CA record does not name the pkcs11
// backend or if any CA key is sealed in the database, and returns the
// labels of the root and issuing keys in the token.
func checkNoCAKeysInDatabase(t *testing.T, in instance) (rootLabel, issuingLabel string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(in.data, "lanyard.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var backend string
	err = db.QueryRow(`SELECT backend, root_key_label, issuing_key_label FROM ca`).Scan(&backend, &rootLabel, &issuingLabel)
	if err != nil {
		t.Fatalf("read the CA record: %v", err)
	}
	if backend != "pkcs11" || rootLabel == "" || issuingLabel == "" {
		t.Errorf("the CA record names backend %q and key labels %q, %q; want pkcs11 and two labels", backend, rootLabel, issuingLabel)
	}
	var sealed int
	if err := db.QueryRow(`SELECT COUNT(*) FROM ca_keys`).Scan(&sealed); err != nil {
		t.Fatalf("count the CA keys in the database: %v", err)
	}
	if sealed != 0 {
		t.Errorf("the database holds %d sealed CA keys in ca_keys, want none: the keys belong in the token", sealed)
	}
	return rootLabel, issuingLabel
}

// tokenKeys logs in to the token, as an operator's tool would, and returns
// the public key of the one key pair under each label, by name. The token
// is closed again before it returns.
func tokenKeys(t *testing.T, tk hsmToken, labels map[string]string) map[string]crypto.PublicKey {
	t.Helper()
	c, err := crypto11.Configure(&crypto11.Config{Path: tk.module, TokenLabel: tk.label, Pin: tk.pin})
	if err != nil {
		t.Fatalf("open the token: %v", err)
	}
	defer c.Close()
	keys := map[string]crypto.PublicKey{}
	for name, label := range labels {
		pairs, err := c.FindKeyPairs(nil, []byte(label))
		if err != nil || len(pairs) != 1 {
			t.Fatalf("the token holds %d key pairs labelled %q for the %s CA (%v), want 1", len(pairs), label, name, err)
		}
		keys[name] = pairs[0].Public()
	}
	return keys
}
