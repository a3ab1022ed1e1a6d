package pki_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// crlScaleShards is how many shards TestCRLScale spreads its revocations
// over, one notAfter day each.
const crlScaleShards = 10

// TestCRLScale puts N revoked certificates into the database (2,000 by
// default, LANYARD_CRL_ENTRIES for more), spread evenly over ten shards,
// (with LANYARD_CRL_KEEP_DIR, into an SQLite database left in that folder
// with its master key, for "lanyard serve --data" to serve afterwards, and
// into the PostgreSQL database LANYARD_CRL_KEEP_POSTGRES names, if set),
// as rows like those the CA writes, and checks that every shard's CRL
// lists exactly its own and the complete CRL all of them. It logs how long
// each shard takes to make and to serve over HTTP, and the complete CRL;
// docs/performance.md has the figures for a million.
func TestCRLScale(t *testing.T) {
	n := 2000
	if v := os.Getenv("LANYARD_CRL_ENTRIES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < crlScaleShards {
			t.Fatalf("LANYARD_CRL_ENTRIES=%q", v)
		}
	}
	keep := os.Getenv("LANYARD_CRL_KEEP_DIR")
	openssl := testenv.OpenSSL(t)
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dataDir := ""
		switch {
		case keep != "" && store.IsPostgresURL(dsn):
			if dsn = os.Getenv("LANYARD_CRL_KEEP_POSTGRES"); dsn == "" {
				t.Skip("LANYARD_CRL_KEEP_POSTGRES names no database to keep")
			}
			dataDir = filepath.Join(keep, "postgres")
		case keep != "":
			dataDir = filepath.Join(keep, "sqlite")
			dsn = filepath.Join(dataDir, "lanyard.db")
		}
		se := newShardEnvIn(t, dsn, dataDir)
		real, _ := se.issue(t, se.alice, lanyard.UsageSignature)
		chain := filepath.Join(t.TempDir(), "chain.pem")
		os.WriteFile(chain, se.ca.ChainPEM(), 0o600)
		raw := openRaw(t, dsn)
		q := func(s string) string {
			if store.IsPostgresURL(dsn) {
				return rebindDollar(s)
			}
			return s
		}

		// The rows: a real certificate's DER, random 126-bit serials, one
		// notAfter day per shard, revoked at different times for one of
		// three reasons.
		started := time.Now()
		now := se.clock()
		var shards []string
		randomSerial := `'4' || substr(lower(hex(randomblob(16))), 2)`
		series := `WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?) `
		from := ` FROM g`
		if store.IsPostgresURL(dsn) {
			randomSerial = `'4' || substr(md5(random()::text || i::text), 2)`
			series, from = ``, ` FROM generate_series(1, ?) AS g(i)`
		}
		tx, err := raw.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for s := range crlScaleShards {
			notAfter := time.Date(now.Year()+1, now.Month(), now.Day(), 12, 0, 0, 0, time.UTC).AddDate(0, 0, s)
			shard := notAfter.Format("20060102")
			shards = append(shards, shard)
			count := n / crlScaleShards
			if s < n%crlScaleShards {
				count++
			}
			stmt := series + `INSERT INTO certificates (serial, user_id, usage, not_before, not_after, status, revoked_at, reason, der, issued_at, crl_shard)
				SELECT ` + randomSerial + `, ?, 'signature', ?, ?, 'revoked', ? - i * 1000000, CASE i % 3 WHEN 0 THEN 1 WHEN 1 THEN 4 ELSE 6 END, ?, ?, ?` + from
			args := []any{se.alice.ID, now.UnixMicro(), notAfter.UnixMicro(), now.UnixMicro(), real.DER, now.UnixMicro(), shard}
			if store.IsPostgresURL(dsn) {
				// generate_series's bound comes last, after the SELECT's.
				stmt = `INSERT INTO certificates (serial, user_id, usage, not_before, not_after, status, revoked_at, reason, der, issued_at, crl_shard)
					SELECT ` + randomSerial + `, ?, 'signature', ?, ?, 'revoked', ?::bigint - i::bigint * 1000000, CASE i % 3 WHEN 0 THEN 1 WHEN 1 THEN 4 ELSE 6 END, ?, ?, ?` + from
				args = append(args, count)
			} else {
				args = append([]any{count}, args...)
			}
			if _, err := tx.Exec(q(stmt), args...); err != nil {
				t.Fatalf("insert shard %s: %v", shard, err)
			}
			if _, err := tx.Exec(q(`INSERT INTO crl_shards (shard, generation) VALUES (?, 1) ON CONFLICT (shard) DO UPDATE SET generation = crl_shards.generation + 1`), shard); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tx.Exec(`UPDATE crl_generation SET generation = generation + 1 WHERE id = 1`); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(`ANALYZE`); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d revoked certificates inserted in %d shards in %s", n, crlScaleShards, time.Since(started).Round(time.Millisecond))

		started = time.Now()
		if err := se.ca.PublishOwedCRL(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("first publication of every shard and the complete CRL: %s", time.Since(started).Round(time.Millisecond))

		// Each shard alone, as after a revocation in it: its generation
		// rises and the periodic round publishes it.
		var builds, buildCPU, reads, readCPU []time.Duration
		for _, shard := range shards {
			if _, err := raw.Exec(q(`UPDATE crl_shards SET generation = generation + 1 WHERE shard = ?`), shard); err != nil {
				t.Fatal(err)
			}
			started, cpu := time.Now(), cpuTime(t)
			if err := se.ca.PublishCRLs(ctx); err != nil {
				t.Fatal(err)
			}
			builds, buildCPU = append(builds, time.Since(started)), append(buildCPU, cpuTime(t)-cpu)
			started, cpu = time.Now(), cpuTime(t)
			rows := 0
			if err := se.st.EachRevoked(ctx, shard, se.clock(), func([]byte, time.Time, lanyard.RevocationReason) error { rows++; return nil }); err != nil {
				t.Fatal(err)
			}
			reads, readCPU = append(reads, time.Since(started)), append(readCPU, cpuTime(t)-cpu)
		}
		t.Logf("one shard of about %d entries made and published: %s; CPU of this process %s", n/crlScaleShards, spread(builds), spread(buildCPU))
		t.Logf("of which reading its revocations from the database: %s; CPU %s", spread(reads), spread(readCPU))

		// Served over HTTP, from memory.
		client := &http.Client{Transport: &http.Transport{}}
		var serves []time.Duration
		total := 0
		for i, shard := range shards {
			url := se.url(se.ca.CRLShardURL(shard))
			for range 20 {
				started := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					t.Fatal(err)
				}
				der := make([]byte, 0, resp.ContentLength)
				der, err = readAll(resp.Body, der)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
				}
				serves = append(serves, time.Since(started))
				if len(serves)%20 == 1 {
					rl, err := x509.ParseRevocationList(der)
					if err != nil {
						t.Fatal(err)
					}
					want := n / crlScaleShards
					if i < n%crlScaleShards {
						want++
					}
					if len(rl.RevokedCertificateEntries) != want {
						t.Fatalf("shard %s lists %d, want %d", shard, len(rl.RevokedCertificateEntries), want)
					}
					// openssl reads it too, checks its signature, and finds
					// as many entries.
					file := filepath.Join(t.TempDir(), "shard.der")
					os.WriteFile(file, der, 0o600)
					out := testenv.Run(t, openssl, "crl", "-inform", "DER", "-in", file, "-CAfile", chain, "-noout", "-text")
					if !strings.Contains(out, "verify OK") || strings.Count(out, "Serial Number:") != want {
						t.Fatalf("openssl crl of shard %s: %d entries, want %d (%.300s)", shard, strings.Count(out, "Serial Number:"), want, out)
					}
					total += want
					if i == 0 {
						t.Logf("a shard's CRL is %d bytes", len(der))
					}
				}
			}
		}
		t.Logf("a shard's CRL served (GET over loopback, body read): %s", spread(serves))

		started, cpu := time.Now(), cpuTime(t)
		if err := se.ca.RefreshCRL(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("the complete CRL made and published: %s; CPU %s", time.Since(started).Round(time.Millisecond), (cpuTime(t) - cpu).Round(time.Millisecond))
		var completeServes []time.Duration
		var complete []byte
		for range 5 {
			started := time.Now()
			resp, err := client.Get(se.srv + "/pki/crl")
			if err != nil {
				t.Fatal(err)
			}
			complete, err = readAll(resp.Body, make([]byte, 0, resp.ContentLength))
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			completeServes = append(completeServes, time.Since(started))
		}
		t.Logf("the complete CRL (%d bytes) served: %s", len(complete), spread(completeServes))
		rl, err := x509.ParseRevocationList(complete)
		if err != nil || len(rl.RevokedCertificateEntries) != n || total != n {
			t.Fatalf("the complete CRL lists %d of %d (shards %d): %v", len(rl.RevokedCertificateEntries), n, total, err)
		}

		if os.Getenv("LANYARD_CRL_ENTRIES") != "" && !store.IsPostgresURL(dsn) {
			// For comparison: the standard library's encoder on one shard,
			// with a CA key of the same kind.
			key := newKey(t)
			caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: se.ca.Issuer().Subject, NotBefore: now, NotAfter: now.AddDate(1, 0, 0),
				IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCRLSign, SubjectKeyId: []byte{1}}
			caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &key.PublicKey, key)
			tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}
			started, cpu := time.Now(), cpuTime(t)
			se.st.EachRevoked(ctx, shards[0], now, func(serial []byte, at time.Time, reason lanyard.RevocationReason) error {
				s, _ := new(big.Int).SetString(string(serial), 16)
				tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: at, ReasonCode: int(reason)})
				return nil
			})
			if _, err := x509.CreateRevocationList(rand.Reader, tmpl, mustParse(t, caDER), key); err != nil {
				t.Fatal(err)
			}
			t.Logf("one shard read and made by x509.CreateRevocationList instead: %s; CPU %s", time.Since(started).Round(time.Millisecond), (cpuTime(t) - cpu).Round(time.Millisecond))
		}
	})
}

// readAll reads r to its end into buf, which has room for the body.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 4096)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		} else if err != nil {
			return buf, err
		}
	}
}

// cpuTime returns the user and system CPU time of this process so far.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// spread summarizes durations: the median and the largest.
func spread(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	r := func(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }
	return "median " + r(s[len(s)/2]) + ", 90% " + r(s[len(s)*9/10]) + ", max " + r(s[len(s)-1]) +
		" (" + strconv.Itoa(len(s)) + " runs)"
}

// openRaw opens the test database with database/sql, past the store, for
// inserting rows in bulk.
func openRaw(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	driver, name := "sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	if store.IsPostgresURL(dsn) {
		driver, name = "pgx", dsn
	}
	db, err := sql.Open(driver, name)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// rebindDollar numbers the ? placeholders for PostgreSQL.
func rebindDollar(q string) string {
	var out []byte
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, '$')
			out = strconv.AppendInt(out, int64(n), 10)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}
