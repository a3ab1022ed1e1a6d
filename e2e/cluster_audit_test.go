package e2e_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestClusterAuditChain logs in on both instances of a cluster at once,
// so that both write audit events together, sees that the instances chain
// them while they run, and checks with `lanyard audit verify` that they
// wrote one chain, signed when they stopped.
func TestClusterAuditChain(t *testing.T) {
	in, a, b := startCluster(t)
	pw := "alice-" + randomText()
	addUser(t, in, "alice", pw)
	var wg sync.WaitGroup
	const each = 10
	for _, s := range []*server{a, b} {
		wg.Go(func() {
			for i := range each {
				if r := login(t, nil, s.url, "alice", pw); r.status != http.StatusSeeOther {
					t.Errorf("log in on %s: status %d", s.name, r.status)
				}
				// A few wrong passwords too, fewer than the address may
				// fail before its attempts wait.
				if i%3 == 0 {
					if r := login(t, nil, s.url, "nobody"+strconv.Itoa(i), "wrong"); r.status != http.StatusUnauthorized {
						t.Errorf("wrong login on %s: status %d", s.name, r.status)
					}
				}
			}
		})
	}
	wg.Wait()
	// The running instances chain the events they wrote on their own,
	// soon after they commit.
	db, err := sql.Open("pgx", in.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	unchained := -1
	for deadline := time.Now().Add(10 * time.Second); unchained != 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := db.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE seq IS NULL`).Scan(&unchained); err != nil {
			t.Fatal(err)
		}
	}
	if unchained != 0 {
		t.Fatalf("%d events not chained 10 s after the last commit", unchained)
	}
	a.stopOK()
	b.stopOK()
	r := mustLanyard(t, append([]string{"audit", "verify"}, in.args()...)...)
	var n, uncovered int
	if _, err := fmt.Sscanf(r.stdout, "audit: %d events verified, %d not yet covered by a signed checkpoint", &n, &uncovered); err != nil || n < 2*each || uncovered != 0 {
		t.Fatalf("audit verify after the cluster stopped: %q (%v)", strings.TrimSpace(r.stdout), err)
	}
}
