package mobileid_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/mobileid"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// benchLink is an enrollment link of the usual length, different for
// every i, so that no QR code is made twice.
func benchLink(i int) string {
	return appclient.EnrollmentLink("https://lanyard.example.com", fmt.Sprintf("%043d", i))
}

// BenchmarkQRCode measures QR code PNGs made per second for enrollment
// links never seen before.
func BenchmarkQRCode(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		if _, err := mobileid.QRCode(benchLink(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "codes/s")
}

// decodeQR reads the QR code in a PNG.
func decodeQR(t *testing.T, data []byte) (string, image.Image) {
	t.Helper()
	return decodeQRWith(t, data, nil)
}

// decodePureQR reads the QR code that is the whole of a PNG.
func decodePureQR(t *testing.T, data []byte) (string, image.Image) {
	t.Helper()
	return decodeQRWith(t, data, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
}

func decodeQRWith(t *testing.T, data []byte, hints map[gozxing.DecodeHintType]any) (string, image.Image) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		t.Fatalf("the QR code cannot be read: %v", err)
	}
	return res.GetText(), img
}

// TestQRCode checks that the QR code of a link is a small one-bit PNG of
// QRModulePixels a module with the quiet zone, that reads back as the
// link.
func TestQRCode(t *testing.T) {
	for name, link := range map[string]string{
		"enrollment": benchLink(7),
		"login":      appclient.LoginLink("https://lanyard.example.com/portal", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"),
		"short":      "x",
	} {
		t.Run(name, func(t *testing.T) {
			data, err := mobileid.QRCode(link)
			if err != nil {
				t.Fatal(err)
			}
			text, img := decodeQR(t, data)
			if text != link {
				t.Fatalf("the QR code reads %q, want %q", text, link)
			}
			if bitDepth, colorType := data[24], data[25]; bitDepth != 1 || colorType != 3 {
				t.Errorf("PNG of bit depth %d, colour type %d; want a 1-bit palette", bitDepth, colorType)
			}
			side := img.Bounds().Dx()
			modules := side / mobileid.QRModulePixels
			if img.Bounds().Dy() != side || side%mobileid.QRModulePixels != 0 || (modules-8-17)%4 != 0 {
				t.Errorf("image of %v: not %d pixels a module around a QR symbol with its quiet zone", img.Bounds(), mobileid.QRModulePixels)
			}
			// The quiet zone is white, the finder pattern's corner dark.
			q := 4 * mobileid.QRModulePixels
			if !isWhite(img, q-1, q-1) || isWhite(img, q, q) {
				t.Error("no quiet zone of four modules before the finder pattern")
			}
		})
	}
}

// TestQRCodeReadsBack decodes, with an independent decoder, the PNGs of
// links as servers make them: enrollment and login links under base URLs
// from the shortest to long ones with a path, each with a random code, so
// that many versions of the symbol are read. The decoder reads them as
// the images of a code they are (its "pure barcode" mode): its detector,
// which looks for a code in a photo, misses some of these symbols at a
// few pixels a module (one in a hundred at four), which are module for module
// those of the reference encoder (TestQRMatchesReference), and missed as
// many of the symbols the previous encoder made.
func TestQRCodeReadsBack(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('a' + r.IntN(26)))
		}
		return b.String()
	}
	versions := map[int]int{}
	for i := range 300 {
		base := "http://" + word(1+r.IntN(12)) + ".example"
		if i%3 == 0 {
			base = "https://" + word(1+r.IntN(40)) + ".example.org:8443"
			for range r.IntN(12) {
				base += "/" + word(1+r.IntN(16))
			}
		}
		// The server's codes are 26 characters of base32 (rand.Text);
		// longer ones in base64url stand for codes of other lengths.
		var token string
		if i%4 < 2 {
			const base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
			for range 26 {
				token += string(base32[r.IntN(32)])
			}
		} else {
			code := make([]byte, 16+r.IntN(32))
			for j := range code {
				code[j] = byte(r.Uint32())
			}
			token = base64.RawURLEncoding.EncodeToString(code)
		}
		link := appclient.EnrollmentLink(base, token)
		if i%2 == 1 {
			link = appclient.LoginLink(base, token)
		}
		data, err := mobileid.QRCode(link)
		if err != nil {
			t.Fatal(err)
		}
		text, img := decodePureQR(t, data)
		if text != link {
			t.Fatalf("the QR code of %q reads %q", link, text)
		}
		versions[(img.Bounds().Dx()/mobileid.QRModulePixels-8-17)/4]++
	}
	if len(versions) < 6 {
		t.Errorf("links of versions %v only", versions)
	}
}

func isWhite(img image.Image, x, y int) bool {
	r, _, _, _ := img.At(x, y).RGBA()
	return r > 0x8000
}
