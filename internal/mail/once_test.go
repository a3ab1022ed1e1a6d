package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	lmail "github.com/lanyard-id/lanyard/internal/mail"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// messageIDs returns the Message-ID of each message the inbox received.
func messageIDs(t *testing.T, in *inbox) []string {
	t.Helper()
	var ids []string
	for _, raw := range in.received() {
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, msg.Header.Get("Message-ID"))
	}
	return ids
}

// TestSlowSMTPSendsEachMailOnce has two instances deliver through an SMTP
// server that takes a while per message, longer in all than one lease:
// each mail is claimed on its own, so none is sent twice.
func TestSlowSMTPSendsEachMailOnce(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ob, _ := newOutbox(t, dsn)
		ob2, _ := newOutbox(t, dsn)
		in := startInbox(t, "", nil)
		in.delay = 150 * time.Millisecond
		const mails = 8
		for range mails {
			if err := ob.QueueMail(t.Context(), lanyard.SystemActor, qrMail); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for _, o := range []*store.Outbox{ob, ob2} {
			s := &lmail.Sender{Outbox: o, Logger: slog.New(slog.DiscardHandler), Lease: 500 * time.Millisecond,
				Config: lmail.Config{Addr: in.addr, TLS: "none", From: "lanyard@example.com"}}
			wg.Go(func() {
				for {
					sent, failed, err := s.SendDue(t.Context())
					if err != nil || failed > 0 {
						t.Errorf("send: %d failed, %v", failed, err)
						return
					}
					if sent == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		ids := messageIDs(t, in)
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] || id == "" {
				t.Fatalf("message %q delivered twice or without an ID", id)
			}
			seen[id] = true
		}
		if len(ids) != mails {
			t.Fatalf("%d messages delivered for %d queued", len(ids), mails)
		}
	})
}

// forgetful is an outbox whose instance crashes after sending, before it
// records the mail as sent.
type forgetful struct{ *store.Outbox }

func (forgetful) MarkMailSent(context.Context, *store.DueMail) error { return nil }

// TestCrashAfterSendingIsNotSilent sends a mail and "crashes" before
// recording it: once the lease ends the mail goes out again with the same
// Message-ID, so the two copies are recognisably one message, and the
// second attempt is logged and audited.
func TestCrashAfterSendingIsNotSilent(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ob, db := newOutbox(t, dsn)
		in := startInbox(t, "", nil)
		if err := ob.QueueMail(t.Context(), lanyard.SystemActor, qrMail); err != nil {
			t.Fatal(err)
		}
		cfg := lmail.Config{Addr: in.addr, TLS: "none", From: "lanyard@example.com"}
		crashing := &lmail.Sender{Outbox: forgetful{ob}, Logger: slog.New(slog.DiscardHandler), Config: cfg}
		if sent, _, err := crashing.SendDue(t.Context()); sent != 1 || err != nil {
			t.Fatalf("first attempt: %d sent, %v", sent, err)
		}
		restarted := &lmail.Sender{Outbox: ob, Logger: slog.New(slog.DiscardHandler), Config: cfg}
		if sent, _, _ := restarted.SendDue(t.Context()); sent != 0 {
			t.Fatal("sent again while the first attempt's lease lasts")
		}
		db.Now = func() time.Time { return time.Now().Add(3 * time.Minute) }
		if sent, _, err := restarted.SendDue(t.Context()); sent != 1 || err != nil {
			t.Fatalf("after the lease: %d sent, %v", sent, err)
		}
		if sent, _, _ := restarted.SendDue(t.Context()); sent != 0 {
			t.Fatal("sent a third time")
		}
		ids := messageIDs(t, in)
		if len(ids) != 2 || ids[0] != ids[1] || ids[0] == "" {
			t.Fatalf("Message-IDs of the two copies: %q", ids)
		}
		events, err := db.FindAuditEvents(t.Context(), lanyard.AuditFilter{Action: "mail.resend"})
		if err != nil || len(events) != 1 {
			t.Fatalf("audit of the second attempt: %d events, %v", len(events), err)
		}
	})
}

// TestBadSettingsClaimNothing runs a sender with an SMTP address that is
// not HOST:PORT: it fails before it claims anything, so a sender with the
// right settings delivers the mail at once, as a first attempt.
func TestBadSettingsClaimNothing(t *testing.T) {
	ob, db := newOutbox(t, testenv.DSN(t, "sqlite"))
	in := startInbox(t, "", nil)
	if err := ob.QueueMail(t.Context(), lanyard.SystemActor, qrMail); err != nil {
		t.Fatal(err)
	}
	bad := &lmail.Sender{Outbox: ob, Logger: slog.New(slog.DiscardHandler), Config: lmail.Config{Addr: "no port", TLS: "none", From: "lanyard@example.com"}}
	if _, _, err := bad.SendDue(t.Context()); err == nil {
		t.Fatal("a sender without a port sent")
	}
	good := &lmail.Sender{Outbox: ob, Logger: slog.New(slog.DiscardHandler), Config: lmail.Config{Addr: in.addr, TLS: "none", From: "lanyard@example.com"}}
	if sent, _, err := good.SendDue(t.Context()); sent != 1 || err != nil {
		t.Fatalf("after the bad sender: %d sent, %v", sent, err)
	}
	if events, _ := db.FindAuditEvents(t.Context(), lanyard.AuditFilter{Action: "mail.resend"}); len(events) != 0 {
		t.Fatalf("%d resends audited for a first attempt", len(events))
	}
}
