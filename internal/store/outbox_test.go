package store_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/secret"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestMailSealBoundToItsEnvelope checks that a queued mail opens as it was
// queued, and not once its recipient is changed or its body is moved to
// another row; and that a mail sealed the old way, bound to its row's ID,
// still opens.
func TestMailSealBoundToItsEnvelope(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		box, err := secret.New(bytes.Repeat([]byte{7}, 32), "outbox")
		if err != nil {
			t.Fatal(err)
		}
		o := store.NewOutbox(db, box)
		for _, to := range []string{"alice@example.com", "bob@example.com"} {
			if err := o.QueueMail(ctx, lanyard.CLIActor, lanyard.Mail{To: to, Subject: "Hello", Kind: "test", Text: "for " + to}); err != nil {
				t.Fatal(err)
			}
		}
		list, err := o.ListMail(ctx, 10)
		if err != nil || len(list) != 2 {
			t.Fatalf("%d mails, %v", len(list), err)
		}
		bob, alice := list[0].ID, list[1].ID
		if _, m, err := o.FindMail(ctx, alice); err != nil || m.Text != "for alice@example.com" {
			t.Fatalf("alice's mail: %+v, %v", m, err)
		}
		// Bob's body and reference moved into alice's row.
		if err := store.Exec(db, `UPDATE outbox SET body = (SELECT body FROM outbox WHERE id = ?), seal_ref = (SELECT seal_ref FROM outbox WHERE id = ?) WHERE id = ?`, bob, bob, alice); err != nil {
			t.Fatal(err)
		}
		if _, _, err := o.FindMail(ctx, alice); err == nil {
			t.Error("a body moved to another row opened")
		}
		if err := store.Exec(db, `UPDATE outbox SET to_addr = ? WHERE id = ?`, "mallory@example.com", bob); err != nil {
			t.Fatal(err)
		}
		if _, _, err := o.FindMail(ctx, bob); err == nil {
			t.Error("a mail whose recipient was changed opened")
		}
		// A row as an earlier version sealed it: bound to its ID.
		old, err := box.Seal([]byte(`{"text":"from before"}`), "outbox 100")
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Exec(db, `INSERT INTO outbox (id, to_addr, subject, kind, body, created_at) VALUES (100, 'carol@example.com', 'Old', 'test', ?, 1)`, old); err != nil {
			t.Fatal(err)
		}
		if _, m, err := o.FindMail(ctx, 100); err != nil || m.Text != "from before" {
			t.Fatalf("a mail sealed before the references: %+v, %v", m, err)
		}
	})
}
