package txn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
)

// TestCheckIDHashRuns: the input cut into 1 to 4 parts, each part's id
// hashes sorted apart and checked by CheckIDHashRuns, gives the error of
// the map check (the first repeated id by index, or none), with repeats
// inside one part, across parts, and none.
func TestCheckIDHashRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ctx := context.Background()
	for trial := range 200 {
		txs := make([]*financev1.Transaction, 1+rng.IntN(2000))
		for i := range txs {
			txs[i] = &financev1.Transaction{Id: fmt.Sprint("t", i)}
		}
		if trial%3 > 0 && len(txs) > 1 {
			i := 1 + rng.IntN(len(txs)-1)
			txs[i].Id = txs[rng.IntN(i)].Id
		}
		p := 1 + trial%4
		hs, scratch := make([]uint64, len(txs)), make([]uint64, len(txs))
		for i, x := range txs {
			hs[i] = HashID(x.Id)
		}
		runs, free := make([][]uint64, p), scratch
		for q := range p {
			lo, hi := q*len(txs)/p, (q+1)*len(txs)/p
			runs[q] = SortIDHashes(hs[lo:hi], scratch[lo:hi])
			if hi > lo && &runs[q][0] == &scratch[lo] {
				free = hs // the sorted runs lie in scratch
			}
		}
		got := CheckIDHashRuns(ctx, "transactions", txs, runs, free)
		want := uniqueIDsExact(ctx, "transactions", txs)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("trial %d (%d parts): %v, map check %v", trial, p, got, want)
		}
		if (want != nil) != (trial%3 > 0 && len(txs) > 1) {
			t.Fatalf("trial %d: the repeat was not planted as meant (%v)", trial, want)
		}
	}
}
