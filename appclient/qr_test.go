package appclient_test

import (
	"bytes"
	"crypto/rand"
	"image/png"
	"testing"

	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/mobileid"
)

// TestScanQRReadsServerCodes reads the server's QR code PNGs of a thousand
// random enrollment links: gozxing's search for finder patterns alone
// misses a few in a thousand of them, which the whole-image reading gets.
func TestScanQRReadsServerCodes(t *testing.T) {
	for i := range 1000 {
		link := "https://id.example.org/app/v1/enroll?code=" + rand.Text() + rand.Text()[:i%16]
		data, err := mobileid.QRCode(link)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		got, err := appclient.ScanQR(img)
		if err != nil || got != link {
			t.Fatalf("code %d of %q: read %q, %v", i, link, got, err)
		}
	}
}
