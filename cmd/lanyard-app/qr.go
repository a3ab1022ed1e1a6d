package main

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"io/fs"
	"os"
	"strings"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
)

// maxQRFile is the largest QR image file enroll reads.
const maxQRFile = 20 << 20

// readLink returns the enrollment link SOURCE stands for: SOURCE itself if
// it looks like a URL, else the text of the QR code in the PNG file it
// names.
func readLink(source string) (string, error) {
	if strings.Contains(source, "://") {
		return source, nil
	}
	info, err := os.Stat(source)
	if errors.Is(err, fs.ErrNotExist) {
		return "", lanyard.Errorf(lanyard.EINVALID, "%s is neither a QR code image file nor an enrollment link.", source)
	} else if err != nil {
		return "", fmt.Errorf("read QR code image: %w", err)
	}
	if !info.Mode().IsRegular() || info.Size() > maxQRFile {
		return "", lanyard.Errorf(lanyard.EINVALID, "%s is not a QR code image file.", source)
	}
	data, err := os.ReadFile(source)
	if err != nil {
		return "", fmt.Errorf("read QR code image: %w", err)
	}
	return decodeQR(source, data)
}

// maxQRSide and maxQRPixels bound the image enroll decodes. A photo or
// screenshot of a QR code is a few thousand pixels wide at most; a PNG
// header may declare billions in a few hundred bytes, and decoding it
// would allocate them all.
const (
	maxQRSide   = 8192
	maxQRPixels = 16 << 20
)

// decodeQR returns the text of the QR code in a PNG image. The header is
// read first, so an image too large to be a QR code is refused before a
// single pixel is allocated.
func decodeQR(name string, data []byte) (string, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", lanyard.Errorf(lanyard.EINVALID, "%s is not a PNG image.", name)
	}
	if cfg.Width > maxQRSide || cfg.Height > maxQRSide || cfg.Width*cfg.Height > maxQRPixels {
		return "", lanyard.Errorf(lanyard.EINVALID, "%s is too large for a QR code image (%d×%d pixels; at most %d on a side and %d million in all).",
			name, cfg.Width, cfg.Height, maxQRSide, maxQRPixels>>20)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return "", lanyard.Errorf(lanyard.EINVALID, "%s is not a PNG image.", name)
	}
	text, err := appclient.ScanQR(img)
	if err != nil {
		return "", lanyard.Errorf(lanyard.EINVALID, "%s holds no QR code that can be read.", name)
	}
	return text, nil
}
