package pki_test

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"golang.org/x/crypto/ocsp"
)

// TestOCSPNonce checks that a nonce in the request comes back in the
// response extensions, and that a response to it may not be cached.
func TestOCSPNonce(t *testing.T) {
	e := newEnv(t, testenv.DSN(t, "sqlite"), pki.Config{})
	srv := httptest.NewServer(e.ca.Handler())
	defer srv.Close()
	c, _ := e.issue(t, e.alice, lanyard.UsageSignature)
	plain, _ := ocsp.CreateRequest(mustParse(t, c.DER), e.ca.Issuer(), nil)
	nonce := []byte("0123456789abcdef")
	der := withNonce(t, plain, nonce)
	body, hdr := ocspQuery(t, srv.URL, der, false)
	if !strings.Contains(hdr.Get("Cache-Control"), "no-cache") {
		t.Errorf("Cache-Control %q for a nonce request", hdr.Get("Cache-Control"))
	}
	resp, err := ocsp.ParseResponse(body, e.ca.Issuer())
	if err != nil || resp.Status != ocsp.Good {
		t.Fatalf("response: %v %v", err, resp)
	}
	wrapped, _ := asn1.Marshal(nonce)
	// golang.org/x/crypto/ocsp does not expose responseExtensions.
	var outer struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type     asn1.ObjectIdentifier
			Response []byte
		} `asn1:"explicit,tag:0"`
	}
	var basic struct{ TBS asn1.RawValue }
	var tbs struct {
		ID         asn1.RawValue
		ProducedAt asn1.RawValue
		Responses  asn1.RawValue
		Extensions []pkix.Extension `asn1:"explicit,tag:1"`
	}
	asn1.Unmarshal(body, &outer)
	asn1.Unmarshal(outer.Bytes.Response, &basic)
	if _, err := asn1.Unmarshal(basic.TBS.FullBytes, &tbs); err != nil || len(tbs.Extensions) != 1 ||
		tbs.Extensions[0].Id.String() != "1.3.6.1.5.5.7.48.1.2" || !bytes.Equal(tbs.Extensions[0].Value, wrapped) {
		t.Fatalf("nonce not echoed: %v %+v", err, tbs.Extensions)
	}
	// A nonce longer than 32 octets is refused (RFC 8954).
	body, _ = ocspQuery(t, srv.URL, withNonce(t, plain, make([]byte, 40)), false)
	if _, err := ocsp.ParseResponse(body, e.ca.Issuer()); err != (ocsp.ResponseError{Status: ocsp.Malformed}) {
		t.Fatalf("long nonce: %v", err)
	}
}

// withNonce adds a nonce extension to a DER OCSP request made by
// ocsp.CreateRequest, which has none.
func withNonce(t testing.TB, der, nonce []byte) []byte {
	t.Helper()
	var req struct {
		TBS struct {
			Raw  asn1.RawContent
			List asn1.RawValue
		}
	}
	if _, err := asn1.Unmarshal(der, &req); err != nil {
		t.Fatal(err)
	}
	value, _ := asn1.Marshal(nonce)
	ext, _ := asn1.Marshal([]struct {
		ID    asn1.ObjectIdentifier
		Value []byte
	}{{asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}, value}})
	tbs, _ := asn1.Marshal(struct {
		List asn1.RawValue
		Ext  asn1.RawValue
	}{req.TBS.List, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, IsCompound: true, Bytes: ext}})
	out, _ := asn1.Marshal(struct{ TBS asn1.RawValue }{asn1.RawValue{FullBytes: tbs}})
	return out
}
