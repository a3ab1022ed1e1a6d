//go:build cgo

package pki_test

import (
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/ThalesGroup/crypto11"
	"github.com/lanyard-id/lanyard/internal/pki"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// newSoftHSM initialises a fresh SoftHSM2 token labelled lanyard-test and
// returns the backend settings that reach it.
func newSoftHSM(t *testing.T) pki.PKCS11Config {
	t.Helper()
	module := testenv.SoftHSMToken(t, "lanyard-test", "5678")
	return pki.PKCS11Config{Module: module, TokenLabel: "lanyard-test", PIN: "5678"}
}

// openPKCS11 opens a backend on the token, closed when t ends.
func openPKCS11(t *testing.T, cfg pki.PKCS11Config) *pki.PKCS11Backend {
	t.Helper()
	b, err := pki.NewPKCS11Backend(cfg)
	if err != nil {
		t.Fatalf("open PKCS#11 backend: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// inspectToken opens a second, independent session on the token, as an
// operator's tool would, to look at the key objects themselves.
func inspectToken(t *testing.T, cfg pki.PKCS11Config) *crypto11.Context {
	t.Helper()
	c, err := crypto11.Configure(&crypto11.Config{Path: cfg.Module, TokenLabel: cfg.TokenLabel, Pin: cfg.PIN})
	if err != nil {
		t.Fatalf("inspect token: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dumpSQLite returns every row of every table of the SQLite database at dsn
// as "table: column=value" lines, binary values in hexadecimal.
func dumpSQLite(t *testing.T, dsn string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dsn+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables []string
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	var b strings.Builder
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			b.WriteString(table + ":")
			for i, v := range vals {
				if raw, ok := v.([]byte); ok {
					v = hex.EncodeToString(raw)
				}
				fmt.Fprintf(&b, " %s=%v", cols[i], v)
			}
			b.WriteString("\n")
		}
		rows.Close()
	}
	return b.String()
}
