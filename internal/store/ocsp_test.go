package store_test

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// watchLog records what a status watch tells.
type watchLog struct {
	mu    sync.Mutex
	calls [][]string
}

func (l *watchLog) record(serials []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, serials)
}

// saw reports whether a call named serial, or was nil (forget all) when
// serial is "".
func (l *watchLog) saw(serial string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.calls {
		if (serial == "" && c == nil) || (serial != "" && slices.Contains(c, serial)) {
			return true
		}
	}
	return false
}

func (l *watchLog) reset() { l.mu.Lock(); l.calls = nil; l.mu.Unlock() }

// eventually waits up to ten seconds for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10 s", what)
		}
	}
}

// TestStatusWatch checks that a status change is told at its commit to the
// watches of the process that made it, and soon to those of another
// process on the same database; on PostgreSQL, that a watch whose LISTEN
// connection is cut stops being live, listens again, forgets everything
// once, and hears the changes made after.
func TestStatusWatch(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dbA, dbB := openDB(t, dsn), openDB(t, dsn)
		stA, stB := store.NewPKIStore(dbA), store.NewPKIStore(dbB)
		users := store.NewUserService(dbA, fastHash)
		u := &lanyard.User{Username: "carol", Email: "carol@example.com", CommonName: "Carol Example"}
		if err := users.CreateUser(ctx, lanyard.CLIActor, u, ""); err != nil {
			t.Fatal(err)
		}
		var serials []string
		for i := range 3 {
			c := &lanyard.Certificate{Serial: "abc" + strconv.Itoa(i), UserID: u.ID, Usage: lanyard.UsageSignature,
				NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), Status: lanyard.CertificateValid, DER: []byte{0x30, 0}}
			if err := stA.InsertCertificate(ctx, lanyard.CLIActor, c, nil); err != nil {
				t.Fatal(err)
			}
			serials = append(serials, c.Serial)
		}
		var logA, logB watchLog
		wA, wB := stA.WatchStatus(logA.record), stB.WatchStatus(logB.record)
		defer wA.Close()
		defer wB.Close()
		eventually(t, "the watches are live", func() bool { return wA.Live() && wB.Live() })
		revoke := func(serial string) {
			t.Helper()
			_, err := stA.UpdateStatus(ctx, lanyard.CLIActor, serial, "certificate.revoke", func(c *lanyard.Certificate, now time.Time) (bool, string, error) {
				changed, err := c.Revoke(lanyard.ReasonSuperseded, now)
				return changed, "", err
			})
			if err != nil {
				t.Fatal(err)
			}
		}

		revoke(serials[0])
		if !logA.saw(serials[0]) {
			t.Error("the process that made the change was not told at its commit")
		}
		eventually(t, "the other process is told", func() bool { return logB.saw(serials[0]) })

		if !store.IsPostgresURL(dsn) {
			return
		}
		logB.reset()
		pid := terminateListener(t, dsn, wB.(interface{ ListenerPID() uint32 }).ListenerPID())
		eventually(t, "the watch notices the cut and listens again", func() bool {
			p := wB.(interface{ ListenerPID() uint32 }).ListenerPID()
			return p != 0 && p != pid && wB.Live()
		})
		if !logB.saw("") {
			t.Error("the watch did not forget everything when it listened again")
		}
		revoke(serials[1])
		eventually(t, "a change after the cut is told", func() bool { return logB.saw(serials[1]) })
	})
}

// TestOCSPLease checks that one holder at a time has the sign-ahead lease,
// that the holder renews it, and that an expired one passes on.
func TestOCSPLease(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		now := time.Now()
		db.Now = func() time.Time { return now }
		st := store.NewPKIStore(db)
		take := func(holder string, want bool) {
			t.Helper()
			if ok, err := st.AcquireOCSPLease(ctx, holder, now.Add(time.Minute)); err != nil || ok != want {
				t.Fatalf("%s takes the lease: %t %v, want %t", holder, ok, err, want)
			}
		}
		take("a", true)
		take("b", false)
		take("a", true) // renewed
		now = now.Add(30 * time.Second)
		take("b", false)
		now = now.Add(31 * time.Second)
		take("b", true) // a's expired
		take("a", false)
		if err := st.ReleaseOCSPLease(ctx, "a"); err != nil { // not a's to release
			t.Fatal(err)
		}
		take("a", false)
		if err := st.ReleaseOCSPLease(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		take("a", true)
	})
}

// terminateListener ends the PostgreSQL backend pid, a watch's listening
// connection, and returns pid.
func terminateListener(t *testing.T, dsn string, pid uint32) uint32 {
	t.Helper()
	if pid == 0 {
		t.Fatal("no listening backend")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(context.Background(), `SELECT pg_terminate_backend($1)`, int64(pid)); err != nil {
		t.Fatal(err)
	}
	return pid
}
