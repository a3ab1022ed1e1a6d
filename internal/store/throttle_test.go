package store_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestLoginThrottle checks the delays, the lock and its lifting, and that
// two instances claiming attempts at once for one address claim no more
// than its free ones.
func TestLoginThrottle(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		policy := lanyard.LoginPolicy{UserFree: 2, AddrFree: 5, MaxDelay: time.Minute, LockAfter: 10}
		open := func() *store.SessionService {
			db := openDB(t, dsn)
			db.Now = clock
			s := store.NewSessionService(db)
			s.Policy = policy
			return s
		}
		s := open()
		claim := func(user, addr string) lanyard.LoginAttempt {
			t.Helper()
			a, err := s.ReserveLogin(ctx, user, addr)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		for i := range 2 {
			if a := claim("alice", "10.0.0."+strconv.Itoa(i)); a.Wait != 0 || a.Locked {
				t.Fatalf("free attempt %d: %+v", i+1, a)
			}
		}
		if a := claim("alice", "10.0.0.9"); a.Wait != time.Second {
			t.Fatalf("after 2 failures: %+v, want a wait of 1s", a)
		}
		mu.Lock()
		now = now.Add(time.Second)
		mu.Unlock()
		if a := claim("alice", "10.0.0.9"); a.Wait != 0 {
			t.Fatalf("after the wait: %+v", a)
		}
		if err := s.LoginSucceeded(ctx, "alice", "10.0.0.9"); err != nil {
			t.Fatal(err)
		}
		// Up to the lock, waiting out each delay.
		for n := 0; n <= policy.LockAfter; {
			a := claim("bob", "10.0.1."+strconv.Itoa(n))
			switch {
			case a.Locked:
				t.Fatalf("locked after %d failures", n)
			case a.Wait > 0:
				mu.Lock()
				now = now.Add(a.Wait)
				mu.Unlock()
			default:
				n++
				if a.Last != (n > policy.LockAfter) {
					t.Fatalf("failure %d: Last %t", n, a.Last)
				}
			}
		}
		mu.Lock()
		now = now.Add(time.Hour)
		mu.Unlock()
		if a := claim("bob", "10.0.2.1"); !a.Locked {
			t.Fatalf("after %d failures: %+v, want locked", policy.LockAfter+1, a)
		}
		locks, err := s.FindLoginLocks(ctx, []string{"alice", "bob"})
		if err != nil || len(locks) != 1 || locks["bob"].Failures != policy.LockAfter+1 {
			t.Fatalf("locks %+v, %v", locks, err)
		}
		if err := s.LiftLoginLock(ctx, lanyard.CLIActor, "BOB"); err != nil {
			t.Fatal(err)
		}
		if a := claim("bob", "10.0.2.1"); a.Locked || a.Wait != 0 {
			t.Fatalf("after the lock was lifted: %+v", a)
		}

		// Two instances, many claims at once for one address.
		instances := []*store.SessionService{open(), open()}
		var claimed atomic.Int64
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				a, err := instances[i%2].ReserveLogin(ctx, "guess"+strconv.Itoa(i), "192.0.2.1")
				if err != nil {
					t.Error(err)
				} else if a.Wait == 0 && !a.Locked {
					claimed.Add(1)
				}
			})
		}
		wg.Wait()
		if n := claimed.Load(); n != int64(policy.AddrFree) {
			t.Fatalf("%d of 40 concurrent claims from one address got through, want %d", n, policy.AddrFree)
		}
	})
}
