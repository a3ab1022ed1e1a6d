package testenv

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Slapd is an OpenLDAP server a test started for itself, on a loopback
// port, with its own configuration and database in a temporary folder.
type Slapd struct {
	URL         string // ldap://127.0.0.1:PORT
	BaseDN      string // dc=example,dc=org
	AdminDN     string // the root DN, which may write
	AdminPWFile string // a file holding the root DN's password
	AdminPW     string
	// With SlapdOptions.TLS: an ldaps:// URL beside URL (which then offers
	// StartTLS), and the file of the CA its certificate is signed by.
	LDAPSURL string
	CAFile   string
	dir      string
	cmd      *exec.Cmd
}

// SlapdOptions shape a test directory.
type SlapdOptions struct {
	// Schemas are extra schema files to include, besides core, cosine,
	// inetorgperson and nis.
	Schemas []string
	// LDIF is loaded with slapadd before the server starts (fast, for
	// large directories); the base entry dc=example,dc=org is added first.
	LDIF string
	// TLS gives the server a certificate for 127.0.0.1 and localhost, for
	// StartTLS and ldaps://.
	TLS bool
}

// StartSlapd starts Debian's slapd, or skips tb (fails it when services
// are required) when slapd is not installed. It stops with the test.
func StartSlapd(tb testing.TB, opts SlapdOptions) *Slapd {
	tb.Helper()
	bin, err := exec.LookPath("slapd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/slapd", "/usr/local/sbin/slapd"} {
			if _, e := os.Stat(p); e == nil {
				bin, err = p, nil
				break
			}
		}
	}
	if err != nil {
		Unavailable(tb, "slapd not installed (apt-get install slapd ldap-utils)")
	}
	slapadd := filepath.Join(filepath.Dir(bin), "slapadd")
	dir := tb.TempDir()
	s := &Slapd{BaseDN: "dc=example,dc=org", AdminDN: "cn=admin,dc=example,dc=org", AdminPW: rand.Text(), dir: dir}
	s.AdminPWFile = filepath.Join(dir, "admin.pw")
	if err := os.WriteFile(s.AdminPWFile, []byte(s.AdminPW+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		tb.Fatal(err)
	}
	var conf strings.Builder
	for _, sch := range append([]string{"core", "cosine", "inetorgperson", "nis"}, opts.Schemas...) {
		if !strings.Contains(sch, "/") {
			sch = "/etc/ldap/schema/" + sch + ".schema"
		}
		fmt.Fprintf(&conf, "include %s\n", sch)
	}
	fmt.Fprintf(&conf, `pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
sizelimit unlimited
database mdb
maxsize 4294967296
suffix "%[2]s"
rootdn "%[3]s"
rootpw %[4]s
directory %[1]s/db
index objectClass eq
index uid,mail,cn eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
`, dir, s.BaseDN, s.AdminDN, SSHA(s.AdminPW))
	if opts.TLS {
		s.CAFile = filepath.Join(dir, "ca.pem")
		certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		writeServerCert(tb, s.CAFile, certFile, keyFile)
		// Simple binds only over TLS, so a test cannot pass in clear.
		fmt.Fprintf(&conf, "TLSCACertificateFile %s\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\nsecurity simple_bind=128\n", s.CAFile, certFile, keyFile)
	}
	confFile := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(confFile, []byte(conf.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	ldif := "dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n" + opts.LDIF
	add := exec.Command(slapadd, "-q", "-f", confFile)
	add.Stdin = strings.NewReader(ldif)
	if out, err := add.CombinedOutput(); err != nil {
		tb.Fatalf("slapadd: %v\n%s", err, out)
	}
	addr := freeLoopback(tb)
	s.URL = "ldap://" + addr
	var out bytes.Buffer
	urls := s.URL + "/"
	if opts.TLS {
		s.LDAPSURL = "ldaps://" + freeLoopback(tb)
		urls += " " + s.LDAPSURL + "/"
	}
	s.cmd = exec.Command(bin, "-f", confFile, "-h", urls, "-d", "0")
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("start slapd: %v", err)
	}
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	tb.Cleanup(func() {
		s.cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case <-done:
			tb.Fatalf("slapd exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("slapd did not listen on %s: %s", addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeServerCert writes a CA certificate and a server certificate for
// 127.0.0.1 and localhost signed by it, with the server's key (PKCS#8).
func writeServerCert(tb testing.TB, caFile, certFile, keyFile string) {
	tb.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "slapd test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		tb.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	for file, block := range map[string]*pem.Block{
		caFile: {Type: "CERTIFICATE", Bytes: caDER}, certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
}

// Stop stops the server, as a directory that goes away does.
func (s *Slapd) Stop() { s.cmd.Process.Kill() }

// SSHA returns an OpenLDAP {SSHA} hash of pw for a userPassword value.
func SSHA(pw string) string {
	salt := make([]byte, 8)
	rand.Read(salt)
	h := sha1.Sum(append([]byte(pw), salt...))
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h[:], salt...))
}

func freeLoopback(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
