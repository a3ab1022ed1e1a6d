package e2e_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// soakKills is how many times the soak test kills the server per engine:
// a few in the suite, LANYARD_SOAK_KILLS (such as 100) for the long run.
func soakKills(t *testing.T) int {
	v := os.Getenv("LANYARD_SOAK_KILLS")
	if v == "" {
		return 3
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("LANYARD_SOAK_KILLS=%q: want a positive number", v)
	}
	return n
}

// TestSoakKill runs the real server under `lanyard bench`, which makes
// and replaces mobile IDs (each replacement locks the old one and revokes
// its certificates), kills it with SIGKILL at a random moment, starts it
// again on the same data, and checks after each restart, from the database
// and the CRL it serves, that nothing is half done: no good certificate of
// a mobile ID that is not active or of none, no active mobile ID without
// its certificates, at most one active mobile ID per user, every
// revocation in the CRL, and (SQLite) a database that passes its
// integrity check.
func TestSoakKill(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) { soakKill(t, engine, soakKills(t)) })
	}
}

func soakKill(t *testing.T, engine string, kills int) {
	const users, password = 6, "soak password 1234"
	in := newInstance(t, engine)
	var csv strings.Builder
	csv.WriteString("username,email,common_name,state,roles,password\n")
	for i := 1; i <= users; i++ {
		fmt.Fprintf(&csv, "benchuser%d,benchuser%d@soak.invalid,Soak User %d,active,user,%s\n", i, i, i, password)
	}
	dir := t.TempDir()
	mustLanyard(t, append([]string{"user", "import", writeFile(t, dir, "users.csv", csv.String())}, in.args()...)...)
	pwFile := writeFile(t, dir, "password", password+"\n")

	var ready []time.Duration
	violations, made := 0, 0
	for kill := 0; kill <= kills; kill++ {
		start := time.Now()
		s := startServer(t, in, "--log-level", "warn")
		s.waitReady()
		ready = append(ready, time.Since(start))
		violations += checkInvariants(t, in, s)
		if kill == kills {
			s.stopOK()
			break
		}
		bench := exec.Command(lanyardBin, "bench", "--url", s.url, "--users", strconv.Itoa(users), "--concurrency", "3",
			"--duration", "1m", "--give-up-after", "1m", "--password-file", pwFile)
		bench.Env = childEnv()
		out := &syncBuffer{}
		bench.Stdout, bench.Stderr = out, out
		if err := bench.Start(); err != nil {
			t.Fatal(err)
		}
		// Load for a while, then kill the server wherever it is.
		time.Sleep(300*time.Millisecond + rand.N(1200*time.Millisecond))
		if err := s.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-s.done
		bench.Process.Kill()
		bench.Wait()
		made += countMobileIDs(t, in)
	}
	slices.Sort(ready)
	t.Logf("%s: %d kills, %d invariant violations, ready after a restart in %s (median) to %s (max), %d mobile IDs active or locked at the end",
		engine, kills, violations, ready[len(ready)/2].Round(time.Millisecond), ready[len(ready)-1].Round(time.Millisecond), countMobileIDs(t, in))
	if made == 0 {
		t.Fatal("the load made no mobile ID")
	}
}

// countMobileIDs counts the mobile IDs the load made: active and locked.
func countMobileIDs(t *testing.T, in instance) int {
	t.Helper()
	db, _ := openData(t, in)
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM mobile_ids WHERE state IN ('active', 'locked')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSoakKillClusterMember runs two instances on one PostgreSQL database
// and kills the one under load again and again: after each kill, the
// instance that lives on publishes the CRL its partner owed, so that the
// newest CRL in the database lists every revocation within seconds,
// before the killed instance is back.
func TestSoakKillClusterMember(t *testing.T) {
	kills := soakKills(t)
	const users, password = 4, "cluster password 1234"
	in := newInstance(t, "postgres")
	var csv strings.Builder
	csv.WriteString("username,email,common_name,state,roles,password\n")
	for i := 1; i <= users; i++ {
		fmt.Fprintf(&csv, "benchuser%d,benchuser%d@cluster.invalid,Cluster User %d,active,user,%s\n", i, i, i, password)
	}
	dir := t.TempDir()
	mustLanyard(t, append([]string{"user", "import", writeFile(t, dir, "users.csv", csv.String())}, in.args()...)...)
	pwFile := writeFile(t, dir, "password", password+"\n")
	survivor := startServer(t, in, "--log-level", "warn")
	survivor.waitReady()
	var caughtUp []time.Duration
	for range kills {
		s := startServer(t, in, "--log-level", "warn")
		s.waitReady()
		bench := exec.Command(lanyardBin, "bench", "--url", s.url, "--users", strconv.Itoa(users), "--concurrency", "2",
			"--duration", "1m", "--give-up-after", "1m", "--password-file", pwFile)
		bench.Env = childEnv()
		if err := bench.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500*time.Millisecond + rand.N(1000*time.Millisecond))
		if err := s.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-s.done
		bench.Process.Kill()
		bench.Wait()
		killed := time.Now()
		var last []string
		if !waitFor(15*time.Second, func() bool {
			last = violations(t, in, latestCRL(t, in))
			return len(last) == 0
		}) {
			t.Fatalf("15 s after the kill: %v", last)
		}
		caughtUp = append(caughtUp, time.Since(killed))
	}
	slices.Sort(caughtUp)
	t.Logf("%d kills of one of two instances; the survivor's CRL listed every revocation %s (median) to %s (max) after the kill",
		kills, caughtUp[len(caughtUp)/2].Round(time.Millisecond), caughtUp[len(caughtUp)-1].Round(time.Millisecond))
	survivor.stopOK()
}
