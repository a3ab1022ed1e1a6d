package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
)

// testIssuer makes a self-signed CA certificate for key, named with the
// organizations given.
func testIssuer(t testing.TB, key crypto.Signer, org ...string) *CA {
	t.Helper()
	return testIssuerUntil(t, key, time.Now().AddDate(20, 0, 0), org...)
}

// testIssuerUntil is testIssuer with a CA certificate valid until notAfter.
func testIssuerUntil(t testing.TB, key crypto.Signer, notAfter time.Time, org ...string) *CA {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Test CA", Organization: append([]string{"Lanyard"}, org...)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId: []byte{1, 2, 3, 4, 5, 6, 7, 8},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{issuer: cert, signer: key}
}

// TestCRLEncodingMatchesGo writes CRLs with the CA's own encoder and with
// x509.CreateRevocationList from the same entries: the signed parts are
// the same bytes, for each kind of issuing key, with entries that test
// the edges of the encoding (a serial whose top bit is set, an odd number
// of hex digits, reason unspecified left out, certificateHold, a time
// from 2050 on), and with none. The shard's IDP, which Go cannot write
// itself, is compared with the extension Go writes when given it.
func TestCRLEncodingMatchesGo(t *testing.T) {
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsa3072, _ := rsa.GenerateKey(rand.Reader, 2048) // 2048 for speed: the algorithm is the same
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	entries := []struct {
		serial string
		at     time.Time
		reason lanyard.RevocationReason
	}{
		{"4a5b6c7d8e9f00112233445566778899", now.Add(-time.Hour), lanyard.ReasonKeyCompromise},
		{"ff01", now.Add(-2 * time.Hour), lanyard.ReasonUnspecified},
		{"abc", now.Add(-3 * time.Hour), lanyard.ReasonCertificateHold},
		{"1", time.Date(2051, 1, 2, 3, 4, 5, 0, time.UTC), lanyard.ReasonSuperseded},
		{"80", now, lanyard.ReasonCessationOfOperation},
	}
	for name, key := range map[string]crypto.Signer{"P-256": ec256, "P-384": ec384, "RSA": rsa3072, "long name": ec256} {
		ca := testIssuer(t, key)
		if name == "long name" { // more than the room before the entries
			ca = testIssuer(t, key, strings.Repeat("Long Organization Name ", 30))
		}
		for _, n := range []int{0, len(entries)} {
			for _, idp := range []string{"", "https://lanyard.example/pki/crl/20281201"} {
				cb := newCRLBuilder(0)
				tmpl := &x509.RevocationList{Number: big.NewInt(42), ThisUpdate: now, NextUpdate: now.Add(24 * time.Hour)}
				for _, e := range entries[:n] {
					if err := cb.add([]byte(e.serial), e.at, e.reason); err != nil {
						t.Fatal(err)
					}
					serial, _ := new(big.Int).SetString(e.serial, 16)
					tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
						x509.RevocationListEntry{SerialNumber: serial, RevocationTime: e.at, ReasonCode: int(e.reason)})
				}
				if idp != "" {
					tmpl.ExtraExtensions = []pkix.Extension{{Id: oidIssuingDistPoint, Critical: true, Value: goIDP(t, idp)}}
				}
				ours, err := cb.finish(ca, crlFields{number: 42, thisUpdate: now, nextUpdate: now.Add(24 * time.Hour), idp: idp})
				if err != nil {
					t.Fatal(err)
				}
				theirs, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.issuer, key)
				if err != nil {
					t.Fatal(err)
				}
				a, err := x509.ParseRevocationList(ours)
				if err != nil {
					t.Fatalf("%s, %d entries, IDP %q: parse: %v", name, n, idp, err)
				}
				b, _ := x509.ParseRevocationList(theirs)
				if !bytes.Equal(a.RawTBSRevocationList, b.RawTBSRevocationList) || a.SignatureAlgorithm != b.SignatureAlgorithm {
					t.Errorf("%s, %d entries, IDP %q: the signed part differs from Go's\nours   %x\ntheirs %x", name, n, idp, a.RawTBSRevocationList, b.RawTBSRevocationList)
				}
				if err := a.CheckSignatureFrom(ca.issuer); err != nil {
					t.Errorf("%s: signature: %v", name, err)
				}
			}
		}
	}
}

// goIDP writes an IDP naming uri for user certificates with encoding/asn1,
// a second writer to compare with.
func goIDP(t *testing.T, uri string) []byte {
	t.Helper()
	gn, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte(uri)})
	if err != nil {
		t.Fatal(err)
	}
	fullName, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: gn})
	dp, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: fullName})
	onlyUser, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, Bytes: []byte{0xff}})
	v, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: append(dp, onlyUser...)})
	return v
}

// TestCRLEntryRejectsBadSerial keeps a damaged serial from the database
// out of a CRL.
func TestCRLEntryRejectsBadSerial(t *testing.T) {
	for _, s := range []string{"", "xyz", "12 4", "g12", strings.Repeat("7f", 34)} {
		if err := newCRLBuilder(0).add([]byte(s), time.Now(), 0); err == nil {
			t.Errorf("serial %q accepted", s)
		}
	}
}

// BenchmarkCRLEncode100k writes and signs a CRL of 100,000 entries, the
// largest shard, without the database.
func BenchmarkCRLEncode100k(b *testing.B) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := testIssuer(b, key)
	serials := make([][]byte, 100000)
	for i := range serials {
		s := make([]byte, 16)
		rand.Read(s)
		s[0] = s[0]&0x7f | 0x40
		serials[i] = []byte(new(big.Int).SetBytes(s).Text(16))
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		cb := newCRLBuilder(0)
		for i, s := range serials {
			if err := cb.add(s, now.Add(-time.Duration(i)*time.Second), lanyard.RevocationReason(i%3)); err != nil {
				b.Fatal(err)
			}
		}
		der, err := cb.finish(ca, crlFields{number: 1, thisUpdate: now, nextUpdate: now.Add(time.Hour), idp: "http://x/pki/crl/20270101"})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(der)))
	}
}
