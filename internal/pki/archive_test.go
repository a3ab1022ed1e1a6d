package pki_test

import (
	"context"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestKeyArchive lists and recovers archived encryption keys: newest first,
// only the user's own, each recovery audited.
func TestKeyArchive(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn, pki.Config{})
		first, key1, err := e.ca.IssueEncryptionCertificate(ctx, actor, e.alice, 2048, 1)
		if err != nil {
			t.Fatal(err)
		}
		e.issue(t, e.alice, lanyard.UsageSignature) // not archived
		second, _, err := e.ca.IssueEncryptionCertificate(ctx, actor, e.alice, 0, 2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.ca.RevokeCertificate(ctx, actor, first.Serial, lanyard.ReasonSuperseded); err != nil {
			t.Fatal(err)
		}
		list, err := e.ca.FindArchivedCertificates(ctx, e.alice.ID)
		if err != nil || len(list) != 2 || list[0].Serial != second.Serial || list[1].Serial != first.Serial {
			t.Fatalf("archived certificates %v, %v; want %s then %s", err, serials(list), second.Serial, first.Serial)
		}
		if list[1].Status != lanyard.CertificateRevoked || list[0].ArchivedKeyID == 0 {
			t.Fatalf("archive list entries %+v", list)
		}
		if all, _ := e.ca.FindCertificatesByUser(ctx, e.alice.ID); len(all) != 3 {
			t.Fatalf("alice has %d certificates, want 3", len(all))
		}
		if bobs, _ := e.ca.FindArchivedCertificates(ctx, e.bob.ID); len(bobs) != 0 {
			t.Fatalf("bob has archived certificates %v", serials(bobs))
		}

		got, err := e.ca.RecoverKey(ctx, actor, e.alice.ID, first.Serial)
		if err != nil || !got.Equal(key1) {
			t.Fatalf("recover the first key: %v", err)
		}
		if _, err := e.ca.RecoverKey(ctx, actor, e.bob.ID, first.Serial); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
			t.Fatalf("bob recovering alice's key: %v", err)
		}
		if _, err := e.ca.RecoverKey(ctx, actor, e.alice.ID, "not hex"); lanyard.ErrorCode(err) != lanyard.EINVALID {
			t.Fatalf("bad serial: %v", err)
		}
		ev, _ := e.db.FindAuditEvents(ctx, lanyard.AuditFilter{Action: "certificate.key_recover"})
		if len(ev) != 1 || ev[0].Subject != first.Serial {
			t.Fatalf("recovery audit events %+v", ev)
		}
	})
}

func serials(cs []*lanyard.Certificate) []string {
	var s []string
	for _, c := range cs {
		s = append(s, c.Serial)
	}
	return s
}
