package pki_test

import (
	"strings"
	"testing"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
	"golang.org/x/crypto/ocsp"
)

// lintExplained lists every zlint finding that remains on Lanyard's
// certificates, CRLs and OCSP responses, with the reason it stays. All of
// them come from the CA/Browser Forum sources, which govern publicly trusted
// CAs; a finding from the RFC or community sources always fails the test.
var lintExplained = map[string]string{
	// The CA/B Forum wants a countryName in CA subjects. Lanyard cannot know
	// the operator's country, so the root has C only when Config.Country is
	// set; RFC 5280 does not require it.
	"e_ca_country_name_missing": "countryName is set only when configured",
	// The S/MIME Baseline Requirements want one of their reserved policy
	// OIDs (2.23.140.1.5.*) in emailProtection certificates. Those OIDs
	// assert an audited, publicly trusted S/MIME CA; a private CA must not
	// claim them, and RFC 5280 makes certificatePolicies optional.
	"e_exactly_one_smime_policy": "no CA/B Forum S/MIME policy OID on a private CA",
	// The TLS Baseline Requirements forbid certificateHold in CRLs because
	// web PKI has no suspension. Lanyard's holds are required by its mobile
	// ID states (an inactive mobile ID's certificates are suspended), and
	// RFC 5280 defines certificateHold.
	"e_cab_crl_has_valid_reason_code": "certificateHold is needed for inactive mobile IDs",
}

// checkLint fails t for any finding of warning level or worse that is not
// explained above, and for any error or fatal from the RFC or community
// sources whatever the explanation.
func checkLint(t *testing.T, what string, rs *zlint.ResultSet) {
	t.Helper()
	for name, r := range rs.Results {
		if r.Status < lint.Warn {
			continue
		}
		src := lintSource(name)
		rfcOrCommunity := strings.HasPrefix(string(src), "RFC") || src == lint.Community
		why, explained := lintExplained[name]
		switch {
		case rfcOrCommunity && r.Status >= lint.Error:
			t.Errorf("%s: zlint %s %s (%s): %s", what, r.Status, name, src, r.Details)
		case !explained:
			t.Errorf("%s: zlint %s %s (%s) is not explained: %s", what, r.Status, name, src, r.Details)
		default:
			t.Logf("%s: zlint %s %s (%s), accepted: %s", what, r.Status, name, src, why)
		}
	}
}

func lintCert(t *testing.T, what string, der []byte) {
	t.Helper()
	c, err := zx509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("%s: zcrypto parse: %v", what, err)
	}
	checkLint(t, what, zlint.LintCertificate(c))
}

func lintCRL(t *testing.T, der []byte) {
	t.Helper()
	crl, err := zx509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("zcrypto parse CRL: %v", err)
	}
	checkLint(t, "CRL", zlint.LintRevocationList(crl))
}

func lintOCSP(t *testing.T, resp *ocsp.Response) {
	t.Helper()
	checkLint(t, "OCSP response", zlint.LintOcspResponse(resp))
}

// lintSource finds the source of a certificate, CRL or OCSP lint.
func lintSource(name string) lint.LintSource {
	reg := lint.GlobalRegistry()
	if l := reg.CertificateLints().ByName(name); l != nil {
		return l.Source
	}
	if l := reg.RevocationListLints().ByName(name); l != nil {
		return l.Source
	}
	if l := reg.OcspResponseLints().ByName(name); l != nil {
		return l.Source
	}
	return lint.UnknownLintSource
}
