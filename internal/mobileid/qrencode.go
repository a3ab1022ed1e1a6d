package mobileid

import (
	"errors"
	"sync"
)

// The QR code symbols of Lanyard's links, made here rather than by a
// general encoder: a link is always one segment in byte mode at error
// correction level M, so this encoder knows that one shape (ISO/IEC
// 18004, versions 1 to 40) and nothing else. It works on one flat slice
// of modules with table-driven Reed-Solomon arithmetic, keeps each
// version's function patterns and masks once drawn, and scores the eight
// masks with the standard's penalty rules a row or column at a time as
// bits (qrpenalty.go). The symbols are, module for module, those of the
// reference encoder (ZXing's), which the tests compare them with.

// qrECBlocks holds, for level M and versions 1 to 40, the error
// correction codewords of each block and the number of blocks; the
// codewords of a version follow from its size (qrRawModules).
var qrECBlocks = [41][2]int{
	{},
	{10, 1}, {16, 1}, {26, 1}, {18, 2}, {24, 2}, {16, 4}, {18, 4}, {22, 4}, {22, 5}, {26, 5},
	{30, 5}, {22, 8}, {22, 9}, {24, 9}, {24, 10}, {28, 10}, {28, 11}, {26, 13}, {26, 14}, {26, 16},
	{26, 17}, {28, 17}, {28, 18}, {28, 20}, {28, 21}, {28, 23}, {28, 25}, {28, 26}, {28, 28}, {28, 29},
	{28, 31}, {28, 33}, {28, 35}, {28, 37}, {28, 38}, {28, 40}, {28, 43}, {28, 45}, {28, 47}, {28, 49},
}

// qrNarrow is the largest side of a symbol whose rows and columns, with
// four light modules each side, fit one 64-bit word (qrPenalty64).
const qrNarrow = 56

// errQRTooLong refuses a link longer than the largest symbol holds.
var errQRTooLong = errors.New("the link is too long for a QR code")

// qrSymbol is a QR code without its quiet zone: size × size modules, row
// by row, 1 for dark.
type qrSymbol struct {
	size int
	mod  []byte
}

// qrRawModules is the number of modules of version v that carry data and
// error correction codewords: all but the function patterns and the
// format and version information.
func qrRawModules(v int) int {
	n := (16*v+128)*v + 64
	if v >= 2 {
		align := v/7 + 2
		n -= (25*align-10)*align - 55
		if v >= 7 {
			n -= 36
		}
	}
	return n
}

// qrDataCodewords is how many data codewords version v holds at level M.
func qrDataCodewords(v int) int {
	return qrRawModules(v)/8 - qrECBlocks[v][0]*qrECBlocks[v][1]
}

// qrAlignment returns the row and column centres of version v's
// alignment patterns.
func qrAlignment(v int) []int {
	if v == 1 {
		return nil
	}
	n := v/7 + 2
	step := 26
	if v != 32 {
		step = (v*4 + n*2 + 1) / (n*2 - 2) * 2
	}
	pos := make([]int, n)
	pos[0] = 6
	for i, p := n-1, 4*v+10; i >= 1; i, p = i-1, p-step {
		pos[i] = p
	}
	return pos
}

// qrEncode makes the QR code of data: the smallest version that holds it
// in byte mode at level M, with the mask of least penalty.
func qrEncode(data []byte) (*qrSymbol, error) {
	v := 1
	for ; v <= 40; v++ {
		count := 8
		if v >= 10 {
			count = 16
		}
		if 4+count+8*len(data) <= 8*qrDataCodewords(v) {
			break
		}
	}
	if v > 40 {
		return nil, errQRTooLong
	}
	codewords := qrCodewords(data, v)
	s, t := qrTemplate(v)
	qrPlace(s, t.fn, codewords)
	// Each mask's rows and columns are those of the unmasked symbol
	// (format information light) with the mask's and its format
	// information's modules inverted.
	base := qrLines(s.mod, s.size)
	best, bestPenalty := -1, 0
	if s.size <= qrNarrow {
		narrow := qrLines64(base)
		trial := make([]uint64, len(narrow))
		for m := range t.masks {
			for i, l := range narrow {
				trial[i] = l ^ t.maskLines[m][i][0]
			}
			if p := qrPenalty64(trial, s.size); best < 0 || p < bestPenalty {
				best, bestPenalty = m, p
			}
		}
	} else {
		trial := make([]qrLine, len(base))
		for m := range t.masks {
			for i, l := range base {
				trial[i] = l.xor(t.maskLines[m][i])
			}
			if p := qrPenalty(trial, s.size); best < 0 || p < bestPenalty {
				best, bestPenalty = m, p
			}
		}
	}
	qrMask(s.mod, s.mod, t.masks[best])
	qrFormat(s, best)
	return s, nil
}

