package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// qrPNG writes a PNG holding a QR code of text and returns its path.
func qrPNG(t *testing.T, text string) string {
	t.Helper()
	b, err := qrcode.Encode(text, qrcode.Medium, 256)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "qr.png", b)
}

// writeFile writes data to a new temporary file and returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadLinkFromQR(t *testing.T) {
	link := "https://id.example.com/app/v1/enroll?code=Zm9vYmFyYmF6cXV4cXV1eA"
	got, err := readLink(qrPNG(t, link))
	if err != nil || got != link {
		t.Errorf("readLink(QR of %q) = %q, %v", link, got, err)
	}
	if got, err := readLink(link); err != nil || got != link {
		t.Errorf("readLink(%q) = %q, %v", link, got, err)
	}
}

func TestEnrollBadSource(t *testing.T) {
	var blank bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	png.Encode(&blank, img)
	tests := []struct {
		name, source, want string
	}{
		{"PNG without QR code", writeFile(t, "blank.png", blank.Bytes()), "holds no QR code"},
		{"not a PNG", writeFile(t, "text.png", []byte("hello")), "is not a PNG image"},
		{"QR with another link", qrPNG(t, "https://example.com/welcome"), "not an enrollment link"},
		{"QR with text", qrPNG(t, "hello world"), "not an enrollment link"},
		{"missing file", filepath.Join(t.TempDir(), "none.png"), "neither a QR code image file nor an enrollment link"},
		{"folder", t.TempDir(), "not a QR code image file"},
		{"link without code", "https://id.example.com/app/v1/enroll", "no activation code"},
		{"link of another kind", "ftp://id.example.com/app/v1/enroll?code=x", "https://"},
	}
	pin := pinFile(t, testPIN)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "wallet")
			wantFailure(t, runApp(t, "", "--wallet", dir, "--pin-file", pin, "enroll", tt.source), 1, tt.want)
			if _, err := os.Stat(dir); err == nil {
				t.Error("a failed enrollment created the wallet")
			}
		})
	}
}
