package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/ocsp"
)

// TestOCSPEncodingMatchesASN1 encodes, by hand and with asn1.Marshal, the
// responses the responder makes: every status, reasons unspecified and
// others, with and without nextUpdate, one or several certificates, with
// and without the nonce, at the edges of the years (UTCTime would stop
// at 2049; OCSP's GeneralizedTime does not). The ResponseData is the same
// bytes, and the whole response, signed, is DER that asn1 reads back to
// the same bytes, around that ResponseData and the CA's algorithm.
func TestOCSPEncodingMatchesASN1(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	r, err := newResponder(testIssuer(t, key).issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	times := []time.Time{
		base,
		time.Now().UTC().Truncate(time.Second),
		time.Date(1949, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 19, 59, 59, 0, time.UTC), // its nextUpdate the last second of 9999
	}
	serial, _ := new(big.Int).SetString("7fffffffffffffffffffffffffffffffffffffff", 16)
	var singles []singleResponse
	for _, sn := range []*big.Int{big.NewInt(1), serial} {
		id := asn1.RawValue{FullBytes: testCertID(t, r, sn)}
		statuses := []singleResponse{{CertID: id, Good: true}, {CertID: id, Unknown: true}}
		for _, reason := range []asn1.Enumerated{0, 1, 6, 10} {
			statuses = append(statuses, singleResponse{CertID: id, Revoked: revokedInfo{RevocationTime: base.Add(-time.Hour), Reason: reason}})
		}
		for _, s := range statuses {
			for _, this := range times {
				for _, next := range []time.Time{{}, this.Add(ocspValidity)} {
					s.ThisUpdate, s.NextUpdate = this, next
					singles = append(singles, s)
				}
			}
		}
	}
	nonce, _ := asn1.Marshal([]byte("0123456789abcdef"))
	var cases []responseData
	for i, s := range singles {
		for _, ext := range [][]pkix.Extension{nil, {{Id: oidOCSPNonce, Value: nonce}}} {
			cases = append(cases, responseData{ResponderID: r.responderID, ProducedAt: s.ThisUpdate, Responses: []singleResponse{s}, Extensions: ext})
		}
		if i%7 == 0 {
			n := min(1+i%4, len(singles)-i)
			cases = append(cases, responseData{ResponderID: r.responderID, ProducedAt: base, Responses: singles[i : i+n]})
		}
	}
	var alg bytes.Buffer
	{
		b := cryptobyte.NewBuilder(nil)
		r.signing.addAlgorithm(b)
		alg.Write(b.BytesOrPanic())
	}
	for i, d := range cases {
		want, err := asn1.Marshal(d)
		if err != nil {
			t.Fatalf("case %d: asn1.Marshal: %v", i, err)
		}
		got, err := encodeResponseData(&d)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("case %d: ResponseData %+v:\nhand  %x, %v\nasn1  %x", i, d, got, err, want)
		}
		der, err := r.sign(d)
		if err != nil {
			t.Fatal(err)
		}
		var resp ocspResponse
		if rest, err := asn1.Unmarshal(der, &resp); err != nil || len(rest) > 0 || resp.Status != ocspSuccessful || !resp.Bytes.Type.Equal(oidOCSPBasic) {
			t.Fatalf("case %d: OCSPResponse %x: %v", i, der, err)
		}
		var basic basicResponse
		if rest, err := asn1.Unmarshal(resp.Bytes.Response, &basic); err != nil || len(rest) > 0 {
			t.Fatalf("case %d: BasicOCSPResponse: %v", i, err)
		}
		algDER, _ := asn1.Marshal(basic.SignatureAlgorithm)
		if !bytes.Equal(basic.TBSResponseData.FullBytes, want) || !bytes.Equal(algDER, alg.Bytes()) {
			t.Fatalf("case %d: the signed response holds %x with %x, want %x with %x", i, basic.TBSResponseData.FullBytes, algDER, want, alg.Bytes())
		}
		for _, v := range []any{basic, resp} {
			again, err := asn1.Marshal(v)
			if err != nil || !bytes.Contains(der, again) {
				t.Fatalf("case %d: asn1 writes %T back as %x (%v), not as in %x", i, v, again, err, der)
			}
		}
	}
	// A raw value that lacks its DER is an error, not a bad response.
	if _, err := encodeResponseData(&responseData{ResponderID: asn1.RawValue{Tag: 2}, ProducedAt: base}); err == nil {
		t.Error("a responder ID without its DER was encoded")
	}
	t.Logf("%d cases", len(cases))
}

// basicResponse is a BasicOCSPResponse as asn1 reads it.
type basicResponse struct {
	TBSResponseData    asn1.RawValue
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          asn1.BitString
}

