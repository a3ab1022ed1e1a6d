package e2e_test

import (
	"crypto/x509"
	"database/sql"
	"fmt"
	"math/big"
	"path/filepath"
	"testing"
	"time"
)

// openData opens the installation's database directly, to check what the
// server left in it.
func openData(t *testing.T, in instance) (*sql.DB, func(string) string) {
	t.Helper()
	if in.db == "" {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(in.data, "lanyard.db")+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		return db, func(q string) string { return q }
	}
	db, err := sql.Open("pgx", in.db)
	if err != nil {
		t.Fatal(err)
	}
	return db, rebind
}

// rebind numbers the ? placeholders of q for PostgreSQL.
func rebind(q string) string {
	out, n := []byte{}, 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, fmt.Sprintf("$%d", n)...)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}

// invariants are what must hold in the database whenever the server is
// ready, however it stopped before: each query counts violations.
var invariants = []struct{ name, query string }{
	{"good certificates of a mobile ID that is not active", `SELECT COUNT(*) FROM certificates c
		JOIN mobile_id_certificates mc ON mc.serial = c.serial AND mc.recovered = 0
		JOIN mobile_ids m ON m.id = mc.mobile_id
		WHERE c.status = 'valid' AND m.state <> 'active'`},
	{"good certificates that no mobile ID holds", `SELECT COUNT(*) FROM certificates c
		WHERE c.status = 'valid' AND NOT EXISTS (SELECT 1 FROM mobile_id_certificates mc WHERE mc.serial = c.serial)`},
	{"active mobile IDs without certificates", `SELECT COUNT(*) FROM mobile_ids m WHERE m.state = 'active'
		AND NOT EXISTS (SELECT 1 FROM mobile_id_certificates mc WHERE mc.mobile_id = m.id AND mc.recovered = 0)`},
	{"certificates a mobile ID holds that do not exist", `SELECT COUNT(*) FROM mobile_id_certificates mc
		WHERE NOT EXISTS (SELECT 1 FROM certificates c WHERE c.serial = mc.serial)`},
	{"active mobile IDs of users who are not active", `SELECT COUNT(*) FROM mobile_ids m JOIN users u ON u.id = m.user_id
		WHERE m.state = 'active' AND u.state <> 'active'`},
	{"users with more than one active mobile ID", `SELECT COUNT(*) FROM (SELECT user_id FROM mobile_ids
		WHERE state = 'active' GROUP BY user_id HAVING COUNT(*) > 1) x`},
	{"registered mobile IDs whose code was used", `SELECT COUNT(*) FROM mobile_ids m JOIN enrollments e ON e.mobile_id = m.id
		WHERE m.state = 'registered' AND e.code_hash IS NULL AND e.step IN ('activation', 'finished')`},
}

// checkInvariants counts the violations of every invariant in the
// database, and of the CRL served: every revocation not expired must be
// in it. It reports each violation and returns how many there were.
func checkInvariants(t *testing.T, in instance, s *server) int {
	t.Helper()
	// CRLs are published in the background, a few seconds at most after
	// the last revocation, so a CRL that misses one is fetched again.
	var found []string
	waitFor(15*time.Second, func() bool {
		r := fetch(t, nil, s.url+"/pki/crl", nil)
		found = violations(t, in, []byte(r.body))
		return len(found) == 0
	})
	for _, v := range found {
		t.Error(v)
	}
	return len(found)
}

// latestCRL returns the newest CRL in the database, as any instance
// serves it.
func latestCRL(t *testing.T, in instance) []byte {
	t.Helper()
	db, _ := openData(t, in)
	defer db.Close()
	var der []byte
	if err := db.QueryRow(`SELECT der FROM crls ORDER BY number DESC LIMIT 1`).Scan(&der); err != nil {
		t.Fatal(err)
	}
	return der
}

// violations lists what breaks an invariant in the database, and the
// revocations not expired that the CRL crlDER does not list.
func violations(t *testing.T, in instance, crlDER []byte) []string {
	t.Helper()
	db, q := openData(t, in)
	defer db.Close()
	var found []string
	for _, inv := range invariants {
		var n int
		if err := db.QueryRow(q(inv.query)).Scan(&n); err != nil {
			t.Fatalf("check %s: %v", inv.name, err)
		}
		if n > 0 {
			found = append(found, fmt.Sprintf("%d %s", n, inv.name))
		}
	}
	if in.db == "" {
		var ok string
		if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
			found = append(found, fmt.Sprintf("integrity check: %q, %v", ok, err))
		}
	}
	rows, err := db.Query(q(`SELECT serial FROM certificates WHERE status <> 'valid' AND not_after >= ?`), time.Now().UnixMicro())
	if err != nil {
		t.Fatal(err)
	}
	var revoked []string
	for rows.Next() {
		var serial string
		if err := rows.Scan(&serial); err != nil {
			t.Fatal(err)
		}
		revoked = append(revoked, serial)
	}
	rows.Close()
	crl, err := x509.ParseRevocationList(crlDER)
	if err != nil {
		t.Fatalf("parse the CRL: %v", err)
	}
	listed := map[string]bool{}
	for _, e := range crl.RevokedCertificateEntries {
		listed[e.SerialNumber.Text(16)] = true
	}
	missing := 0
	for _, serial := range revoked {
		n, _ := new(big.Int).SetString(serial, 16)
		if n == nil || !listed[n.Text(16)] {
			missing++
		}
	}
	if missing > 0 {
		found = append(found, fmt.Sprintf("%d of %d revoked certificates missing from the CRL", missing, len(revoked)))
	}
	return found
}
