// Package flowgraph is the aggregated directed multigraph of a transaction
// list: entities interned to dense ids, one arc per transaction, and the
// graph algorithms the transaction-graph kernels share (strongly connected
// components on the graph domain's CSR, bounded elementary circuits,
// δ-temporal paths).
package flowgraph

import (
	"context"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/exactsum"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/graph/components"
	"github.com/gokernels/gokernels/kernels/graph/csr"
)

// Builder accumulates transactions as parallel arc arrays.
type Builder struct {
	Entities txn.Interner
	Src, Dst []int32
	Amount   []float64
	// Total is the exact sum of the amounts while every amount qualifies
	// for exactsum and the sum fits (Exact); the kernels then report
	// exact sums, which do not depend on the arcs' order.
	Total   exactsum.Sum
	inexact bool
}

// Exact reports whether every amount qualifies for exactsum and their
// total fits: then every sum over a subset of the arcs is exact too.
func (b *Builder) Exact() bool { return !b.inexact }

// addExact adds a to the exact total, or marks the builder inexact.
func (b *Builder) addExact(a float64) {
	t, ok := exactsum.Of(a)
	if !ok || b.Total.Add(t) {
		b.inexact = true
	}
}

// Grow reserves room for n more arcs.
func (b *Builder) Grow(n int) {
	b.Src = slices.Grow(b.Src, n)
	b.Dst = slices.Grow(b.Dst, n)
	b.Amount = slices.Grow(b.Amount, n)
}

// Add appends the arc source -> dest with amount a.
func (b *Builder) Add(source, dest string, a float64) {
	b.Src = append(b.Src, b.Entities.ID(source))
	b.Dst = append(b.Dst, b.Entities.ID(dest))
	b.Amount = append(b.Amount, a)
	if !b.inexact {
		b.addExact(a)
	}
}

// Release gives the builder's arrays and table back to txn's free lists,
// for a Batch request whose output is built; the builder must not be used
// afterwards. (The output may keep the entity names: they are strings the
// request owns, not the table's arrays.)
func (b *Builder) Release() {
	txn.I32.Put(b.Src, b.Dst)
	txn.F64.Put(b.Amount)
	txn.PutInterner(b.Entities)
	*b = Builder{}
}

// Graph returns the simple directed CSR graph of the arcs (parallel arcs
// collapse; self-loops are kept), or nil without entities.
func (b *Builder) Graph() *csr.Graph {
	n := b.Entities.Len()
	if n == 0 {
		return nil
	}
	g, err := csr.Build(n, b.Src, b.Dst, nil, true)
	if err != nil { // ids are dense by construction
		panic(err)
	}
	return g
}

// SCC labels the strongly connected components (iterative Tarjan).
func (b *Builder) SCC(ctx context.Context) (components.Result, error) {
	if b.Entities.Len() == 0 {
		return components.Result{}, nil
	}
	out := b.BySource(false)
	defer out.Release()
	return out.SCC(ctx)
}

// Out is the arcs bucketed by source: u's arcs go to Dst[Ptr[u]:Ptr[u+1]]
// with amounts Amount[Ptr[u]:Ptr[u+1]] (when asked for). Within a bucket
// the arcs keep their order in the builder.
type Out struct {
	Ptr, Dst []int32
	Amount   []float64
}

// BySource buckets the arcs by source (a counting sort; the arrays come
// from txn's free lists, see Release). Large builders are cut in two
// halves counted and scattered on two cores: the second half's arcs of u
// follow the first half's.
func (b *Builder) BySource(amounts bool) Out {
	n, m := b.Entities.Len(), len(b.Src)
	o := Out{Ptr: txn.I32.Get(n + 1), Dst: txn.I32.Get(m)}
	if amounts {
		o.Amount = txn.F64.Get(m)
	}
	halves := 1
	if m >= 2*minPart && runtime.GOMAXPROCS(0) > 1 {
		halves = 2
	}
	counts := make([][]int32, halves)
	var wg sync.WaitGroup
	for h := range halves {
		wg.Go(func() {
			c := txn.I32.Get(n + 1)
			clear(c)
			for _, u := range b.Src[h*m/halves : (h+1)*m/halves] {
				c[u+1]++
			}
			counts[h] = c
		})
	}
	wg.Wait()
	// Ptr from the counts; counts[h][u+1] becomes half h's first slot in
	// u's bucket.
	ptr := o.Ptr
	ptr[0] = 0
	for u := range n {
		total := ptr[u]
		for h := range halves {
			c := counts[h][u+1]
			counts[h][u+1] = total
			total += c
		}
		ptr[u+1] = total
	}
	for h := range halves {
		wg.Go(func() {
			fill := counts[h][1:]
			lo, hi := h*m/halves, (h+1)*m/halves
			for i := lo; i < hi; i++ {
				u := b.Src[i]
				k := fill[u]
				o.Dst[k] = b.Dst[i]
				if amounts {
					o.Amount[k] = b.Amount[i]
				}
				fill[u] = k + 1
			}
		})
	}
	wg.Wait()
	for _, c := range counts {
		txn.I32.Put(c)
	}
	return o
}

