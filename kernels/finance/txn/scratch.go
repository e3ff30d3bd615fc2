package txn

import "sync"

// Working arrays of the Batch loaders are reused across requests. A
// million-transaction request needs ~40 MB of them for a few hundred
// milliseconds; allocating them afresh each time made the garbage
// collector run every other request, and each cycle re-marks everything
// live (in the benchmarks, the decoded 1M-message input: ~1.4 s of CPU
// per cycle, more than the kernel itself).
var scratchPool sync.Pool // *[]uint64

// Scratch returns a []uint64 of length n with arbitrary contents. Give
// it back with Release when done.
func Scratch(n int) *[]uint64 {
	if p, ok := scratchPool.Get().(*[]uint64); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]uint64, n)
	return &s
}

// Release returns arrays from Scratch to the pool; they must not be used
// afterwards.
func Release(ps ...*[]uint64) {
	for _, p := range ps {
		scratchPool.Put(p)
	}
}
