package directory_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/directory"
	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestLargeDirectory syncs a directory of LANYARD_DIRECTORY_ENTRIES people
// (default 2,000; docs/performance.md has the figures for 100,000) and
// reports the time and the peak heap while it runs. The heap must stay far
// below what holding every entry would take: entries are spooled to disk
// and applied in batches.
func TestLargeDirectory(t *testing.T) {
	n := 2000
	if v := os.Getenv("LANYARD_DIRECTORY_ENTRIES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("LANYARD_DIRECTORY_ENTRIES=%q", v)
		}
	}
	var ldif strings.Builder
	ldif.WriteString("dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n")
	for i := range n {
		fmt.Fprintf(&ldif, "dn: uid=p%06d,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: p%06d\ncn: Person %06d\nsn: %06d\nmail: p%06d@example.org\ntitle: Engineer\n\n", i, i, i, i, i)
	}
	slapd := testenv.StartSlapd(t, testenv.SlapdOptions{LDIF: ldif.String()})
	ldif.Reset()
	for _, engine := range testenv.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			db := testenv.OpenDB(t, testenv.DSN(t, engine))
			users := store.NewUserService(db, password.Params{Memory: 1024, Time: 1, Threads: 1})
			dir, err := directory.New(directory.Config{URL: slapd.URL, BindDN: slapd.AdminDN, BindPassword: slapd.AdminPW,
				BaseDN: "ou=people,dc=example,dc=org", Attributes: []string{"title"}})
			if err != nil {
				t.Fatal(err)
			}
			defer dir.Close()
			s := &directory.Syncer{Dir: dir, Store: db, States: users, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxDeactivatePercent: 10}

			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			var peak atomic.Uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				var m runtime.MemStats
				for {
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
				}
			}()
			start := time.Now()
			run, err := s.Sync(ctx, "test", false)
			took := time.Since(start)
			close(stop)
			<-sampled
			if err != nil {
				t.Fatal(err)
			}
			if run.Result.Added != n {
				t.Fatalf("%s, want %d added", run.Result.Summary(), n)
			}
			grown := int64(peak.Load()) - int64(base.HeapInuse)
			t.Logf("%s, %d entries: first sync %s, peak heap %.1f MiB above the %.1f MiB before it",
				engine, n, took.Round(time.Millisecond), float64(grown)/(1<<20), float64(base.HeapInuse)/(1<<20))
			// Every entry held at once would take well over 1 KiB each with the
			// library's and the map's overhead; the spool keeps the heap flat.
			if limit := int64(64 << 20); grown > limit {
				t.Errorf("the heap grew by %d MiB, more than %d MiB", grown>>20, limit>>20)
			}
			start = time.Now()
			run, err = s.Sync(ctx, "test", false)
			if err != nil || run.Result.Summary() != "directory: 0 added, 0 updated, 0 deactivated, 0 reactivated" {
				t.Fatalf("second sync: %v %s", err, run.Result.Summary())
			}
			t.Logf("%s, %d entries: unchanged sync %s", engine, n, time.Since(start).Round(time.Millisecond))
		})
	}
}
