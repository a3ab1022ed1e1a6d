package tlsserve_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard/internal/tlsserve"
)

func TestLoadFilesKeyFormats(t *testing.T) {
	ca := newTestCA(t)
	for i, format := range keyFormats {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			certPEM, keyPEM := ca.issue(t, int64(10+i), format)
			write(t, filepath.Join(dir, "cert.pem"), certPEM)
			write(t, filepath.Join(dir, "key.pem"), keyPEM)
			f, err := tlsserve.LoadFiles(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			c, _ := f.GetCertificate(nil)
			if len(c.Certificate) != 2 || f.Leaf().SerialNumber.Int64() != int64(10+i) {
				t.Fatalf("chain of %d, leaf serial %v", len(c.Certificate), f.Leaf().SerialNumber)
			}
		})
	}
}

func TestLoadFilesRefusesMismatchedPair(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certPEM, _ := ca.issue(t, 1, "sec1")
	_, otherKey := ca.issue(t, 2, "sec1")
	write(t, filepath.Join(dir, "cert.pem"), certPEM)
	write(t, filepath.Join(dir, "key.pem"), otherKey)
	_, err := tlsserve.LoadFiles(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "--tls-cert and --tls-key") {
		t.Fatalf("err = %v, want a refusal of the pair", err)
	}
}

// TestReload serves HTTPS from files and replaces them in each way an
// administrator or a certificate tool does while it serves: every new
// connection after a replacement gets the new certificate, and a pair
// caught half replaced leaves the old one in place.
func TestReload(t *testing.T) {
	ca := newTestCA(t)
	root := t.TempDir()
	// live is a symlink to a folder of the pair, as Kubernetes mounts and
	// some ACME clients lay them out; the flags name files under it.
	live := filepath.Join(root, "live")
	certFile, keyFile := filepath.Join(live, "cert.pem"), filepath.Join(live, "key.pem")
	put := func(dir string, serial int64, format string) {
		c, k := ca.issue(t, serial, format)
		write(t, filepath.Join(root, dir, "cert.pem"), c)
		write(t, filepath.Join(root, dir, "key.pem"), k)
	}
	put("v1", 1, "pkcs8-ecdsa")
	if err := os.Symlink("v1", live); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	f, err := tlsserve.LoadFiles(certFile, keyFile, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.Watch(ctx)

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	srv.TLS = &tls.Config{GetCertificate: f.GetCertificate}
	srv.StartTLS()
	defer srv.Close()
	served := func() int64 {
		t.Helper()
		conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{RootCAs: ca.pool(), ServerName: "localhost"})
		if err != nil {
			t.Fatalf("TLS handshake: %v", err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	waitServed := func(serial int64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for served() != serial {
			if time.Now().After(deadline) {
				t.Fatalf("still serving %d, want %d", served(), serial)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if got := served(); got != 1 {
		t.Fatalf("serving %d, want 1", got)
	}

	// Rewritten in place, key format changing too.
	c2, k2 := ca.issue(t, 2, "pkcs1")
	write(t, filepath.Join(root, "v1", "cert.pem"), c2)
	write(t, filepath.Join(root, "v1", "key.pem"), k2)
	waitServed(2)

	// Caught half way: a new certificate beside the old key is ignored.
	c3, k3 := ca.issue(t, 3, "sec1")
	write(t, filepath.Join(root, "v1", "cert.pem"), c3)
	if !waitFor(10*time.Second, func() bool { return strings.Contains(logs.String(), "the old certificate stays") }) {
		t.Fatalf("no warning about the mismatched pair; log:\n%s", logs)
	}
	if got := served(); got != 2 {
		t.Fatalf("serving %d after a mismatched pair, want the old 2", got)
	}
	write(t, filepath.Join(root, "v1", "key.pem"), k3)
	waitServed(3)

	// Renamed over: new files written beside, then moved into place.
	c4, k4 := ca.issue(t, 4, "pkcs8-rsa")
	write(t, filepath.Join(root, "v1", "key.pem.new"), k4)
	write(t, filepath.Join(root, "v1", "cert.pem.new"), c4)
	os.Rename(filepath.Join(root, "v1", "key.pem.new"), filepath.Join(root, "v1", "key.pem"))
	os.Rename(filepath.Join(root, "v1", "cert.pem.new"), filepath.Join(root, "v1", "cert.pem"))
	waitServed(4)

	// Replaced through the symlink: a new folder, and the link swapped at once.
	put("v2", 5, "sec1")
	if err := os.Symlink("v2", filepath.Join(root, "live.new")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "live.new"), live); err != nil {
		t.Fatal(err)
	}
	waitServed(5)
}
