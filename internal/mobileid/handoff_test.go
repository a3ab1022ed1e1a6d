package mobileid_test

import (
	"context"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/mobileid"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestCodeIssuedWithTheProcess checks that the activation page right after
// the start shows the code issued with the process, once: the page shown
// again voids it with a fresh code, and so does the page shown after the
// link's short wait.
func TestCodeIssuedWithTheProcess(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn)
		u := e.addUser(t, "alice")
		actor := lanyard.Actor{Username: u.Username}
		before := e.db.Counters()
		en, err := e.svc.Start(ctx, actor, u, mobileid.StartRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if en.MobileID == 0 || en.CodeExpiresAt.IsZero() {
			t.Fatalf("the process opened without its code: %+v", en)
		}
		first, err := e.svc.Activate(ctx, actor, u, en.PublicID)
		if err != nil || first.Link == "" || first.MobileID.ID != en.MobileID {
			t.Fatalf("the first page: %+v, %v", first, err)
		}
		if n := e.db.Counters().Transactions - before.Transactions; n != 1 {
			t.Errorf("start and the first page took %d transactions, want 1", n)
		}
		again, err := e.svc.Activate(ctx, actor, u, en.PublicID)
		if err != nil || again.Link == "" || again.Link == first.Link || again.MobileID.ID != en.MobileID {
			t.Fatalf("the page again: %+v, %v", again, err)
		}
		if _, err := e.svc.Enroll(ctx, e.enrollRequest(t, first.Link)); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
			t.Fatalf("the voided first code enrolled: %v", err)
		}
		// Another process waits past the link's wait: its page issues a
		// fresh code rather than show one that has aged.
		en2, err := e.svc.Start(ctx, actor, u, mobileid.StartRequest{})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Shift(31 * time.Second)
		late, err := e.svc.Activate(ctx, actor, u, en2.PublicID)
		if err != nil || late.Link == "" || !late.ExpiresAt.After(en2.CodeExpiresAt) {
			t.Fatalf("the page after the wait: %+v, %v (the process's code expires %s)", late, err, en2.CodeExpiresAt)
		}
		if _, err := e.svc.Enroll(ctx, e.enrollRequest(t, late.Link)); err != nil {
			t.Fatalf("the fresh code: %v", err)
		}
	})
}

// TestCodeHandedOnlyToItsUser checks that the page of another user's
// process shows nothing of its code.
func TestCodeHandedOnlyToItsUser(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn)
		alice, bob := e.addUser(t, "alice"), e.addUser(t, "bob")
		en, err := e.svc.Start(ctx, lanyard.Actor{Username: "alice"}, alice, mobileid.StartRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if a, err := e.svc.Activate(ctx, lanyard.Actor{Username: "bob"}, bob, en.PublicID); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
			t.Fatalf("bob opened alice's page: %+v, %v", a, err)
		}
		if a, err := e.svc.Activate(ctx, lanyard.Actor{Username: "alice"}, alice, en.PublicID); err != nil || a.Link == "" {
			t.Fatalf("alice's page after bob's try: %+v, %v", a, err)
		}
	})
}

// TestCodeHandedOnlyWhileCurrent checks that a link waiting on one
// instance is not shown once the page of another instance has issued a
// fresh code: the page shows a code that works.
func TestCodeHandedOnlyWhileCurrent(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn)
		u := e.addUser(t, "alice")
		actor := lanyard.Actor{Username: u.Username}
		other, _ := e.instance(t, testenv.OpenDB(t, dsn))
		en, err := e.svc.Start(ctx, actor, u, mobileid.StartRequest{})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Shift(time.Second) // the other page's code expires later
		if _, err := other.Activate(ctx, actor, u, en.PublicID); err != nil {
			t.Fatal(err)
		}
		a, err := e.svc.Activate(ctx, actor, u, en.PublicID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Enroll(ctx, e.enrollRequest(t, a.Link)); err != nil {
			t.Fatalf("the page after another instance's shows a code that does not work: %v", err)
		}
	})
}
