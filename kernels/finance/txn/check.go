package txn

import (
	"cmp"
	"context"
	"fmt"
	"math/bits"
	"slices"

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
	if err := CheckIDHashes(ctx, field, txs, hs); err != nil {
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
// given hs[i] = HashID(txs[i].GetId()). hs is left as it is.
//
// Only when two hashes are equal (a duplicate, or a 2^-64 collision) does
// the exact map check run, which also finds the index to report. Equal
// hashes are found with a bitset of at least 64 bits per hash, indexed by
// the hash's top bits: a hash whose bit is already set is a candidate, and
// a second pass counts the candidates' values exactly. That is two
// sequential passes with one random bit access each (about n/64
// candidates), where the radix sort it replaced moved every hash twice
// and then scanned runs: on 1M ids 9 ms against 20 ms on one core
// (BenchmarkCheckIDHashes), and no scratch array. It runs on one
// goroutine: split by the hashes' top bits, each goroutine would test
// every hash for its share, a branch that mispredicts half the time and
// made two goroutines slower than one. The hashes are seeded per process,
// so a client cannot aim ids at one bit; all-equal ids cost one map entry.
func CheckIDHashes(ctx context.Context, field string, txs []*financev1.Transaction, hs []uint64) error {
	if len(hs) < 2 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	seen := U64.Get(1 << bits.Len(uint(len(hs)-1))) // ≥ len(hs) words: ≥ 64 bits a hash
	defer U64.Put(seen)
	if hashRepeats(hs, seen) {
		return uniqueIDsExact(ctx, field, txs)
	}
	return ctx.Err()
}

// hashRepeats reports whether two of the hashes are equal. seen (any
// contents; a power-of-two length) becomes the bitset of their top bits.
func hashRepeats(hs, seen []uint64) bool {
	clear(seen)
	shift := 64 - uint(bits.Len(uint(len(seen)*64))-1) // the set has 2^(64-shift) bits
	var cand []uint64
	for _, h := range hs {
		i := h >> shift
		w, m := i>>6, uint64(1)<<(i&63)
		if seen[w]&m != 0 {
			cand = append(cand, h)
		} else {
			seen[w] |= m
		}
	}
	if len(cand) == 0 {
		return false
	}
	// Count every occurrence of the candidates' values: a small filter on
	// the low 20 bits (not the ones the set used) keeps most hashes away
	// from the map.
	var filter [1 << 14]uint64
	count := make(map[uint64]int, len(cand))
	for _, h := range cand {
		filter[h&(1<<20-1)>>6] |= 1 << (h & 63)
		count[h] = 0
	}
	for _, h := range hs {
		if filter[h&(1<<20-1)>>6]&(1<<(h&63)) == 0 {
			continue
		}
		if n, ok := count[h]; ok {
			if n == 1 {
				return true
			}
			count[h] = n + 1
		}
	}
	return false
}

// MergeRuns merges runs, each sorted, into dst (whose length must be
// their total length) and returns it. Ties go to the
// earlier run, so the merge of stably sorted consecutive parts of a list
// is the stable sort of the list. It is meant for the few runs of a
// parallel sort (it compares every run's head per value).
func MergeRuns(dst []uint64, runs [][]uint64) []uint64 {
	switch len(runs) {
	case 1:
		copy(dst, runs[0])
		return dst
	case 2:
		a, b := runs[0], runs[1]
		i, j, k := 0, 0, 0
		for i < len(a) && j < len(b) {
			if b[j] < a[i] {
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
			if len(h) > 0 && (best < 0 || h[0] < heads[best][0]) {
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
