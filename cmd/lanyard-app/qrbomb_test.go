package main

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"runtime/metrics"
	"strings"
	"testing"
)

// pngDeclaring returns a small PNG whose header declares a grayscale image
// of w×h pixels, with a few compressed rows of data: what a decompression
// bomb looks like before it is decoded.
func pngDeclaring(t *testing.T, w, h uint32) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.Write(&out, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit grayscale
	chunk("IHDR", ihdr)
	var idat bytes.Buffer
	zw := zlib.NewWriter(&idat)
	zw.Write(make([]byte, 4*(min(int(w), 1024)+1)))
	zw.Close()
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// heapAllocs is the number of bytes the program has allocated so far.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestEnrollRefusesHugeImage checks that an image declaring more pixels
// than a QR code photo needs is refused from its header, with a clear
// message and without allocating its pixels.
func TestEnrollRefusesHugeImage(t *testing.T) {
	for _, size := range [][2]uint32{{20000, 20000}, {50000, 50000}, {1 << 30, 1}} {
		data := pngDeclaring(t, size[0], size[1])
		before := heapAllocs()
		_, err := decodeQR("bomb.png", data)
		grown := heapAllocs() - before
		if err == nil || !strings.Contains(err.Error(), "too large") {
			t.Errorf("%d×%d: err %v, want a message that it is too large", size[0], size[1], err)
		}
		if grown > 16<<20 {
			t.Errorf("%d×%d: decoding allocated %d MiB", size[0], size[1], grown>>20)
		}
	}
}
