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

	"golang.org/x/crypto/ocsp"
)

// TestOCSPEncodingMatchesASN1 encodes many responses by hand and with
// asn1.Marshal: the ResponseData, the BasicOCSPResponse and the
// OCSPResponse are the same bytes, or both encoders fail. The values go
// past what the responder makes: every certificate status, reason 0 and
// others, times with fractions of a second, in other locations (some
// whose offset is under a minute) and at the edges of the years asn1
// can write, zero times that are and are not the zero value, nil and
// empty extensions, versions other than the default, raw values without
// FullBytes, with high tags and long lengths.
func TestOCSPEncodingMatchesASN1(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	r, err := newResponder(testIssuer(t, key).issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	times := []time.Time{
		base,
		base.Add(123456789 * time.Nanosecond),
		base.In(time.FixedZone("IST", 5*3600+30*60)),
		base.In(time.FixedZone("PST", -8*3600)).Add(999 * time.Millisecond),
		base.In(time.FixedZone("", 30)),
		base.In(time.FixedZone("", -30)),
		base.In(time.FixedZone("", -90)),
		base.In(time.FixedZone("", 123*3600)),
		time.Now(),
		time.Date(1949, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		{},
		time.Time{}.In(time.FixedZone("", 3600)),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), // asn1 cannot write it
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),    // nor this
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC).In(time.FixedZone("", 2*3600)),
	}
	long := bytes.Repeat([]byte{0xab}, 300)
	serial, _ := new(big.Int).SetString("7fffffffffffffffffffffffffffffffffffffff", 16)
	certIDs := []asn1.RawValue{
		{FullBytes: testCertID(t, r, big.NewInt(1))},
		{FullBytes: testCertID(t, r, serial)},
		{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: long[:200]},
	}
	var statuses []singleResponse
	for _, id := range certIDs {
		statuses = append(statuses,
			singleResponse{CertID: id, Good: true},
			singleResponse{CertID: id, Unknown: true},
			singleResponse{CertID: id},
			singleResponse{CertID: id, Good: true, Unknown: true},
		)
		for _, reason := range []asn1.Enumerated{0, 1, 6, 10, 300, -1} {
			for _, rt := range []time.Time{base.Add(-time.Hour), base.Add(-time.Hour + 500*time.Millisecond), base.In(time.FixedZone("", 3600)), {}} {
				statuses = append(statuses, singleResponse{CertID: id, Revoked: revokedInfo{RevocationTime: rt, Reason: reason}})
			}
		}
	}
	var singles []singleResponse
	for i, s := range statuses {
		for j, this := range times {
			for _, next := range []time.Time{{}, this.Add(ocspValidity), times[(i+j)%len(times)]} {
				s.ThisUpdate, s.NextUpdate = this, next
				singles = append(singles, s)
			}
		}
	}
	responderIDs := []asn1.RawValue{
		r.responderID,
		{FullBytes: append([]byte{0xa1, 0x02}, emptyName...)},
		{Class: asn1.ClassContextSpecific, Tag: 40, IsCompound: true, Bytes: long},
		{Class: asn1.ClassPrivate, Tag: 31, Bytes: long[:128]},
		{Class: asn1.ClassContextSpecific, Tag: 2, IsCompound: true, Bytes: []byte{}},
		{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: emptyName, FullBytes: []byte{}},
		{},
	}
	nonce, _ := asn1.Marshal([]byte("0123456789abcdef"))
	extensions := [][]pkix.Extension{
		nil,
		{},
		{{Id: oidOCSPNonce, Value: nonce}},
		{{Id: oidOCSPNonce, Critical: true, Value: nonce}},
		{{Id: oidOCSPNonce, Value: nonce}, {Id: asn1.ObjectIdentifier{2, 999, 1}, Value: long}, {Id: oidOCSPNonce}},
		{{Id: asn1.ObjectIdentifier{1}}}, // an OID neither can write
	}
	var cases []responseData
	for i, s := range singles {
		cases = append(cases, responseData{ResponderID: r.responderID, ProducedAt: s.ThisUpdate, Responses: []singleResponse{s}})
		if i%7 == 0 {
			n := min(i%5, len(singles)-i)
			cases = append(cases, responseData{ResponderID: r.responderID, ProducedAt: base, Responses: singles[i : i+n]})
		}
	}
	for _, version := range []int{0, 1, 200, -1} {
		for _, id := range responderIDs {
			for _, produced := range times {
				for _, ext := range extensions {
					for _, n := range []int{0, 1, 3} {
						cases = append(cases, responseData{Version: version, ResponderID: id, ProducedAt: produced, Responses: singles[:n], Extensions: ext})
					}
				}
			}
		}
	}
	sigAlgs := []pkix.AlgorithmIdentifier{r.sigAlg, {Algorithm: oidSHA256WithRSA, Parameters: asn1.NullRawValue}, {Algorithm: oidECDSAWithSHA384, Parameters: asn1.RawValue{Bytes: []byte{}}}}
	failures, failed := 0, 0
	for i, d := range cases {
		want, wantErr := asn1.Marshal(d)
		got, gotErr := encodeResponseData(&d)
		if (wantErr != nil) != (gotErr != nil) || !bytes.Equal(got, want) {
			t.Errorf("case %d: ResponseData %+v:\nhand  %x, %v\nasn1  %x, %v", i, d, got, gotErr, want, wantErr)
			if failures++; failures > 5 {
				t.FailNow()
			}
		}
		if wantErr != nil {
			failed++
			continue
		}
		sig := long[:i%len(long)]
		br := basicResponse{TBSResponseData: asn1.RawValue{FullBytes: want}, SignatureAlgorithm: sigAlgs[i%len(sigAlgs)], Signature: asn1.BitString{Bytes: sig, BitLength: 8*len(sig) - i%3}}
		wantBasic, wantErr := asn1.Marshal(br)
		gotBasic, gotErr := encodeBasicResponse(&br)
		if (wantErr != nil) != (gotErr != nil) || !bytes.Equal(gotBasic, wantBasic) {
			t.Fatalf("case %d: BasicOCSPResponse:\nhand  %x, %v\nasn1  %x, %v", i, gotBasic, gotErr, wantBasic, wantErr)
		}
		resp := ocspResponse{Status: asn1.Enumerated(i % 7), Bytes: responseBytes{Type: oidOCSPBasic, Response: wantBasic}}
		wantResp, wantErr := asn1.Marshal(resp)
		gotResp, gotErr := encodeOCSPResponse(&resp)
		if wantErr != nil || gotErr != nil || !bytes.Equal(gotResp, wantResp) {
			t.Fatalf("case %d: OCSPResponse:\nhand  %x, %v\nasn1  %x, %v", i, gotResp, gotErr, wantResp, wantErr)
		}
	}
	if failed == 0 || failed == len(cases) {
		t.Fatalf("%d of %d cases cannot be encoded: the cases do not test the errors", failed, len(cases))
	}
	for _, resp := range []ocspResponse{
		{Status: ocspMalformedRequest},
		{Status: ocspInternalError},
		{Status: 300, Bytes: responseBytes{Type: oidOCSPBasic}},
		{Bytes: responseBytes{Response: []byte{}}},
	} {
		want, wantErr := asn1.Marshal(resp)
		got, gotErr := encodeOCSPResponse(&resp)
		if (wantErr != nil) != (gotErr != nil) || !bytes.Equal(got, want) {
			t.Errorf("OCSPResponse %+v:\nhand  %x, %v\nasn1  %x, %v", resp, got, gotErr, want, wantErr)
		}
	}
	t.Logf("%d cases, %d of which neither can encode", len(cases), failed)
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
	sig := make([]byte, 72)
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
			tbs, _ := encodeResponseData(&data)
			basic, _ := encodeBasicResponse(&basicResponse{TBSResponseData: asn1.RawValue{FullBytes: tbs}, SignatureAlgorithm: r.sigAlg, Signature: asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
			if _, err := encodeOCSPResponse(&ocspResponse{Status: ocspSuccessful, Bytes: responseBytes{Type: oidOCSPBasic, Response: basic}}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode-asn1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			tbs, _ := asn1.Marshal(data)
			basic, _ := asn1.Marshal(basicResponse{TBSResponseData: asn1.RawValue{FullBytes: tbs}, SignatureAlgorithm: r.sigAlg, Signature: asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
			if _, err := asn1.Marshal(ocspResponse{Status: ocspSuccessful, Bytes: responseBytes{Type: oidOCSPBasic, Response: basic}}); err != nil {
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