// Release gives the arrays back to txn's free lists.
func (o Out) Release() {
	txn.I32.Put(o.Ptr, o.Dst)
	if o.Amount != nil {
		txn.F64.Put(o.Amount)
	}
}

// SCC labels the strongly connected components of the arcs (iterative
// Tarjan).
//
// Tarjan needs only each node's out-arcs, and parallel arcs do not change
// its result, so it runs on the buckets instead of the simple graph
// (Graph sorts every bucket to collapse parallel arcs and builds the
// in-arcs too): they are handed to components.Strong as a csr.Graph with
// only Ptr and Idx set; TestSCCMultigraph checks it against Graph().
func (o Out) SCC(ctx context.Context) (components.Result, error) {
	n := len(o.Ptr) - 1
	return components.Strong(ctx, &csr.Graph{N: n, Directed: true, Ptr: o.Ptr, Idx: o.Dst, NumEdges: len(o.Dst)})
}

// Load is txn.Check followed by Add over every transaction in ts order,
// for a Batch request: it refuses more than limits.MaxEdges transactions
// (field names the list) and duplicate ids, and returns the builder with
// one arc per transaction in the §1.5 order, or in input order when the
// builder is Exact (its sums are then taken exactly, in any order, and the
// ts sort would be wasted).
//
// It reads each message once, in input order: the messages lie in memory
// roughly in that order while the ts order jumps around, so one sequential
// pass hashes the id, takes the ts and amount and interns both names (in
// batches, so the table's cache misses overlap); the duplicate check, the
// ts sort and the permutation into ts order then run on flat arrays.
//
// Large inputs are cut into one part per core (up to maxParts), and each
// phase runs on the parts in parallel: the pass over a part hashes its
// endpoint names into one list per name class (the hash's top bits, a
// power of two of them, at most one per part); each class is interned
// into a table of its own on its own core, and the tables are joined
// without a merge or a renumbering pass. The duplicate-id check
// (txn.CheckIDHashes) runs on a goroutine of its own meanwhile; when the
// sums are not exact, each part sorts its ts keys and the sorted parts are
// merged; the permutation is split by output range. The result is the
// same as one sequential pass except for the entity numbering (by class,
// then first appearance), on which no output depends (outputs are sorted
// by name).
func Load(ctx context.Context, field string, txs []*financev1.Transaction) (*Builder, error) {
	if err := txn.CheckSize(ctx, field, txs); err != nil {
		return nil, err
	}
	n := len(txs)
	// Working arrays, from txn's free lists: ids' hashes, ts keys and the
	// sort's scratch, (src, dst) packed in one word, amounts
	// as float64 bits, and the endpoint names' hashes and keys (source of
	// txs[i] at 2i, dest at 2i+1).
	w := loader{txs: txs, hs: txn.U64.Get(n), ts: txn.U64.Get(n), ts2: txn.U64.Get(n),
		arc: txn.U64.Get(n), amt: txn.U64.Get(n), cls: txn.U8.Get(2 * n)}
	defer txn.U64.Put(w.hs, w.ts, w.ts2, w.arc, w.amt)
	defer txn.U8.Put(w.cls)
	np := numParts(n)
	nc := 1 << (bits.Len(uint(np)) - 1) // name classes: a power of two, at most one per part
	w.parts = make([]part, np)
	for p := range w.parts {
		q := &w.parts[p]
		q.idx, q.lo, q.hi = p, p*n/np, (p+1)*n/np
		q.ends = make([][]endpoint, nc)
		for c := range q.ends {
			q.ends[c] = getEndpoints(2 * (q.hi - q.lo) * 9 / (8 * nc)) // the expected share and 12%
		}
		q.ids = make([][]int32, nc)
	}
	defer func() {
		for p := range w.parts {
			for c := range nc {
				putEndpoints(w.parts[p].ends[c])
				if ids := w.parts[p].ids[c]; ids != nil {
					txn.I32.Put(ids)
				}
			}
		}
	}()
	if err := w.each(func(p *part) error { return w.read(ctx, p, nc) }); err != nil {
		return nil, err
	}
	// The duplicate-id check needs only the hashes: it runs on a goroutine
	// of its own from here on, filling what the phases below leave idle.
	// Every return waits for it (this defer runs before the free lists
	// take the arrays back).
	var dupErr error
	var dup sync.WaitGroup
	dup.Go(func() { dupErr = txn.CheckIDHashes(ctx, field, txs, w.hs) })
	defer dup.Wait()
	// Intern: class c's names (those whose hash falls in class c) into
	// table c, one class per core; no name is interned twice and no table
	// is merged into another.
	tables := make([]txn.Interner, nc)
	err := w.each(func(p *part) error {
		if p.idx < nc {
			tables[p.idx] = w.intern(ctx, p.idx)
		}
		return ctx.Err()
	})
	if err != nil {
		for _, t := range tables {
			txn.PutInterner(t)
		}
		return nil, err
	}
	b := &Builder{}
	var off []int32
	b.Entities, off = txn.Join(tables)
	// Exact sums need no order: the arcs stay in input order.
	for p := range w.parts {
		q := &w.parts[p]
		if q.inexact || b.Total.Add(q.total) {
			b.inexact = true
		}
	}
	// The ts order: not needed (exact sums), already sorted (a stream),
	// one radix sort of packed (ts - min, index) words per part, or
	// pdqsort when those do not fit.
	lo, hi, sorted := w.parts[0].minTS, w.parts[0].maxTS, b.Exact()
	if !sorted {
		sorted = true
		for p := range w.parts {
			q := &w.parts[p]
			lo, hi = min(lo, q.minTS), max(hi, q.maxTS)
			sorted = sorted && q.sorted && (p == 0 || q.firstTS >= w.parts[p-1].lastTS)
		}
	}
	idxBits := bits.Len(uint(n))
	tsBits := bits.Len64(uint64(hi) - uint64(lo)) // hi-lo as unsigned: no overflow
	packed := !sorted && n > 0 && idxBits+tsBits <= 64
	_ = w.each(func(p *part) error {
		// The arcs: each endpoint's id from its class's list for the
		// part (in input order), renumbered after the classes before it.
		cur := make([]int, nc)
		for i := p.lo; i < p.hi; i++ {
			c := w.cls[2*i]
			src := p.ids[c][cur[c]] + off[c]
			cur[c]++
			c = w.cls[2*i+1]
			dst := p.ids[c][cur[c]] + off[c]
			cur[c]++
			w.arc[i] = uint64(uint32(src)) | uint64(uint32(dst))<<32
		}
		if packed {
			for i := p.lo; i < p.hi; i++ {
				w.ts[i] = (w.ts[i]-uint64(lo))<<idxBits | uint64(i)
			}
			p.ts = txn.RadixSort(w.ts[p.lo:p.hi], w.ts2[p.lo:p.hi], idxBits, idxBits+tsBits)
		}
		return nil
	})
	// The sorted parts' results all lie in one of each pair of arrays
	// (the pass counts are the same for every part); merge into the other.
	var order []int32
	switch {
	case sorted:
		order = nil // the identity
	case packed:
		runs, free := w.tsRuns()
		keys := txn.MergeRuns(free, runs)
		mask := uint64(1)<<idxBits - 1
		order = txn.I32.Get(n)
		defer txn.I32.Put(order)
		for i, k := range keys {
			order[i] = int32(k & mask)
		}
	default:
		order = txn.SortTS(w.ts, w.ts2)
	}
	dup.Wait()
	if dupErr != nil {
		return nil, dupErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.Src, b.Dst, b.Amount = txn.I32.Get(n), txn.I32.Get(n), txn.F64.Get(n)
	_ = w.each(func(p *part) error {
		for k := p.lo; k < p.hi; k++ {
			j := k
			if order != nil {
				j = int(order[k])
			}
			b.Src[k], b.Dst[k], b.Amount[k] = int32(uint32(w.arc[j])), int32(w.arc[j]>>32), math.Float64frombits(w.amt[j])
		}
		return nil
	})
	return b, nil
}

// maxParts bounds Load's parallelism; minPart is the smallest part worth
// a goroutine (a variable so tests can exercise the parallel path on
// small inputs).
const maxParts = 4

var minPart = 1 << 15

func numParts(n int) int {
	return max(1, min(runtime.GOMAXPROCS(0), maxParts, n/minPart))
}

// loader is Load's working state.
type loader struct {
	txs                   []*financev1.Transaction
	hs, ts, ts2, arc, amt []uint64
	cls                   []uint8 // endpoint k's name class (source of txs[i] at 2i, dest at 2i+1)
	parts                 []part
}

// endpoint is one endpoint name as intern needs it: its txn.NameHash and
// txn.NameKey, and its index k in the endpoint list (txn.NameOf).
type endpoint struct {
	h, key uint64
	k      int32
}

// The endpoint lists come from a free list of their own (see txn.Arrays).
var endpoints txn.Arrays[endpoint]

func getEndpoints(capacity int) []endpoint { return endpoints.Get(capacity)[:0] }
func putEndpoints(e []endpoint)            { endpoints.Put(e[:cap(e)]) }

// classShift selects bits of a txn.NameHash that neither a table's index
// nor its tag uses: the low bits of h>>classShift are a name's class.
const classShift = 28

// part is one contiguous range of the input.
type part struct {
	idx, lo, hi                   int
	ends                          [][]endpoint // the part's endpoint names by class, in input order
	ids                           [][]int32    // their ids in their class's table
	minTS, maxTS, firstTS, lastTS int64
	sorted                        bool // ts non-decreasing within the part
	total                         exactsum.Sum
	inexact                       bool     // an amount does not qualify or the part's total overflows
	ts                            []uint64 // the part's sorted ts keys
}

// each runs fn on every part, in parallel when there are several, and
// returns the first error.
func (w *loader) each(fn func(p *part) error) error {
	if len(w.parts) == 1 {
		return fn(&w.parts[0])
	}
	errs := make([]error, len(w.parts))
	var wg sync.WaitGroup
	for p := range w.parts {
		wg.Go(func() { errs[p] = fn(&w.parts[p]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// tsRuns returns each part's sorted ts keys and the array of the pair
// (ts, ts2) that holds none of them.
func (w *loader) tsRuns() ([][]uint64, []uint64) {
	runs := make([][]uint64, len(w.parts))
	for p := range w.parts {
		runs[p] = w.parts[p].ts
	}
	if len(w.ts) > 0 && &runs[0][0] == &w.ts[0] {
		return runs, w.ts2
	}
	return runs, w.ts
}

// read is the pass over part p: id hashes, ts, amounts, and each
// endpoint name's hash and key appended to its class's list (of nc).
func (w *loader) read(ctx context.Context, p *part, nc int) error {
	txs := w.txs
	mask := uint64(nc - 1)
	p.sorted = true
	if p.hi > p.lo {
		p.minTS, p.maxTS, p.firstTS = txs[p.lo].GetTs(), txs[p.lo].GetTs(), txs[p.lo].GetTs()
		p.lastTS = p.firstTS
	}
	for i := p.lo; i < p.hi; i++ {
		if (i-p.lo)%txn.CheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tx := txs[i]
		ts := tx.GetTs()
		w.hs[i] = txn.HashID(tx.GetId())
		w.ts[i] = uint64(ts)
		a := tx.GetAmount()
		w.amt[i] = math.Float64bits(a)
		if t, ok := exactsum.Of(a); !ok || p.total.Add(t) {
			p.inexact = true
		}
		src, dst := tx.GetSourceId(), tx.GetDestId()
		hs, hd := txn.NameHash(src), txn.NameHash(dst)
		cs, cd := hs>>classShift&mask, hd>>classShift&mask
		w.cls[2*i], w.cls[2*i+1] = uint8(cs), uint8(cd)
		p.ends[cs] = append(p.ends[cs], endpoint{hs, txn.NameKey(src), int32(2 * i)})
		p.ends[cd] = append(p.ends[cd], endpoint{hd, txn.NameKey(dst), int32(2*i + 1)})
		if ts < p.lastTS {
			p.sorted = false
		}
		p.lastTS = ts
		p.minTS, p.maxTS = min(p.minTS, ts), max(p.maxTS, ts)
	}
	return nil
}

// intern interns class c's endpoint names, part by part, into a table of
// their own, and leaves each part's ids (in its list's order) in the
// part's ids[c].
func (w *loader) intern(ctx context.Context, c int) txn.Interner {
	count := 0
	for q := range w.parts {
		count += len(w.parts[q].ends[c])
	}
	t := txn.GetInterner(min(count, 1<<16))
	var (
		hs, keys [64]uint64
		ks       [64]int32
	)
	for q := range w.parts {
		ends := w.parts[q].ends[c]
		ids := txn.I32.Get(len(ends))
		w.parts[q].ids[c] = ids
		for lo := 0; lo < len(ends); lo += len(hs) {
			if lo%(4*txn.CheckEvery) == 0 && ctx.Err() != nil {
				return t
			}
			batch := ends[lo:min(len(ends), lo+len(hs))]
			for j, e := range batch {
				hs[j], keys[j], ks[j] = e.h, e.key, e.k
			}
			t.IDsHashed(w.txs, hs[:len(batch)], keys[:len(batch)], ks[:len(batch)], ids[lo:])
		}
	}
	return t
}
