package mobileid_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
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
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the QR code cannot be read: %v", err)
	}
	return res.GetText(), img
}

// TestQRCode checks that the QR code of a link is a small one-bit PNG of
// four pixels a module with the quiet zone, that reads back as the link,
// and that the same link gives the same image.
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
			again, _ := mobileid.QRCode(link)
			if !bytes.Equal(again, data) {
				t.Error("the same link gave another image")
			}
		})
	}
}

func isWhite(img image.Image, x, y int) bool {
	r, _, _, _ := img.At(x, y).RGBA()
	return r > 0x8000
}
