package mobileid

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/encoder"
)

// TestQRVersionTables checks this encoder's tables against those of an
// independent implementation, the gozxing decoder's, for every version at
// level M: the codewords, the error correction blocks, the alignment
// pattern centres.
func TestQRVersionTables(t *testing.T) {
	for v := 1; v <= 40; v++ {
		ref, err := decoder.Version_GetVersionForNumber(v)
		if err != nil {
			t.Fatal(err)
		}
		ec := ref.GetECBlocksForLevel(decoder.ErrorCorrectionLevel_M)
		if got, want := qrRawModules(v)/8, ref.GetTotalCodewords(); got != want {
			t.Errorf("version %d: %d codewords, want %d", v, got, want)
		}
		if got, want := qrECBlocks[v], [2]int{ec.GetECCodewordsPerBlock(), ec.GetNumBlocks()}; got != want {
			t.Errorf("version %d: error correction %v, want %v", v, got, want)
		}
		if got, want := qrDataCodewords(v), ref.GetTotalCodewords()-ec.GetTotalECCodewords(); got != want {
			t.Errorf("version %d: %d data codewords, want %d", v, got, want)
		}
		if got, want := qrAlignment(v), ref.GetAlignmentPatternCenters(); !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Errorf("version %d: alignment centres %v, want %v", v, got, want)
		}
	}
}

// qrTestLink is a link as the product makes them, of about n bytes: an
// enrollment or login link under a base URL of random length, with a
// random code or token.
func qrTestLink(r *rand.Rand, n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	random := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(chars[r.IntN(len(chars))])
		}
		return b.String()
	}
	path := "/app/v1/enroll?code="
	if r.IntN(2) == 0 {
		path = "/app/v1/login?request="
	}
	code := random(26) // as long as the server's codes (rand.Text)
	base := "https://" + random(max(1, n-len(path)-len(code)-8))
	return base + path + code
}

// TestQRMatchesReference checks that the symbols made here are, module
// for module, those of the gozxing encoder (byte mode, level M, the same
// version and the mask its penalty rules choose), for links of every
// length from the shortest a server can make to the largest version's
// capacity.
func TestQRMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var lengths []int
	for n := 50; n <= 400; n++ {
		lengths = append(lengths, n)
	}
	for range 40 {
		lengths = append(lengths, 400+r.IntN(2331-400))
	}
	lengths = append(lengths, 2331)
	versions := map[int]bool{}
	for _, n := range lengths {
		link := qrTestLink(r, n)
		s, err := qrEncode([]byte(link))
		if err != nil {
			t.Fatalf("%d bytes: %v", len(link), err)
		}
		ref, err := encoder.Encoder_encodeWithoutHint(link, decoder.ErrorCorrectionLevel_M)
		if err != nil {
			t.Fatalf("%d bytes: reference: %v", len(link), err)
		}
		if ref.GetMode() != decoder.Mode_BYTE {
			t.Fatalf("the reference chose mode %v", ref.GetMode())
		}
		m := ref.GetMatrix()
		if m.GetWidth() != s.size {
			t.Fatalf("%d bytes: %d modules a side, want %d (version %d)", len(link), s.size, m.GetWidth(), ref.GetVersion().GetVersionNumber())
		}
		versions[(s.size-17)/4] = true
		for y := range s.size {
			for x := range s.size {
				if int8(s.mod[y*s.size+x]) != m.Get(x, y) {
					t.Fatalf("%d bytes (version %d, reference mask %d): module (%d, %d) differs", len(link), (s.size-17)/4, ref.GetMaskPattern(), x, y)
				}
			}
		}
	}
	if len(versions) < 20 {
		t.Errorf("only versions %v tried", versions)
	}
	if _, err := qrEncode([]byte(qrTestLink(r, 2332))); err == nil {
		t.Error("a link of 2,332 bytes was encoded")
	}
}

// TestQRPenalty checks the mask penalty against the reference's four rules
// on random matrices and on the symbols of each mask.
func TestQRPenalty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		size := 21 + 4*r.IntN(40)
		s := &qrSymbol{size: size, mod: make([]byte, size*size)}
		// Sparse, dense and even matrices, so that every rule scores.
		p := []int{2, 3, 8}[i%3]
		for k := range s.mod {
			if r.IntN(p) == 0 {
				s.mod[k] = 1
			}
		}
		if i%5 == 0 {
			for k := range s.mod {
				s.mod[k] ^= 1
			}
		}
		m := encoder.NewByteMatrix(size, size)
		for y := range size {
			for x := range size {
				m.Set(x, y, int8(s.mod[y*size+x]))
			}
		}
		want := encoder.MaskUtil_applyMaskPenaltyRule1(m) + encoder.MaskUtil_applyMaskPenaltyRule2(m) +
			encoder.MaskUtil_applyMaskPenaltyRule3(m) + encoder.MaskUtil_applyMaskPenaltyRule4(m)
		if got := qrPenalty(qrLines(s.mod, size), size); got != want {
			t.Fatalf("matrix %d (%d a side): penalty %d, want %d", i, size, got, want)
		}
		if size <= qrNarrow {
			if got := qrPenalty64(qrLines64(qrLines(s.mod, size)), size); got != want {
				t.Fatalf("matrix %d (%d a side): one-word penalty %d, want %d", i, size, got, want)
			}
		}
	}
}

// TestQRCodeCache checks that a link's second QR code is the one the
// cache kept, and that it is the image the link's code is made as afresh.
func TestQRCodeCache(t *testing.T) {
	link := "https://lanyard.example.com/app/v1/enroll?code=TestQRCodeCache"
	if _, ok := qrCodes.get(link); ok {
		t.Fatal("cached before it was made")
	}
	first, err := QRCode(link)
	if err != nil {
		t.Fatal(err)
	}
	if kept, ok := qrCodes.get(link); !ok || &kept[0] != &first[0] {
		t.Fatal("the code was not kept")
	}
	again, err := QRCode(link)
	if err != nil || &again[0] != &first[0] {
		t.Fatalf("the second code was made again (%v)", err)
	}
	fresh, err := qrPNG(link, QRModulePixels)
	if err != nil || &fresh[0] == &first[0] || !bytes.Equal(fresh, first) {
		t.Errorf("the kept code is not the image the link makes (%v)", err)
	}
}

func FuzzQREncode(f *testing.F) {
	f.Add("https://lanyard.example.com/app/v1/enroll?code=abc")
	f.Fuzz(func(t *testing.T, link string) {
		if len(link) == 0 || strings.ToUpper(link) == link || len(link) > 2331 {
			return // the reference would choose another mode
		}
		s, err := qrEncode([]byte(link))
		if err != nil {
			t.Fatal(err)
		}
		ref, err := encoder.Encoder_encode(link, decoder.ErrorCorrectionLevel_M, nil)
		if err != nil || ref.GetMode() != decoder.Mode_BYTE {
			return
		}
		m := ref.GetMatrix()
		for y := range s.size {
			for x := range s.size {
				if int8(s.mod[y*s.size+x]) != m.Get(x, y) {
					t.Fatal(fmt.Sprintf("module (%d, %d) differs", x, y))
				}
			}
		}
	})
}
