package userimport_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/password"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
	"github.com/lanyard-id/lanyard/internal/userimport"
)

var benchUsers = flag.Int("users", 100000, "users per import in BenchmarkImport")

// BenchmarkImport imports a file of -users users without passwords into a
// fresh database of each engine, once per iteration, and reports users/s.
//
//	go test -run '^$' -bench Import -benchtime 3x ./internal/userimport/ -args -users 100000
func BenchmarkImport(b *testing.B) {
	path := filepath.Join(b.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte(rows(*benchUsers, "")), 0o600); err != nil {
		b.Fatal(err)
	}
	benchImport(b, path, *benchUsers, userimport.Options{})
}

// BenchmarkImportPasswords imports 200 users with passwords, hashed with
// the default argon2id cost, and reports passwords hashed per second.
func BenchmarkImportPasswords(b *testing.B) {
	const n = 200
	path := filepath.Join(b.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte(rows(n, "password of the user")), 0o600); err != nil {
		b.Fatal(err)
	}
	benchImport(b, path, n, userimport.Options{})
}

func benchImport(b *testing.B, path string, n int, opt userimport.Options) {
	for _, engine := range testenv.Engines {
		b.Run(engine, func(b *testing.B) {
			users := 0
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				db := testenv.OpenDB(b, testenv.DSN(b, engine))
				us := store.NewUserService(db, passwordParams())
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				before := processCPU(b)
				got, err := userimport.Import(context.Background(), us, lanyard.CLIActor, f, opt)
				cpu += processCPU(b) - before
				b.StopTimer()
				f.Close()
				if err != nil || got != n {
					b.Fatalf("import = %d, %v", got, err)
				}
				users += got
				b.StartTimer()
			}
			b.ReportMetric(float64(users)/b.Elapsed().Seconds(), "users/s")
			// CPU time resists a busy machine better than the rate; on
			// PostgreSQL it leaves out the server's.
			b.ReportMetric(float64(cpu.Microseconds())/float64(users), "cpu-µs/user")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// processCPU is the CPU time this process has used so far.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// passwordParams is the production cost, or the tests' with -short.
func passwordParams() password.Params {
	if testing.Short() {
		return fastHash
	}
	return password.Default
}
