package mobileid

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sync"
)

// QRModulePixels is the side of one QR code module in the pixels of the
// PNG that pages show; the page scales it up (image-rendering: pixelated),
// so the PNG stays a few hundred bytes. Two pixels rather than four leave a
// quarter of the bytes to compress, which was most of the PNG's cost.
const QRModulePixels = 2

// mailQRPixels is the least side of the QR code mailed: mail clients show
// images at their own size and smooth them when they scale.
const mailQRPixels = 320

// qrCacheSize bounds the QR codes kept: the activation pages on screen at
// once, each asked for again when the page is reloaded.
const qrCacheSize = 256

// QRCode renders a link as a QR code PNG of QRModulePixels a module, with
// the four-module quiet zone, in one bit a pixel. Codes are kept for the
// last few hundred links, since an activation or login page shows the same
// link each time it is loaded.
func QRCode(link string) ([]byte, error) {
	if png, ok := qrCodes.get(link); ok {
		return png, nil
	}
	png, err := qrPNG(link, QRModulePixels)
	if err != nil {
		return nil, err
	}
	qrCodes.put(link, png)
	return png, nil
}

// mailQRCode renders the link as a QR code PNG for a mail, at least
// mailQRPixels on a side, and returns it with its side.
func mailQRCode(link string) ([]byte, int, error) {
	s, err := qrEncode([]byte(link))
	if err != nil {
		return nil, 0, fmt.Errorf("encode QR code: %w", err)
	}
	side := s.size + 2*qrQuietZone
	scale := (mailQRPixels + side - 1) / side
	png, err := encodeQR(s, scale)
	return png, scale * side, err
}

func qrPNG(link string, scale int) ([]byte, error) {
	s, err := qrEncode([]byte(link))
	if err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	return encodeQR(s, scale)
}

// qrQuietZone is the light margin around a symbol, in modules.
const qrQuietZone = 4

// encodeQR draws the symbol's modules, with the quiet zone around them,
// scale pixels a side, as a PNG of one bit a pixel: a palette of white
// (0) and black (1). Each module row's first pixel row is stored as it is
// and the others with the filter "up", as rows of zeros, which the
// compressor all but removes.
func encodeQR(s *qrSymbol, scale int) ([]byte, error) {
	side := (s.size + 2*qrQuietZone) * scale
	stride := (side + 7) / 8
	raw := make([]byte, 0, (1+stride)*side)
	for y := range s.size + 2*qrQuietZone {
		raw = append(raw, pngFilterNone)
		row := raw[len(raw) : len(raw)+stride]
		raw = raw[:len(raw)+stride]
		clear(row)
		if my := y - qrQuietZone; my >= 0 && my < s.size {
			for mx, dark := range s.mod[my*s.size : (my+1)*s.size] {
				if dark == 0 {
					continue
				}
				for px := (mx + qrQuietZone) * scale; px < (mx+qrQuietZone+1)*scale; px++ {
					row[px>>3] |= 0x80 >> (px & 7)
				}
			}
		}
		for range scale - 1 {
			raw = append(raw, pngFilterUp)
			raw = append(raw, make([]byte, stride)...)
		}
	}

	var idat bytes.Buffer
	z, _ := zlibWriters.Get().(*zlib.Writer)
	if z == nil {
		z, _ = zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	} else {
		z.Reset(&idat)
	}
	_, err := z.Write(raw)
	if err == nil {
		err = z.Close()
	}
	zlibWriters.Put(z)
	if err != nil {
		return nil, fmt.Errorf("encode QR code PNG: %w", err)
	}

	out := make([]byte, 0, 8+3*12+13+6+idat.Len())
	out = append(out, "\x89PNG\r\n\x1a\n"...)
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(side))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(side))
	ihdr[8], ihdr[9] = 1, 3 // bit depth 1, palette; compression, filter and interlace 0
	out = pngChunk(out, "IHDR", ihdr[:])
	out = pngChunk(out, "PLTE", []byte{0xFF, 0xFF, 0xFF, 0, 0, 0})
	out = pngChunk(out, "IDAT", idat.Bytes())
	return pngChunk(out, "IEND", nil), nil
}

// The PNG row filters used: none, and "up" (each byte less the one above).
const (
	pngFilterNone = 0
	pngFilterUp   = 2
)

// pngChunk appends a PNG chunk: its length, type, data and CRC.
func pngChunk(out []byte, typ string, data []byte) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	start := len(out)
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
}

// zlibWriters reuses compressors from one QR code to the next: making one
// costs more than compressing the few hundred bytes of a QR code. They
// compress at the fastest level, which halves the cost of the PNG for
// about 140 bytes more (645 rather than 503 for an enrollment link of 90
// bytes).
var zlibWriters sync.Pool

// qrCodes keeps the PNGs of recent links.
var qrCodes = &qrCache{max: qrCacheSize, items: map[string][]byte{}}

// qrCache is a small cache of PNGs by link that, when full, forgets the
// oldest link it was given.
type qrCache struct {
	mu    sync.Mutex
	max   int
	items map[string][]byte
	order []string // links in the order they were put, oldest first
}

func (c *qrCache) get(link string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	png, ok := c.items[link]
	return png, ok
}

func (c *qrCache) put(link string, png []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[link]; ok {
		return
	}
	if len(c.order) >= c.max {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
	c.items[link] = png
	c.order = append(c.order, link)
}
