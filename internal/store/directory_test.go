package store_test

import (
	"bytes"
	"context"
	"iter"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

func entries(es ...*lanyard.DirectoryEntry) iter.Seq2[*lanyard.DirectoryEntry, error] {
	return func(yield func(*lanyard.DirectoryEntry, error) bool) {
		for _, e := range es {
			if !yield(e, nil) {
				return
			}
		}
	}
}

func person(name string, roles ...lanyard.Role) *lanyard.DirectoryEntry {
	return &lanyard.DirectoryEntry{DN: "uid=" + name + ",dc=example,dc=org", Username: name, Email: name + "@example.org",
		CommonName: "Person " + name, Attributes: map[string]string{}, Roles: append([]lanyard.Role{lanyard.RoleUser}, roles...)}
}

// TestSyncDirectory applies directory reads to the users table: adds,
// updates of mapped attributes and managed roles only, dry runs, the
// deactivation limit, and the runs' records.
func TestSyncDirectory(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		users := store.NewUserService(db, fastHash)
		opts := lanyard.DirectorySyncOptions{MaxDeactivatePercent: 10, ManagedRoles: []lanyard.Role{lanyard.RoleAdmin}}
		var people []*lanyard.DirectoryEntry
		for _, n := range []string{"ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal", "ida", "jon", "kim"} {
			people = append(people, person(n))
		}
		people[0].Roles = append(people[0].Roles, lanyard.RoleAdmin)
		res, err := db.SyncDirectory(ctx, lanyard.DirectoryActor, entries(people...), opts)
		if err != nil || res.Added != 11 || res.Entries != 11 {
			t.Fatalf("first sync: %v %+v", err, res)
		}
		// A role the directory does not manage, given by hand, stays.
		if _, err := users.SetUserRoles(ctx, lanyard.CLIActor, "ben", []lanyard.Role{lanyard.RoleOperator}); err != nil {
			t.Fatal(err)
		}
		people[1].Email = "ben.new@example.org"
		people[0].Roles = people[0].Roles[:1]
		dry, err := db.SyncDirectory(ctx, lanyard.DirectoryActor, entries(people...), lanyard.DirectorySyncOptions{DryRun: true, MaxDeactivatePercent: 10, ManagedRoles: opts.ManagedRoles})
		if err != nil || dry.Updated != 2 {
			t.Fatalf("dry run: %v %+v", err, dry)
		}
		if ben, _ := users.FindUserByUsername(ctx, "ben"); ben.Email != "ben@example.org" {
			t.Fatalf("the dry run changed ben: %+v", ben)
		}
		res, err = db.SyncDirectory(ctx, lanyard.DirectoryActor, entries(people...), opts)
		if err != nil || res.Updated != 2 {
			t.Fatalf("update: %v %+v", err, res)
		}
		if ben, _ := users.FindUserByUsername(ctx, "ben"); ben.Email != "ben.new@example.org" || !ben.HasRole(lanyard.RoleOperator) {
			t.Fatalf("ben: %+v", ben)
		}
		if ann, _ := users.FindUserByUsername(ctx, "ann"); ann.HasRole(lanyard.RoleAdmin) {
			t.Fatalf("ann left the admin group but is %v", ann.Roles)
		}
		// Two gone of 11 is more than 10%; one is allowed.
		if _, err := db.SyncDirectory(ctx, lanyard.DirectoryActor, entries(people[2:]...), opts); lanyard.ErrorMessage(err) != "stopped: would deactivate 2 of 11 users (limit 10%)" {
			t.Fatalf("two gone: %v", err)
		}
		res, err = db.SyncDirectory(ctx, lanyard.DirectoryActor, entries(people[1:]...), opts)
		if err != nil || res.Deactivated != 1 || len(res.StateChanges) != 1 || res.StateChanges[0] != (lanyard.DirectoryStateChange{Username: "ann", State: lanyard.UserInactive}) {
			t.Fatalf("one gone: %v %+v", err, res)
		}
		// The store only marks the change; the mobile ID service makes it.
		if _, err := users.SetUserState(ctx, lanyard.DirectoryActor, "ann", lanyard.UserInactive); err != nil {
			t.Fatal(err)
		}
		res, err = db.SyncDirectory(ctx, lanyard.DirectoryActor, entries(people...), opts)
		if err != nil || res.Reactivated != 1 {
			t.Fatalf("ann back: %v %+v", err, res)
		}
		if dn, ok, err := db.DirectoryDN(ctx, "ANN"); err != nil || !ok || dn != "uid=ann,dc=example,dc=org" {
			t.Fatalf("DirectoryDN: %q %t %v", dn, ok, err)
		}

		run := &lanyard.DirectoryRun{StartedAt: time.Now(), FinishedAt: time.Now(), Actor: "cli", OK: true, Result: *res}
		if err := db.RecordDirectoryRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		runs, err := db.DirectoryRuns(ctx, 5)
		if err != nil || len(runs) != 1 || runs[0].Result.Reactivated != 1 || len(runs[0].Result.Changes) != len(res.Changes) {
			t.Fatalf("runs: %v %+v", err, runs)
		}
		if last, err := db.LastDirectorySuccess(ctx); err != nil || last.IsZero() {
			t.Fatalf("last success: %v %v", last, err)
		}
	})
}

// TestClaimDirectorySync: of instances asking at once, one gets the run,
// and the next is not due before the interval.
func TestClaimDirectorySync(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := openDB(t, dsn), openDB(t, dsn)
		first, err := a.ClaimDirectorySync(ctx, time.Hour)
		if err != nil || !first {
			t.Fatalf("first claim: %t %v", first, err)
		}
		if again, err := b.ClaimDirectorySync(ctx, time.Hour); err != nil || again {
			t.Fatalf("second claim within the interval: %t %v", again, err)
		}
		b.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		if later, err := b.ClaimDirectorySync(ctx, time.Hour); err != nil || !later {
			t.Fatalf("claim after the interval: %t %v", later, err)
		}
	})
}

func TestACMECache(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		c := store.NewACMECache(openDB(t, dsn))
		if _, found, err := c.Get(ctx, "acme_account+key"); err != nil || found {
			t.Fatalf("empty cache: %t %v", found, err)
		}
		for _, v := range [][]byte{[]byte("one"), []byte("two")} {
			if err := c.Put(ctx, "acme_account+key", v); err != nil {
				t.Fatal(err)
			}
			if got, found, err := c.Get(ctx, "acme_account+key"); err != nil || !found || !bytes.Equal(got, v) {
				t.Fatalf("got %q %t %v, want %q", got, found, err, v)
			}
		}
		if err := c.Delete(ctx, "acme_account+key"); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := c.Get(ctx, "acme_account+key"); found {
			t.Fatal("deleted value still there")
		}
	})
}