// qrCodewords returns the final codeword sequence of data in version v:
// the byte-mode segment with its terminator and padding, cut into blocks,
// each block's Reed-Solomon codewords added, and all interleaved.
func qrCodewords(data []byte, v int) []byte {
	capacity := qrDataCodewords(v)
	buf := make([]byte, 0, qrRawModules(v)/8)
	// Mode 0100 and the count in 8 or 16 bits, then the bytes, shifted by
	// the four bits of the mode.
	var head uint32
	var headBits int
	if v < 10 {
		head, headBits = 0x4<<8|uint32(len(data)), 12
	} else {
		head, headBits = 0x4<<16|uint32(len(data)), 20
	}
	// Pack head then data as one bit stream, then a terminator of up to
	// four zero bits (the stream ends at a half byte: headBits is 12 or
	// 20, so four zero bits complete the last byte).
	acc, n := head, headBits
	for _, b := range data {
		acc = acc<<8 | uint32(b)
		n += 8
		for n >= 8 {
			buf = append(buf, byte(acc>>(n-8)))
			n -= 8
		}
	}
	if n > 0 && len(buf) < capacity {
		buf = append(buf, byte(acc<<(8-n)))
	}
	for pad := byte(0xEC); len(buf) < capacity; pad ^= 0xEC ^ 0x11 {
		buf = append(buf, pad)
	}

	ecLen, blocks := qrECBlocks[v][0], qrECBlocks[v][1]
	total := qrRawModules(v) / 8
	short := blocks - total%blocks // blocks one data codeword shorter
	shortLen := total/blocks - ecLen
	gen := qrGenerator(ecLen)
	out := make([]byte, 0, total)
	ec := make([]byte, blocks*ecLen)
	starts := make([]int, blocks) // where each block's data begins in buf
	for i, off := 0, 0; i < blocks; i++ {
		n := shortLen
		if i >= short {
			n++
		}
		starts[i] = off
		qrRemainder(buf[off:off+n], gen, ec[i*ecLen:(i+1)*ecLen])
		off += n
	}
	for j := 0; j <= shortLen; j++ {
		for i := range blocks {
			if j < shortLen || i >= short {
				out = append(out, buf[starts[i]+j])
			}
		}
	}
	for j := range ecLen {
		for i := range blocks {
			out = append(out, ec[i*ecLen+j])
		}
	}
	return out
}

// GF(256) over x⁸+x⁴+x³+x²+1, as QR codes use it: gfExp[i] is αⁱ (twice
// over, so that a sum of two logarithms needs no reduction), gfLog its
// inverse.
var gfExp, gfLog = func() (exp [512]byte, log [256]byte) {
	x := 1
	for i := range 255 {
		exp[i] = byte(x)
		log[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11D
		}
	}
	for i := 255; i < 512; i++ {
		exp[i] = exp[i-255]
	}
	return exp, log
}()

// qrGenerators keeps the generator polynomials by degree.
var qrGenerators sync.Map // int → []byte

// qrGenerator returns the Reed-Solomon generator polynomial of degree n,
// (x−α⁰)(x−α¹)…(x−αⁿ⁻¹), as the logarithms of its coefficients below the
// leading one, highest first.
func qrGenerator(n int) []byte {
	if g, ok := qrGenerators.Load(n); ok {
		return g.([]byte)
	}
	coef := make([]byte, n+1) // coef[0] is the leading coefficient
	coef[0] = 1
	for i := range n {
		// Multiply by (x + αⁱ).
		for j := i + 1; j >= 1; j-- {
			coef[j] ^= gfMul(coef[j-1], gfExp[i])
		}
	}
	logs := make([]byte, n)
	for j := range logs {
		logs[j] = gfLog[coef[j+1]] // every coefficient is non-zero
	}
	g, _ := qrGenerators.LoadOrStore(n, logs)
	return g.([]byte)
}

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// qrRemainder writes into ec the remainder of data·xⁿ divided by the
// generator gen of degree n = len(ec): the block's error correction.
func qrRemainder(data, gen, ec []byte) {
	clear(ec)
	for _, d := range data {
		factor := d ^ ec[0]
		copy(ec, ec[1:])
		ec[len(ec)-1] = 0
		if factor != 0 {
			lf := int(gfLog[factor])
			for j, lg := range gen {
				ec[j] ^= gfExp[lf+int(lg)]
			}
		}
	}
}

// qrTemplates keeps each version's function patterns, drawn once.
var qrTemplates [41]qrVersionTemplate

// qrVersionTemplate is what every symbol of one version shares.
type qrVersionTemplate struct {
	once      sync.Once
	s         qrSymbol    // the function patterns, format information light
	fn        []bool      // which modules are function modules
	masks     [8][]byte   // 1 where mask m inverts a module
	maskLines [8][]qrLine // the rows and columns of mask m and its format information
}

// qrTemplate returns a fresh symbol of version v with its function
// patterns drawn (format information left light, to be drawn with the
// mask), and the version's template.
func qrTemplate(v int) (*qrSymbol, *qrVersionTemplate) {
	t := &qrTemplates[v]
	t.once.Do(func() {
		t.s, t.fn = qrDrawFunctions(v)
		for m := range t.masks {
			t.masks[m] = qrMaskPattern(t.s.size, t.fn, m)
			ms := &qrSymbol{size: t.s.size, mod: append([]byte(nil), t.masks[m]...)}
			qrFormat(ms, m)
			t.maskLines[m] = qrLines(ms.mod, ms.size)
		}
	})
	return &qrSymbol{size: t.s.size, mod: append([]byte(nil), t.s.mod...)}, t
}

