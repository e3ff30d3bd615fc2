package montecarlo

import "math"

// TailCount is the number of worst paths that make up the tail at the given
// confidence: k = ⌈n·(1−c)⌉, at least 1 and at most n. The product is rounded
// to 9 significant digits first so that 10⁴ paths at 99% give exactly 100
// (n·(1−0.99) is 100.00000000000009 in floating point).
func TailCount(n int, confidence float64) int {
	t := float64(n) * (1 - confidence)
	if r := math.Round(t); math.Abs(t-r) <= 1e-9*math.Max(1, t) {
		t = r
	}
	k := int(math.Ceil(t))
	return max(1, min(n, k))
}

// kthSmallest returns the k-th smallest (1-based) value of a, reordering a.
// Quickselect with a median-of-three pivot and a three-way partition, so runs
// of equal values (a zero-volatility portfolio) stay linear.
func kthSmallest(a []float64, k int) float64 {
	lo, hi, want := 0, len(a)-1, k-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		p := median3(a[lo], a[mid], a[hi])
		// a[lo:lt] < p, a[lt:i] == p, a[gt+1:hi+1] > p
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch v := a[i]; {
			case v < p:
				a[lt], a[i] = a[i], a[lt]
				lt++
				i++
			case v > p:
				a[gt], a[i] = a[i], a[gt]
				gt--
			default:
				i++
			}
		}
		switch {
		case want < lt:
			hi = lt - 1
		case want > gt:
			lo = gt + 1
		default:
			return p
		}
	}
	return a[want]
}

func median3(a, b, c float64) float64 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	if a > b {
		return a
	}
	return b
}

// tailPaths returns the indexes of the k smallest values of pnl in ascending
// index order, given the k-th smallest value t: every path below t, then the
// lowest-indexed paths equal to t until there are k. Ties are thus broken by
// path index, so the tail set is deterministic.
func tailPaths(pnl []float64, k int, t float64) []int {
	below := 0
	for _, v := range pnl {
		if v < t {
			below++
		}
	}
	ties := k - below
	idx := make([]int, 0, k)
	for p, v := range pnl {
		if v < t || (v == t && ties > 0) {
			if v == t {
				ties--
			}
			idx = append(idx, p)
		}
	}
	return idx
}
