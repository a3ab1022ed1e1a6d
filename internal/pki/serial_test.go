package pki_test

import (
	"context"
	"sync"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestConcurrentIssuers issues from 8 goroutines at once: every serial is
// different and every certificate is stored.
func TestConcurrentIssuers(t *testing.T) {
	const issuers, each = 8, 4
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn, pki.Config{})
		csrs := make([][]byte, issuers)
		for i := range csrs {
			csrs[i] = makeCSR(t, newKey(t), pkixName())
		}
		var mu sync.Mutex
		seen := map[string]bool{}
		var wg sync.WaitGroup
		for i := range issuers {
			wg.Go(func() {
				for range each {
					c, err := e.ca.IssueCertificate(ctx, actor, e.alice, lanyard.UsageAuthentication, csrs[i], 1)
					if err != nil {
						t.Errorf("issuer %d: %v", i, err)
						return
					}
					mu.Lock()
					if seen[c.Serial] {
						t.Errorf("serial %s issued twice", c.Serial)
					}
					seen[c.Serial] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		stored, _ := e.ca.FindCertificatesByUser(ctx, e.alice.ID)
		if len(seen) != issuers*each || len(stored) != issuers*each {
			t.Fatalf("%d serials, %d stored, want %d", len(seen), len(stored), issuers*each)
		}
		for _, c := range stored {
			if !seen[c.Serial] {
				t.Errorf("stored serial %s was not returned", c.Serial)
			}
		}
	})
}

func TestParseSerial(t *testing.T) {
	for in, want := range map[string]string{
		"4A:0B:FF": "4a0bff", "004a0bff": "4a0bff", " 0x4A0BFF ": "4a0bff", "": "", "-1": "", "xyz": "", "0": "",
	} {
		got, err := pki.ParseSerial(in)
		if got != want || (want == "") != (lanyard.ErrorCode(err) == lanyard.EINVALID) {
			t.Errorf("ParseSerial(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
