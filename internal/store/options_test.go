package store_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestOpenEnrollmentChecksScriptVersion: a process whose options came
// from a version of its script that is no longer the newest does not
// open, and changes nothing (the active mobile ID it would lock stays
// active); with the newest version it opens.
func TestOpenEnrollmentChecksScriptVersion(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		f := newFixture(t, dsn)
		const process = "MobileIDSelfServiceProcGet"
		if err := f.db.EnsureScript(ctx, process, "validity_years = 2\n"); err != nil {
			t.Fatal(err)
		}
		old, err := f.db.CurrentScript(ctx, process)
		if err != nil {
			t.Fatal(err)
		}
		newest, err := f.db.SaveScript(ctx, lanyard.CLIActor, process, "validity_years = 3\n", "")
		if err != nil {
			t.Fatal(err)
		}
		u := f.user(t)
		f.active(t, u)
		open := func(version int) error {
			e := &lanyard.Enrollment{PublicID: rand.Text(), UserID: u.ID, Process: process, Step: lanyard.StepActivation,
				Options: []byte("{}"), OptionsVersion: version}
			m := &lanyard.MobileID{PublicID: rand.Text(), UserID: u.ID, State: lanyard.MobileIDRegistered, Process: process,
				ProfileName: "MobileID", ServerName: "Smart ID", ProfileUser: u.Email}
			code := &lanyard.ActivationCode{Hash: []byte(rand.Text()), ExpiresAt: time.Now().Add(time.Hour), MobileID: m}
			return f.db.OpenEnrollment(ctx, lanyard.CLIActor, e, true, code)
		}
		before, err := store.Dump(f.db)
		if err != nil {
			t.Fatal(err)
		}
		if err := open(old.Version); !errors.Is(err, lanyard.ErrOptionsChanged) {
			t.Fatalf("opened with version %d of %d: %v, want ErrOptionsChanged", old.Version, newest.Version, err)
		}
		if after, err := store.Dump(f.db); err != nil || after != before {
			t.Fatalf("a refused process changed the database (%v):\n%s\nwas\n%s", err, after, before)
		}
		if err := open(newest.Version); err != nil {
			t.Fatalf("opened with the newest version: %v", err)
		}
	})
}
