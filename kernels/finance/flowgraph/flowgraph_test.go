package flowgraph

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/graph/components"
)

// partition is the SCC labelling as a set of sorted member lists, so two
// labellings compare regardless of component numbering.
func partition(r components.Result, n int) [][]int32 {
	by := map[int32][]int32{}
	for u := range int32(n) {
		by[r.Labels[u]] = append(by[r.Labels[u]], u)
	}
	var out [][]int32
	for _, m := range by {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b []int32) int { return int(a[0] - b[0]) })
	return out
}

// TestSCCMultigraph: SCC on the arcs with parallel arcs and self-loops
// equals Strong on the simple graph Graph() builds from them.
func TestSCCMultigraph(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 30 {
		var b Builder
		n := 1 + rng.IntN(60)
		for range rng.IntN(4 * n) {
			u, v := rng.IntN(n), rng.IntN(n)
			for range 1 + rng.IntN(3) { // parallel arcs
				b.Add(fmt.Sprint("e", u), fmt.Sprint("e", v), 1)
			}
		}
		if b.Entities.Len() == 0 {
			continue
		}
		got, err := b.SCC(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want, err := components.Strong(context.Background(), b.Graph())
		if err != nil {
			t.Fatal(err)
		}
		if p, q := partition(got, b.Entities.Len()), partition(want, b.Entities.Len()); !slices.EqualFunc(p, q, slices.Equal[[]int32]) {
			t.Fatalf("trial %d: SCC %v, simple-graph SCC %v", trial, p, q)
		}
	}
}

// TestBySource: every arc lands in its source's bucket with its amount,
// in builder order within the bucket, on one core and cut in two halves.
func TestBySource(t *testing.T) {
	defer func(m int) { minPart = m }(minPart)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	rng := rand.New(rand.NewPCG(21, 22))
	for _, mp := range []int{1 << 15, 3} {
		minPart = mp
		for trial := range 30 {
			var b Builder
			n := 1 + rng.IntN(40)
			for i := range rng.IntN(300) {
				b.Add(fmt.Sprint("e", rng.IntN(n)), fmt.Sprint("e", rng.IntN(n)), float64(i))
			}
			o := b.BySource(true)
			n = b.Entities.Len()
			want := make([][]float64, n) // amount = arc index: the builder order
			for i, u := range b.Src {
				want[u] = append(want[u], float64(i))
			}
			for u := range n {
				got := o.Amount[o.Ptr[u]:o.Ptr[u+1]]
				if !slices.Equal(got, want[u]) {
					t.Fatalf("minPart %d trial %d: bucket %d holds arcs %v, want %v", mp, trial, u, got, want[u])
				}
				for k := o.Ptr[u]; k < o.Ptr[u+1]; k++ {
					if i := int(o.Amount[k]); o.Dst[k] != b.Dst[i] {
						t.Fatalf("minPart %d trial %d: arc %d's dest %d, want %d", mp, trial, i, o.Dst[k], b.Dst[i])
					}
				}
			}
			o.Release()
		}
	}
}

// TestLoadEqualsCheckAndAdd: Load gives the arcs (by name) and amounts of
// txn.Check's order followed by Add, and the same duplicate-id error, in
// one part and cut into two to four parts (the parallel path), on inputs
// already in ts order, shuffled, with ts spanning the whole int64 range
// (no packed radix sort) and with duplicates in the same or another part;
// the arcs stay in input order when every amount qualifies for exact sums
// (Exact), which half the trials break with an amount of 1e-30.
func TestLoadEqualsCheckAndAdd(t *testing.T) {
	defer func(m int) { minPart = m }(minPart)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, mp := range []int{1 << 15, 7, 100} {
		minPart = mp
		testLoad(t, mp)
	}
}

func testLoad(t *testing.T, mp int) {
	rng := rand.New(rand.NewPCG(13, uint64(mp)))
	ctx := context.Background()
	for trial := range 60 {
		txs := make([]*financev1.Transaction, rng.IntN(500))
		for i := range txs {
			txs[i] = &financev1.Transaction{Id: fmt.Sprint("t", i), SourceId: fmt.Sprint("a", rng.IntN(40)),
				DestId: fmt.Sprint("a", rng.IntN(40)), Amount: rng.Float64(), Ts: int64(rng.IntN(1 + trial*trial))}
			switch trial % 3 {
			case 1:
				txs[i].Ts = int64(i / 3) // a stream in ts order
			case 2:
				if i%4 == 0 {
					txs[i].Ts = math.MaxInt64 - int64(rng.IntN(3))
				} else if i%4 == 1 {
					txs[i].Ts = math.MinInt64 + int64(rng.IntN(3))
				}
			}
		}
		if trial%2 == 0 && len(txs) > 0 {
			// An amount exactsum refuses: the arcs come in ts order.
			txs[rng.IntN(len(txs))].Amount = 1e-30
		}
		if trial%5 == 4 && len(txs) > 2 {
			txs[len(txs)-1].Id = txs[rng.IntN(len(txs)-1)].Id
		}
		if trial%7 == 6 && len(txs) > 20 {
			txs[11].Id = txs[10].Id
		}
		got, gotErr := Load(ctx, "transactions", txs)
		order, wantErr := txn.Check(ctx, "transactions", txs)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("minPart %d trial %d: Load error %v, Check error %v", mp, trial, gotErr, wantErr)
		}
		if wantErr != nil {
			continue
		}
		if got.Exact() == (trial%2 == 0 && len(txs) > 0) {
			t.Fatalf("minPart %d trial %d: Exact() = %v", mp, trial, got.Exact())
		}
		if got.Exact() {
			// Exact sums need no order: the arcs stay in input order.
			order = order[:0]
			for i := range txs {
				order = append(order, i)
			}
		}
		var want Builder
		for _, i := range order {
			want.Add(txs[i].SourceId, txs[i].DestId, txs[i].Amount)
		}
		if got.Exact() != want.Exact() || got.Exact() && got.Total != want.Total {
			t.Fatalf("minPart %d trial %d: exact total %v (%v), Add's %v (%v)", mp, trial, got.Total, got.Exact(), want.Total, want.Exact())
		}
		for k := range want.Src {
			if got.Entities.Names[got.Src[k]] != want.Entities.Names[want.Src[k]] ||
				got.Entities.Names[got.Dst[k]] != want.Entities.Names[want.Dst[k]] || got.Amount[k] != want.Amount[k] {
				t.Fatalf("trial %d: arc %d differs", trial, k)
			}
		}
		if len(got.Src) != len(want.Src) || got.Entities.Len() != want.Entities.Len() {
			t.Fatalf("trial %d: %d arcs / %d entities, want %d / %d", trial, len(got.Src), got.Entities.Len(), len(want.Src), want.Entities.Len())
		}
	}
}
