package mobileid

import "math/bits"

// The mask penalty, bit-parallel: each row and column of a symbol is one
// qrLine, and each rule is a few shifts, ands and bit counts a line
// rather than a step a module.

// qrLine is a row or column of a symbol as bits: module i at bit i+4, so
// that four light modules stand on each side (the largest symbol, 177
// modules, takes 185 bits).
type qrLine [3]uint64

// qrLines returns the rows, then the columns, of a symbol of size × size
// modules, row by row, 1 for dark.
func qrLines(mod []byte, size int) []qrLine {
	lines := make([]qrLine, 2*size)
	rows, cols := lines[:size], lines[size:]
	for y := range size {
		for x, c := range mod[y*size : (y+1)*size] {
			if c != 0 {
				rows[y][(x+4)>>6] |= 1 << ((x + 4) & 63)
				cols[x][(y+4)>>6] |= 1 << ((y + 4) & 63)
			}
		}
	}
	return lines
}

// down is l moved k bits towards bit 0: bit i of the result is bit i+k
// of l. 0 < k < 64.
func (l qrLine) down(k uint) qrLine {
	return qrLine{l[0]>>k | l[1]<<(64-k), l[1]>>k | l[2]<<(64-k), l[2] >> k}
}

// up is l moved k bits away from bit 0: bit i of the result is bit i−k
// of l. 0 < k < 64.
func (l qrLine) up(k uint) qrLine {
	return qrLine{l[0] << k, l[1]<<k | l[0]>>(64-k), l[2]<<k | l[1]>>(64-k)}
}

func (l qrLine) and(o qrLine) qrLine    { return qrLine{l[0] & o[0], l[1] & o[1], l[2] & o[2]} }
func (l qrLine) or(o qrLine) qrLine     { return qrLine{l[0] | o[0], l[1] | o[1], l[2] | o[2]} }
func (l qrLine) xor(o qrLine) qrLine    { return qrLine{l[0] ^ o[0], l[1] ^ o[1], l[2] ^ o[2]} }
func (l qrLine) andNot(o qrLine) qrLine { return qrLine{l[0] &^ o[0], l[1] &^ o[1], l[2] &^ o[2]} }

func (l qrLine) count() int {
	return bits.OnesCount64(l[0]) + bits.OnesCount64(l[1]) + bits.OnesCount64(l[2])
}

// qrSpan has bits from through to−1 set.
func qrSpan(from, to int) qrLine {
	var l qrLine
	for i := from; i < to; i++ {
		l[i>>6] |= 1 << (i & 63)
	}
	return l
}

// qrPenalty scores a masked symbol, given as its rows and then columns
// (qrLines), by the standard's four rules: runs of five or more modules
// of one colour in a row or column, 2×2 blocks of one colour, patterns
// like a finder's (1:1:3:1:1) in a row or column with four light modules
// on either side (outside the symbol counting as light), and how far the
// share of dark modules is from half. It scores as the reference
// encoders do (ZXing's MaskUtil).
func qrPenalty(lines []qrLine, size int) int {
	// pairs has a bit for each module that has a next one in its line.
	pairs := qrSpan(4, size+3)
	penalty := 0
	for _, l := range lines {
		// Rule 1: same has a bit where a module equals the next; a run
		// of n ≥ 5 modules gives n−4 places where four such follow each
		// other, and costs 3 + (n−5) = those places + 2.
		same := l.xor(l.down(1)).xor(pairs).and(pairs)
		four := same.and(same.down(1)).and(same.down(2)).and(same.down(3))
		penalty += four.count() + 2*four.andNot(four.up(1)).count()

		// Rule 3: 1011101 starting at a bit, with four light modules
		// before it or after it.
		finder := l.andNot(l.down(1)).and(l.down(2)).and(l.down(3)).and(l.down(4)).andNot(l.down(5)).and(l.down(6))
		if finder == (qrLine{}) {
			continue
		}
		darkBefore := l.up(1).or(l.up(2)).or(l.up(3)).or(l.up(4))
		darkAfter := l.down(7).or(l.down(8)).or(l.down(9)).or(l.down(10))
		penalty += 40 * finder.andNot(darkBefore.and(darkAfter)).count()
	}
	// Rule 2, over pairs of rows, and rule 4.
	rows := lines[:size]
	dark := 0
	for y, a := range rows {
		dark += a.count()
		if y == size-1 {
			break
		}
		b := rows[y+1]
		// A bit where a module, the next, and the two below are alike.
		differ := a.xor(a.down(1)).or(b.xor(b.down(1))).or(a.xor(b))
		penalty += 3 * pairs.andNot(differ).count()
	}
	total := size * size
	return penalty + abs(dark*2-total)*10/total*10
}

// qrPenalty64 is qrPenalty for symbols of at most 56 modules a side
// (versions 1 to 9, which take every link of up to 180 bytes), whose
// lines, with their light margins, fit one word: the same rules, a third
// of the work.
func qrPenalty64(lines []uint64, size int) int {
	pairs := (uint64(1)<<(size+3) - 1) &^ 0xF // bits 4 to size+2
	penalty := 0
	for _, l := range lines {
		same := ^(l ^ l>>1) & pairs
		four := same & (same >> 1) & (same >> 2) & (same >> 3)
		penalty += bits.OnesCount64(four) + 2*bits.OnesCount64(four&^(four<<1))
		finder := l &^ (l >> 1) & (l >> 2) & (l >> 3) & (l >> 4) &^ (l >> 5) & (l >> 6)
		if finder == 0 {
			continue
		}
		darkBefore := l<<1 | l<<2 | l<<3 | l<<4
		darkAfter := l>>7 | l>>8 | l>>9 | l>>10
		penalty += 40 * bits.OnesCount64(finder&^(darkBefore&darkAfter))
	}
	rows := lines[:size]
	dark := 0
	for y, a := range rows {
		dark += bits.OnesCount64(a)
		if y == size-1 {
			break
		}
		b := rows[y+1]
		differ := (a ^ a>>1) | (b ^ b>>1) | (a ^ b)
		penalty += 3 * bits.OnesCount64(pairs&^differ)
	}
	total := size * size
	return penalty + abs(dark*2-total)*10/total*10
}

// qrLines64 narrows qrLines of a symbol of at most 56 modules a side to
// one word a line.
func qrLines64(lines []qrLine) []uint64 {
	out := make([]uint64, len(lines))
	for i, l := range lines {
		out[i] = l[0]
	}
	return out
}