func qrDrawFunctions(v int) (qrSymbol, []bool) {
	size := 4*v + 17
	s := qrSymbol{size: size, mod: make([]byte, size*size)}
	fn := make([]bool, size*size)
	set := func(x, y int, dark bool) {
		i := y*size + x
		fn[i] = true
		if dark {
			s.mod[i] = 1
		} else {
			s.mod[i] = 0
		}
	}
	// Timing patterns, drawn first: the finders and alignments overwrite
	// where they cross.
	for i := range size {
		set(6, i, i%2 == 0)
		set(i, 6, i%2 == 0)
	}
	// Finder patterns with their separators.
	for _, c := range [][2]int{{3, 3}, {size - 4, 3}, {3, size - 4}} {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := c[0]+dx, c[1]+dy
				if x < 0 || x >= size || y < 0 || y >= size {
					continue
				}
				d := max(abs(dx), abs(dy))
				set(x, y, d != 2 && d != 4)
			}
		}
	}
	// Alignment patterns, but not over the finders.
	align := qrAlignment(v)
	last := len(align) - 1
	for i, ay := range align {
		for j, ax := range align {
			if i == 0 && j == 0 || i == 0 && j == last || i == last && j == 0 {
				continue
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					set(ax+dx, ay+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
	// The format information's places (drawn with the mask), around the
	// timing patterns, and the dark module.
	for i := range 9 {
		if i != 6 {
			set(8, i, false)
			set(i, 8, false)
		}
	}
	for i := range 8 {
		set(size-1-i, 8, false)
		set(8, size-1-i, false)
	}
	set(8, size-8, true)
	// Version information, from version 7 on: 6 bits and a BCH(18,6) code.
	if v >= 7 {
		rem := v
		for range 12 {
			rem = rem<<1 ^ (rem>>11)*0x1F25
		}
		bits := v<<12 | rem
		for i := range 18 {
			dark := bits>>i&1 != 0
			a, b := size-11+i%3, i/3
			set(a, b, dark)
			set(b, a, dark)
		}
	}
	return s, fn
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// qrPlace lays the codewords' bits into the non-function modules, in
// two-module columns from the right, upwards and downwards in turn,
// stepping over the vertical timing pattern. Modules left over (the
// remainder bits) stay light.
func qrPlace(s *qrSymbol, fn []bool, codewords []byte) {
	size, i, n := s.size, 0, len(codewords)*8
	for right := size - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		upward := (right+1)&2 == 0
		for vert := range size {
			y := vert
			if upward {
				y = size - 1 - vert
			}
			for x := right; x >= right-1; x-- {
				k := y*size + x
				if fn[k] || i >= n {
					continue
				}
				s.mod[k] = codewords[i>>3] >> (7 - i&7) & 1
				i++
			}
		}
	}
}

// qrMaskPattern returns 1 for each non-function module that mask m
// inverts, 0 elsewhere.
func qrMaskPattern(size int, fn []bool, m int) []byte {
	p := make([]byte, size*size)
	for y := range size {
		for x := range size {
			var invert bool
			switch m {
			case 0:
				invert = (x+y)%2 == 0
			case 1:
				invert = y%2 == 0
			case 2:
				invert = x%3 == 0
			case 3:
				invert = (x+y)%3 == 0
			case 4:
				invert = (x/3+y/2)%2 == 0
			case 5:
				invert = x*y%2+x*y%3 == 0
			case 6:
				invert = (x*y%2+x*y%3)%2 == 0
			default:
				invert = ((x+y)%2+x*y%3)%2 == 0
			}
			if invert && !fn[y*size+x] {
				p[y*size+x] = 1
			}
		}
	}
	return p
}

// qrMask writes into dst the modules of src with mask inverting its
// modules.
func qrMask(dst, src, mask []byte) {
	for i, c := range src {
		dst[i] = c ^ mask[i]
	}
}

// qrFormat draws the format information, level M and mask m with their
// BCH(15,5) code, twice.
func qrFormat(s *qrSymbol, m int) {
	data := 0<<3 | m // level M is 00
	rem := data
	for range 10 {
		rem = rem<<1 ^ (rem>>9)*0x537
	}
	bits := (data<<10 | rem) ^ 0x5412
	size := s.size
	set := func(x, y, i int) { s.mod[y*size+x] = byte(bits >> i & 1) }
	for i := range 6 {
		set(8, i, i)
	}
	set(8, 7, 6)
	set(8, 8, 7)
	set(7, 8, 8)
	for i := 9; i < 15; i++ {
		set(14-i, 8, i)
	}
	for i := range 8 {
		set(size-1-i, 8, i)
	}
	for i := 8; i < 15; i++ {
		set(8, size-15+i, i)
	}
}
