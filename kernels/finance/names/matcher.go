package names

import "math/bits"

// Matcher computes JaroWinkler and Compare bit-parallel for names of up to
// 64 code points (longer ones fall back to the plain loops). It holds a
// 2 KiB table, so use one per goroutine; the zero value is ready.
//
// Jaro's matching step looks, for each code point of s1, for the first
// unmatched equal code point of s2 within the search range. The plain
// loop scans the range (O(l1·range) per pair); here s2's positions are
// kept as one 64-bit mask per code point (indexed by its low byte; a
// collision of two code points in one mask is resolved by checking the
// candidate, in position order), so "first unmatched equal position in
// range" is a mask AND and a trailing-zero count. Matches, transpositions
// and the arithmetic are the plain JaroWinkler's, operation for
// operation, so the score is bit-identical (TestMatcherEqualsJaroWinkler).
type Matcher struct {
	pos [256]uint64 // bit j of pos[c&0xff] set when s2[j] has that low byte
}

// JaroWinkler is JaroWinkler(s1, s2).
func (m *Matcher) JaroWinkler(s1, s2 []rune) float64 {
	l1, l2 := len(s1), len(s2)
	if l1 > 64 || l2 > 64 {
		return JaroWinkler(s1, s2)
	}
	if l1 == 0 || l2 == 0 {
		return 0
	}
	searchRange := max(l1, l2)/2 - 1
	if searchRange < 0 {
		searchRange = 0
	}
	for j, c := range s2 {
		m.pos[uint8(c)] |= 1 << j
	}
	var f1, f2 uint64
	common := 0
	for i, c := range s1 {
		lo := max(0, i-searchRange)
		hi := min(i+searchRange, l2-1)
		if lo > hi {
			continue
		}
		window := (^uint64(0) >> (63 - hi)) &^ (1<<lo - 1)
		for cand := m.pos[uint8(c)] &^ f2 & window; cand != 0; cand &= cand - 1 {
			if j := bits.TrailingZeros64(cand); s2[j] == c {
				f1 |= 1 << i
				f2 |= 1 << j
				common++
				break
			}
		}
	}
	for _, c := range s2 {
		m.pos[uint8(c)] = 0
	}
	if common == 0 {
		return 0
	}
	trans := 0
	for a, b := f1, f2; a != 0; a, b = a&(a-1), b&(b-1) {
		if s1[bits.TrailingZeros64(a)] != s2[bits.TrailingZeros64(b)] {
			trans++
		}
	}
	trans /= 2
	c := float64(common)
	w := (c/float64(l1) + c/float64(l2) + (c-float64(trans))/c) / 3
	if w > 0.7 {
		p := 0
		for p < min(l1, l2, 4) && s1[p] == s2[p] {
			p++
		}
		if p > 0 {
			w += float64(p) * 0.1 * (1.0 - w)
		}
	}
	return w
}

// Compare is Compare(a, b).
func (m *Matcher) Compare(a, b Name) float64 {
	s := m.JaroWinkler(a.Runes, b.Runes)
	if a.same && b.same {
		return s
	}
	return max(s, m.JaroWinkler(a.Sorted, b.Sorted))
}

// CompareMin returns Compare(*a, *b) and true when it is at least
// minScore, and false otherwise. It computes only what can reach
// minScore, from bounds that are lossless: the lengths (Skip); the code
// points the names share by bucket — Jaro's matches pair equal code points
// at distinct positions, so m <= Σ_bucket min(count_a, count_b) (merging
// code points into buckets only raises the sum) and Jaro <= J* = (m/l1 +
// m/l2 + 1)/3; and, since the Winkler bonus p·0.1·(1 - J) grows with J,
// for each of the two terms of Compare separately, the Winkler bonus of
// that term's common prefix. A term whose bound is below minScore is not
// computed (the other term alone decides whether the pair reaches
// minScore, and is then the maximum), and the token-sorted term is not
// computed when the plain one already reaches its bound. The 1e-12
// margins keep scores equal to a bound under rounding.
func (m *Matcher) CompareMin(a, b *Name, minScore float64) (float64, bool) {
	l1, l2 := len(a.Runes), len(b.Runes)
	if Skip(l1, l2, minScore) {
		return 0, false
	}
	limit := minScore - 1e-12
	j, bounded := 0.0, false // J*, when both histograms are usable
	if a.histOK && b.histOK {
		shared := sharedCount(&a.hist, &b.hist)
		if shared == 0 { // no common code point: both terms are 0
			return 0, 0 >= minScore
		}
		mm := float64(min(shared, l1, l2))
		j, bounded = (mm/float64(l1)+mm/float64(l2)+1)/3, true
	}
	bound := 2.0 // above any score
	if bounded {
		bound = j + float64(prefix(a.Runes, b.Runes))*0.1*(1-j)
	}
	s := -1.0
	if bound >= limit {
		s = m.JaroWinkler(a.Runes, b.Runes)
	}
	if !(a.same && b.same) {
		if bounded {
			bound = j + float64(prefix(a.Sorted, b.Sorted))*0.1*(1-j)
		}
		if bound >= limit && s < bound+1e-12 {
			s = max(s, m.JaroWinkler(a.Sorted, b.Sorted))
		}
	}
	return s, s >= minScore
}
