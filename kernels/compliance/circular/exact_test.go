package circular

import (
	"context"
	"math/big"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
)

// exactTotal is the float64 nearest the exact sum of the amounts.
func exactTotal(txs []*financev1.Transaction) float64 {
	s := new(big.Float).SetPrec(2048)
	for _, x := range txs {
		s.Add(s, new(big.Float).SetFloat64(x.GetAmount()))
	}
	f, _ := s.Float64()
	return f
}

// TestExactSumsAndFallback: the ring's Snapshot equals Batch after every
// transaction (and after a mid-stream restore) on streams whose amounts
// all qualify for exact sums, and on streams where, part way, one amount
// does not qualify (an amount of 1e-9) or the total
// overflows 2^64 (two amounts of 9e18 and more): both sides switch to the
// ts-ordered float64 sums for good at that point. While exact, the total is
// the float64 nearest the exact sum (math/big); streams where the ts-order
// float64 sum rounds differently prove the two modes are told apart.
func TestExactSumsAndFallback(t *testing.T) {
	ctx := context.Background()
	differs := 0
	for seed := range uint64(6) {
		for _, breakAt := range []int{-1, 40, 150} {
			txs := randomStream(seed, 200, 16)
			r := rand.New(rand.NewPCG(seed, 99))
			for _, x := range txs {
				x.Amount = float64(1+r.IntN(1_000_000)) / 100
			}
			if breakAt >= 0 {
				if seed%2 == 0 {
					txs[breakAt].Amount = 1e-9 // not a whole multiple of 2^-64
				} else {
					txs[breakAt].Amount, txs[breakAt+1].Amount = 9e18, 9.5e18
				}
			}
			cfg := &compliancev1.CircularFlowInput{MinAmount: 500, CountSelfLoops: seed%3 == 0}
			h := configured(t, cfg)
			var naive float64
			for k, x := range txs {
				naive += x.GetAmount()
				if err := h.Apply(foldtest.New(ctx, uint64(k+1)), data(x)); err != nil {
					t.Fatal(err)
				}
				if k%17 == 5 {
					h = foldtest.Restored(t, h, RingSpec.New)
				}
				want := batch(t, cfg, txs[:k+1])
				got, err := h.Snapshot(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(got, want) {
					t.Fatalf("seed %d break %d tx %d: snapshot differs from Batch:\nbatch %.300s\nring  %.300s", seed, breakAt, k,
						prototext.Format(want), prototext.Format(got))
				}
				exact := breakAt < 0 || k < breakAt
				if exact && want.TotalAmount != exactTotal(txs[:k+1]) {
					t.Fatalf("seed %d tx %d: total %v, exact %v", seed, k, want.TotalAmount, exactTotal(txs[:k+1]))
				}
				if !exact && want.TotalAmount != naive {
					t.Fatalf("seed %d break %d tx %d: total %v after the fallback, ts-order sum %v", seed, breakAt, k, want.TotalAmount, naive)
				}
				if exact && naive != want.TotalAmount {
					differs++
				}
			}
		}
	}
	if differs < 20 {
		t.Fatalf("only %d prefixes where the exact and the ts-order sums differ: the modes are not told apart", differs)
	}
}