// TestOCSPSignParses signs responses for each kind of issuing key and
// parses them with x/crypto/ocsp: the status, reason, times and serial
// are those given, the signature verifies against the issuing CA, the
// nonce is echoed, and the signed ResponseData is what asn1.Marshal makes
// of the same values.
func TestOCSPSignParses(t *testing.T) {
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	revokedAt := now.Add(-26 * time.Hour)
	nonce, _ := asn1.Marshal([]byte("0123456789abcdef"))
	for _, k := range []struct {
		name string
		key  crypto.Signer
	}{{"P-256", ec256}, {"P-384", ec384}, {"RSA", rsa2048}} {
		key := k.key
		ca := testIssuer(t, key)
		r, err := newResponder(ca.issuer, key)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name   string
			single singleResponse
			status int
			reason int
		}{
			{"good", singleResponse{Good: true}, ocsp.Good, 0},
			{"revoked", singleResponse{Revoked: revokedInfo{RevocationTime: revokedAt}}, ocsp.Revoked, ocsp.Unspecified},
			{"revoked-keyCompromise", singleResponse{Revoked: revokedInfo{RevocationTime: revokedAt, Reason: 1}}, ocsp.Revoked, ocsp.KeyCompromise},
			{"unknown", singleResponse{Unknown: true}, ocsp.Unknown, 0},
		} {
			for _, withNonce := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/nonce=%v", k.name, tc.name, withNonce), func(t *testing.T) {
					serial := big.NewInt(0x1234567890abcdef)
					s := tc.single
					s.CertID = asn1.RawValue{FullBytes: testCertID(t, r, serial)}
					s.ThisUpdate, s.NextUpdate = now, now.Add(ocspValidity)
					data := responseData{ResponderID: r.responderID, ProducedAt: now, Responses: []singleResponse{s}}
					if withNonce {
						data.Extensions = []pkix.Extension{{Id: oidOCSPNonce, Value: nonce}}
					}
					der, err := r.sign(data)
					if err != nil {
						t.Fatal(err)
					}
					resp, err := ocsp.ParseResponse(der, ca.issuer)
					if err != nil {
						t.Fatal(err)
					}
					if err := resp.CheckSignatureFrom(ca.issuer); err != nil {
						t.Error(err)
					}
					want, _ := asn1.Marshal(data)
					if !bytes.Equal(resp.TBSResponseData, want) {
						t.Errorf("ResponseData %x, asn1.Marshal %x", resp.TBSResponseData, want)
					}
					if resp.Status != tc.status || resp.SerialNumber.Cmp(serial) != 0 ||
						!resp.ProducedAt.Equal(now) || !resp.ThisUpdate.Equal(now) || !resp.NextUpdate.Equal(now.Add(ocspValidity)) {
						t.Errorf("status %d serial %x produced %v this %v next %v", resp.Status, resp.SerialNumber, resp.ProducedAt, resp.ThisUpdate, resp.NextUpdate)
					}
					if tc.status == ocsp.Revoked && (!resp.RevokedAt.Equal(revokedAt) || resp.RevocationReason != tc.reason) {
						t.Errorf("revoked at %v for %d, want %v for %d", resp.RevokedAt, resp.RevocationReason, revokedAt, tc.reason)
					}
					// x/crypto/ocsp does not expose responseExtensions.
					var tbs struct {
						Version     int `asn1:"optional,explicit,tag:0"`
						ResponderID asn1.RawValue
						ProducedAt  time.Time
						Responses   asn1.RawValue
						Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
					}
					if rest, err := asn1.Unmarshal(resp.TBSResponseData, &tbs); err != nil || len(rest) > 0 {
						t.Fatalf("ResponseData: %v", err)
					}
					var echoed bool
					for _, e := range tbs.Extensions {
						echoed = echoed || e.Id.Equal(oidOCSPNonce) && bytes.Equal(e.Value, nonce)
					}
					if echoed != withNonce {
						t.Errorf("nonce echoed: %v", echoed)
					}
				})
			}
		}
	}
}

// BenchmarkOCSPSign measures signing one response for one good
// certificate with a P-256 issuing key, as a response is signed ahead or
// for a nonce, and encoding it alone by hand and with asn1.Marshal.
func BenchmarkOCSPSign(b *testing.B) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := testIssuer(b, key)
	r, err := newResponder(ca.issuer, key)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	id := testCertID(b, r, big.NewInt(0x1234567890))
	data := responseData{ResponderID: r.responderID, ProducedAt: now, Responses: []singleResponse{
		{CertID: asn1.RawValue{FullBytes: id}, Good: true, ThisUpdate: now, NextUpdate: now.Add(ocspValidity)},
	}}
	b.Run("sign", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.sign(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeResponseData(&data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode-asn1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := asn1.Marshal(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// testCertID is the SHA-1 CertID of serial under r's issuer.
func testCertID(tb testing.TB, r *responder, serial *big.Int) []byte {
	tb.Helper()
	h := hashOIDs["1.3.14.3.2.26"]
	id, err := asn1.Marshal(certID{HashAlgorithm: pkixSHA1(), NameHash: r.nameHash[h], IssuerKeyHash: r.keyHash[h], SerialNumber: serial})
	if err != nil {
		tb.Fatal(err)
	}
	return id
}
