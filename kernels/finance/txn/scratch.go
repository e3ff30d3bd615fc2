package txn

import (
	"slices"
	"sync"
)

// Working arrays of the Batch loaders are reused across requests. A
// million-transaction request needs ~100 MB of them for a few hundred
// milliseconds; allocating them afresh each time made the garbage
// collector run every other request, and each cycle re-marks everything
// live (in the benchmarks, the decoded 1M-message input: ~1.4 s of CPU
// per cycle, more than the kernel itself). A sync.Pool did not help: the
// collector empties it, so under that allocation rate most requests
// missed it and allocated again. These free lists are kept across
// collections instead, bounded in count and bytes.
//
// Arrays of fewer than MinPooled elements are not pooled: they cost
// little to allocate, and a small request should not hold a large array.
const MinPooled = 1 << 14

// Arrays is a bounded free list of []T.
type Arrays[T any] struct {
	mu    sync.Mutex
	free  [][]T
	elems int // total capacity held
}

// maxKept and maxKeptElems bound each free list: 16 arrays, 32M
// elements (256 MB of uint64).
const (
	maxKept      = 16
	maxKeptElems = 32 << 20
)

// U64, I32, F64 and U8 are the free lists the loaders share.
var (
	U64 Arrays[uint64]
	I32 Arrays[int32]
	F64 Arrays[float64]
	U8  Arrays[uint8]
)

// Get returns a []T of length n with arbitrary contents: the smallest
// kept array that fits, else a new one. Give it back with Put.
func (a *Arrays[T]) Get(n int) []T {
	if n >= MinPooled {
		a.mu.Lock()
		best := -1
		for i, s := range a.free {
			if cap(s) >= n && (best < 0 || cap(s) < cap(a.free[best])) {
				best = i
			}
		}
		if best >= 0 {
			s := a.free[best]
			a.free = slices.Delete(a.free, best, best+1)
			a.elems -= cap(s)
			a.mu.Unlock()
			return s[:n]
		}
		a.mu.Unlock()
	}
	return make([]T, n)
}

// Put keeps arrays from Get for reuse; they must not be used afterwards.
// When the list is full the smallest arrays are dropped.
func (a *Arrays[T]) Put(ss ...[]T) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range ss {
		if cap(s) < MinPooled || cap(s) > maxKeptElems {
			continue
		}
		a.free = append(a.free, s[:0])
		a.elems += cap(s)
		for len(a.free) > maxKept || a.elems > maxKeptElems {
			small := 0
			for i, t := range a.free {
				if cap(t) < cap(a.free[small]) {
					small = i
				}
			}
			a.elems -= cap(a.free[small])
			a.free = slices.Delete(a.free, small, small+1)
		}
	}
}
