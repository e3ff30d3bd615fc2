package txn

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
)

// TestTSOrderIsStable: TSOrder equals a stable sort by ts (ties in input
// order) on sorted, reversed and heavily tied inputs.
func TestTSOrderIsStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, spread := range []int{1, 3, 1000, 1 << 40} {
		for _, n := range []int{0, 1, 2, 17, 1000} {
			txs := make([]*financev1.Transaction, n)
			for i := range txs {
				txs[i] = &financev1.Transaction{Ts: int64(rng.IntN(spread)) - int64(spread/2)}
			}
			for _, shape := range []string{"random", "sorted", "reversed"} {
				in := slices.Clone(txs)
				switch shape {
				case "sorted":
					slices.SortStableFunc(in, func(a, b *financev1.Transaction) int { return int(a.Ts>>1 - b.Ts>>1) })
				case "reversed":
					slices.Reverse(in)
				}
				want := make([]int, n)
				for i := range want {
					want[i] = i
				}
				sort.SliceStable(want, func(a, b int) bool { return in[want[a]].Ts < in[want[b]].Ts })
				if got := TSOrder(in); !slices.Equal(got, want) {
					t.Fatalf("spread %d n %d %s: TSOrder %v, want %v", spread, n, shape, got[:min(10, n)], want[:min(10, n)])
				}
			}
		}
	}
}
