// Package exactsum sums non-negative float64 amounts exactly, as 64.64
// fixed point (a 128-bit integer counting units of 2^-64), and rounds the
// total to float64 once. Such a sum does not depend on the order of its
// terms.
//
// The transaction-graph kernels report sums per entity and per component.
// Summed with float64 additions, a sum depends on the order of its terms,
// so Batch had to sort a whole request by ts only to round exactly as the
// ring (which sees the transactions in ts order) does. With exact sums,
// Batch adds in any order, in parallel, and the ring keeps accumulators
// instead of ordered float64 sums; both round once, to the float64
// nearest the exact sum, so they agree to the bit (and are at least as
// accurate).
//
// The fixed scale covers money as it arrives in practice: an amount
// qualifies when it is below 2^64 (1.8e19) and a whole multiple of 2^-64
// (every float64 from 2^-12 up, and 0.01 or 0.001 in binary, qualify;
// 1e-9 does not). A caller keeps an ordered float64 sum as the fallback
// for inputs with an amount that does not qualify or whose total
// overflows (Sum.Add reports it), and both Batch and the ring decide the
// same way, since the decision depends only on the set of amounts.
//
// Hand-written: no Go library offers an order-free float sum of this cost
// (math/big allocates per term; a 128-bit add is two instructions).
package exactsum

import (
	"math"
	"math/bits"
)

// Sum is an exact sum of qualifying amounts: Hi·2^64 + Lo units of 2^-64.
// The zero value is 0.
type Sum struct{ Hi, Lo uint64 }

// Of returns a as a Sum, or false when a does not qualify: negative, NaN,
// infinite, at least 2^64, or not a whole multiple of 2^-64.
func Of(a float64) (Sum, bool) {
	b := math.Float64bits(a)
	exp := int(b >> 52) // the sign bit makes a negative amount's exp > 0x7ff
	m := b & (1<<52 - 1)
	switch {
	case exp == 0 && m == 0:
		return Sum{}, true // +0
	case exp == 0 || exp >= 1023+64:
		return Sum{}, false // subnormal (far below 2^-64), ≥ 2^64, Inf, NaN or negative
	}
	m |= 1 << 52
	// a = m·2^(exp-1075) = m·2^(exp-1011) units of 2^-64.
	sh := exp - 1011
	if sh < 0 {
		if bits.TrailingZeros64(m) < -sh { // bits below 2^-64 would be lost
			return Sum{}, false
		}
		return Sum{Lo: m >> -sh}, true
	}
	if sh >= 64 {
		return Sum{Hi: m << (sh - 64)}, true
	}
	return Sum{Hi: m >> (64 - sh), Lo: m << sh}, true
}

// Qualifies reports whether Of(a) succeeds.
func Qualifies(a float64) bool {
	_, ok := Of(a)
	return ok
}

// Add adds t to s and reports whether the sum overflowed 2^64 (then s is
// no longer meaningful).
func (s *Sum) Add(t Sum) (overflow bool) {
	var c uint64
	s.Lo, c = bits.Add64(s.Lo, t.Lo, 0)
	s.Hi, c = bits.Add64(s.Hi, t.Hi, c)
	return c != 0
}

// AddFloat adds a qualifying amount a (Of(a) succeeds); it reports
// overflow as Add does.
func (s *Sum) AddFloat(a float64) (overflow bool) {
	t, _ := Of(a)
	return s.Add(t)
}

// Float64 is s rounded to the nearest float64, ties to even.
func (s Sum) Float64() float64 {
	if s.Hi == 0 {
		// One rounding in the conversion; scaling by 2^-64 is exact (the
		// smallest non-zero value, 2^-64, is far from subnormal).
		return math.Ldexp(float64(s.Lo), -64)
	}
	n := uint(bits.Len64(s.Hi)) // the value has 64+n significant bits
	t := s.Hi<<(64-n) | s.Lo>>n // its top 64
	if n < 64 && s.Lo<<(64-n) != 0 || n == 64 && s.Lo != 0 {
		t |= 1 // sticky: the dropped bits lie at least 11 below the rounding position
	}
	return math.Ldexp(float64(t), int(n)-64)
}

// Less reports whether s < t.
func (s Sum) Less(t Sum) bool { return s.Hi < t.Hi || s.Hi == t.Hi && s.Lo < t.Lo }
