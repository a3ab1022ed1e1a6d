package mobileid

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync"

	qrcode "github.com/skip2/go-qrcode"
)

// QRModulePixels is the side of one QR code module in the pixels of the
// PNG that pages show; the page scales it up (image-rendering: pixelated),
// so the PNG stays a few hundred bytes.
const QRModulePixels = 4

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
	bits, err := qrBitmap(link)
	if err != nil {
		return nil, 0, err
	}
	scale := (mailQRPixels + len(bits) - 1) / len(bits)
	png, err := encodeQR(bits, scale)
	return png, scale * len(bits), err
}

func qrPNG(link string, scale int) ([]byte, error) {
	bits, err := qrBitmap(link)
	if err != nil {
		return nil, err
	}
	return encodeQR(bits, scale)
}

// qrBitmap returns the modules of the link's QR code (true is dark), with
// the quiet zone around them.
func qrBitmap(link string) ([][]bool, error) {
	q, err := qrcode.New(link, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	return q.Bitmap(), nil
}

// qrPalette makes a two-colour image, which image/png writes with one bit
// a pixel.
var qrPalette = color.Palette{color.White, color.Black}

// encodeQR draws the modules scale pixels a side and encodes the PNG.
func encodeQR(bits [][]bool, scale int) ([]byte, error) {
	side := len(bits) * scale
	img := image.NewPaletted(image.Rect(0, 0, side, side), qrPalette)
	for y, row := range bits {
		line := img.Pix[y*scale*img.Stride : y*scale*img.Stride+side]
		for x, dark := range row {
			if dark {
				for i := range scale {
					line[x*scale+i] = 1
				}
			}
		}
		for i := 1; i < scale; i++ {
			copy(img.Pix[(y*scale+i)*img.Stride:], line)
		}
	}
	var buf bytes.Buffer
	if err := qrEncoder.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode QR code PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// qrEncoder reuses its compressor from one QR code to the next: making one
// costs more than compressing the few hundred bytes of a QR code.
var qrEncoder = &png.Encoder{BufferPool: &pngBuffers{}}

// pngBuffers is a png.EncoderBufferPool over a sync.Pool.
type pngBuffers struct{ pool sync.Pool }

func (p *pngBuffers) Get() *png.EncoderBuffer {
	b, _ := p.pool.Get().(*png.EncoderBuffer)
	return b
}

func (p *pngBuffers) Put(b *png.EncoderBuffer) { p.pool.Put(b) }

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
