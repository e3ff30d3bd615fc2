package txn

import (
	"cmp"
	"context"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"sync"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

// Check applies the request-level rules to a transaction list named field:
// at most limits.MaxEdges transactions and unique ids. It returns the order
// in which a fold must apply them (stable by ts).
func Check(ctx context.Context, field string, txs []*financev1.Transaction) ([]int, error) {
	if err := CheckSize(ctx, field, txs); err != nil {
		return nil, err
	}
	hs := make([]uint64, len(txs))
	for i, t := range txs {
		if i%CheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		hs[i] = HashID(t.GetId())
	}
	if err := CheckIDHashes(ctx, field, txs, hs, make([]uint64, len(txs))); err != nil {
		return nil, err
	}
	return TSOrder(txs), nil
}

// CheckSize refuses more than limits.MaxEdges transactions.
func CheckSize(ctx context.Context, field string, txs []*financev1.Transaction) error {
	return limits.Check(field, len(txs), limits.From(ctx).MaxEdges)
}

// HashID is the hash CheckIDHashes expects of each transaction id.
func HashID(id string) uint64 { return hashName(id) }

// CheckIDHashes refuses the first transaction whose id an earlier one has,
// given hs[i] = HashID(txs[i].GetId()). It reorders hs and uses scratch
// (same length) as working space.
//
// The hashes are radix-sorted by their top 22 bits, so equal hashes end up
// in the same short run: two sequential passes over an array instead of
// a million inserts into a string-keyed map, which were cache-miss bound.
// Only when two hashes are equal (a duplicate, or a 2^-64 collision) does
// the exact map check run, which also finds the index to report.
func CheckIDHashes(ctx context.Context, field string, txs []*financev1.Transaction, hs, scratch []uint64) error {
	if len(hs) < 2 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return CheckSortedIDHashes(ctx, field, txs, SortIDHashes(hs, scratch))
}

// IDHashShift is the shift that leaves the bits SortIDHashes orders by.
//
// 22 bits take two 11-bit radix passes (33 took three, and a third of the
// sort's time). Runs of equal top bits then hold n/2^22 hashes on average
// (0.24 at a million, 2.4 at ten million) and repeats compares the pairs
// within each run: a few hundred thousand comparisons. The hashes are
// seeded per process, so a client cannot pile ids into one run.
const IDHashShift = 64 - 22

// SortIDHashes orders id hashes by their top bits (v >> IDHashShift),
// using scratch (same length), and returns whichever of the two holds the
// result (always the same one for a given length: the pass count is
// fixed). Parts of a list sorted apart combine with MergeRuns.
func SortIDHashes(hs, scratch []uint64) []uint64 { return radixSort(hs, scratch, IDHashShift, 64) }

// CheckSortedIDHashes is CheckIDHashes on hashes SortIDHashes (or
// MergeRuns with IDHashShift) ordered.
func CheckSortedIDHashes(ctx context.Context, field string, txs []*financev1.Transaction, hs []uint64) error {
	if repeats(hs) {
		return uniqueIDsExact(ctx, field, txs)
	}
	return nil
}

// repeats reports whether hashes ordered by their top bits hold two equal
// ones (they lie in the same run of equal top bits).
func repeats(hs []uint64) bool {
	for i := 0; i < len(hs); {
		j := i + 1
		for j < len(hs) && hs[j]>>IDHashShift == hs[i]>>IDHashShift {
			j++
		}
		for a := i; a < j; a++ {
			for b := a + 1; b < j; b++ {
				if hs[a] == hs[b] {
					return true
				}
			}
		}
		i = j
	}
	return false
}

// CheckIDHashRuns is CheckSortedIDHashes on the merge of runs, each
// ordered by SortIDHashes (the parts of a parallel sort), with dst (their
// total length) as the merge's space. The range of top bits is cut into
// one slice per run, and each slice of every run is merged and checked on
// a goroutine of its own: equal hashes share their top bits, so they meet
// in one slice.
func CheckIDHashRuns(ctx context.Context, field string, txs []*financev1.Transaction, runs [][]uint64, dst []uint64) error {
	p := len(runs)
	if p == 1 {
		return CheckSortedIDHashes(ctx, field, txs, runs[0])
	}
	found := make([]bool, p)
	var wg sync.WaitGroup
	off := 0
	for r := range p {
		lo, hi := uint64(r)<<(64-IDHashShift)/uint64(p), uint64(r+1)<<(64-IDHashShift)/uint64(p)
		sub, size := make([][]uint64, p), 0
		for q, run := range runs {
			a := sort.Search(len(run), func(i int) bool { return run[i]>>IDHashShift >= lo })
			b := sort.Search(len(run), func(i int) bool { return run[i]>>IDHashShift >= hi })
			sub[q], size = run[a:b], size+b-a
		}
		d := dst[off : off+size]
		off += size
		wg.Go(func() { found[r] = repeats(MergeRuns(d, sub, IDHashShift)) })
	}
	wg.Wait()
	if slices.Contains(found, true) {
		return uniqueIDsExact(ctx, field, txs)
	}
	return nil
}

// MergeRuns merges runs, each sorted by v >> shift, into dst (whose
// length must be their total length) and returns it. Ties go to the
// earlier run, so the merge of stably sorted consecutive parts of a list
// is the stable sort of the list. It is meant for the few runs of a
// parallel sort (it compares every run's head per value).
func MergeRuns(dst []uint64, runs [][]uint64, shift uint) []uint64 {
	switch len(runs) {
	case 1:
		copy(dst, runs[0])
		return dst
	case 2:
		a, b := runs[0], runs[1]
		i, j, k := 0, 0, 0
		for i < len(a) && j < len(b) {
			if b[j]>>shift < a[i]>>shift {
				dst[k] = b[j]
				j++
			} else {
				dst[k] = a[i]
				i++
			}
			k++
		}
		k += copy(dst[k:], a[i:])
		copy(dst[k:], b[j:])
		return dst
	}
	heads := slices.Clone(runs)
	for k := range dst {
		best := -1
		for r, h := range heads {
			if len(h) > 0 && (best < 0 || h[0]>>shift < heads[best][0]>>shift) {
				best = r
			}
		}
		dst[k] = heads[best][0]
		heads[best] = heads[best][1:]
	}
	return dst
}

// uniqueIDsExact is the map check; it names the first repeated id.
func uniqueIDsExact(ctx context.Context, field string, txs []*financev1.Transaction) error {
	seen := make(map[string]struct{}, len(txs))
	for i, t := range txs {
		if i%CheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if _, dup := seen[t.GetId()]; dup {
			return kerr.Invalid(fmt.Sprintf("%s[%d].id", field, i), "duplicate transaction id %q", t.GetId())
		}
		seen[t.GetId()] = struct{}{}
	}
	return nil
}

// radixDigit is the LSD radix sort's digit width: 2,048 counters stay in
// the first-level cache.
const radixDigit = 11

// RadixSort sorts a stably by bits [lo, hi) of each value (LSD, 11-bit
// digits) using scratch (same length) and returns whichever of the two
// holds the result.
func RadixSort(a, scratch []uint64, lo, hi int) []uint64 { return radixSort(a, scratch, lo, hi) }

// radixSort sorts a stably by bits [lo, hi) of each value (LSD, 11-bit
// digits) using scratch (same length) and returns whichever of the two
// holds the result. Values equal in those bits keep their order.
func radixSort(a, scratch []uint64, lo, hi int) []uint64 {
	var count [1 << radixDigit]int
	for shift := lo; shift < hi; shift += radixDigit {
		width := min(radixDigit, hi-shift)
		mask := uint64(1)<<width - 1
		clear(count[:])
		for _, v := range a {
			count[(v>>shift)&mask]++
		}
		sum := 0
		for d := range count[:1<<width] {
			c := count[d]
			count[d] = sum
			sum += c
		}
		for _, v := range a {
			d := (v >> shift) & mask
			scratch[count[d]] = v
			count[d]++
		}
		a, scratch = scratch, a
	}
	return a
}

// TSOrder returns the indexes of txs stable-sorted by ts (pandas
// sort_values(kind="mergesort")). Input already in ts order (the usual
// case for a stream) costs one pass.
func TSOrder(txs []*financev1.Transaction) []int {
	order := make([]int, len(txs))
	sorted := true
	for i := range order {
		order[i] = i
		if i > 0 && txs[i].GetTs() < txs[i-1].GetTs() {
			sorted = false
		}
	}
	if sorted {
		return order
	}
	ts := make([]uint64, len(txs))
	for i, t := range txs {
		ts[i] = uint64(t.GetTs())
	}
	for i, j := range SortTS(ts, make([]uint64, len(ts))) {
		order[i] = int(j)
	}
	return order
}

// SortTS returns the indexes 0..len(ts)-1 stable-sorted by ts, where ts[i]
// holds the int64 ts of item i as uint64(ts). It overwrites ts and uses
// scratch (same length) as working space.
//
// When the ts range and the index fit in 64 bits together, each item
// becomes one packed (ts - min, index) word and an LSD radix sort over the
// ts bits orders them stably (two passes for a month of seconds, on one
// contiguous array); otherwise (ts, index) pairs are compared with pdqsort,
// the index breaking ties.
func SortTS(ts, scratch []uint64) []int32 {
	n := len(ts)
	order := make([]int32, n)
	if n == 0 {
		return order
	}
	lo, hi := int64(ts[0]), int64(ts[0])
	sorted := true
	for i, v := range ts {
		t := int64(v)
		if i > 0 && t < int64(ts[i-1]) {
			sorted = false
		}
		lo, hi = min(lo, t), max(hi, t)
	}
	if sorted {
		for i := range order {
			order[i] = int32(i)
		}
		return order
	}
	idxBits := bits.Len(uint(n))
	tsBits := bits.Len64(uint64(hi) - uint64(lo)) // hi-lo as unsigned: no overflow
	if idxBits+tsBits <= 64 {
		for i, v := range ts {
			ts[i] = (v-uint64(lo))<<idxBits | uint64(i)
		}
		keys := radixSort(ts, scratch, idxBits, idxBits+tsBits)
		mask := uint64(1)<<idxBits - 1
		for i, k := range keys {
			order[i] = int32(k & mask)
		}
		return order
	}
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(int64(ts[a]), int64(ts[b])); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return order
}
