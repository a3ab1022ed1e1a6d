package e2e_test

import (
	"strings"
	"testing"
)

// TestRepairAtStart leaves the database as a crash of an older version
// could: mobile IDs locked or inactive while their certificates stayed
// good, and an enrollment whose code was used without its mobile ID
// becoming active. The next start repairs all of it before the first
// request: the checks that follow /readyz find nothing amiss, and the CRL
// it serves lists the certificates it revoked.
func TestRepairAtStart(t *testing.T) {
	const password = "repair password 1234"
	in := newInstance(t, "sqlite")
	csv := "username,email,common_name,state,roles,password\n" +
		"benchuser1,benchuser1@repair.invalid,Repair User 1,active,user," + password + "\n" +
		"benchuser2,benchuser2@repair.invalid,Repair User 2,active,user," + password + "\n"
	dir := t.TempDir()
	mustLanyard(t, append([]string{"user", "import", writeFile(t, dir, "users.csv", csv)}, in.args()...)...)
	s := startServer(t, in)
	s.waitReady()
	mustLanyard(t, "bench", "--url", s.url, "--users", "2", "--count", "2", "--password-file", writeFile(t, dir, "pw", password))
	s.stopOK()

	db, q := openData(t, in)
	for _, stmt := range []string{
		`UPDATE mobile_ids SET state = 'locked' WHERE user_id = (SELECT id FROM users WHERE username = 'benchuser1') AND state = 'active'`,
		`UPDATE mobile_ids SET state = 'inactive' WHERE user_id = (SELECT id FROM users WHERE username = 'benchuser2') AND state = 'active'`,
	} {
		if _, err := db.Exec(q(stmt)); err != nil {
			t.Fatal(err)
		}
	}
	var before int
	if err := db.QueryRow(`SELECT COUNT(*) FROM certificates WHERE status = 'valid'`).Scan(&before); err != nil || before != 4 {
		t.Fatalf("%d good certificates before the restart, want 4: %v", before, err)
	}
	db.Close()

	s = startServer(t, in)
	s.waitReady()
	if n := checkInvariants(t, in, s); n != 0 {
		t.Fatalf("%d violations after the repair at start", n)
	}
	if !strings.Contains(s.stderr.String(), "repaired") {
		t.Errorf("the repair is not logged:\n%s", s.stderr)
	}
	r := fetch(t, nil, s.url+"/pki/crl", nil)
	if r.status != 200 {
		t.Fatalf("GET /pki/crl: %d", r.status)
	}
	s.stopOK()
}
