package ledger

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

// Hamilton parts sum exactly to the amount and each is within 1 of its
// exact quota (floor or floor+1).
func TestSplitConserves(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := 1 + rng.IntN(6)
		rs := make([]float64, n)
		for i := range rs {
			rs[i] = rng.Float64() + 1e-3
		}
		amount := rng.Int64N(1_000_000_000_000)
		parts := Split(amount, rs)
		var sum int64
		tot := new(big.Rat)
		for _, r := range rs {
			tot.Add(tot, new(big.Rat).SetFloat64(r))
		}
		for i, p := range parts {
			sum += p
			q := new(big.Rat).Mul(new(big.Rat).SetInt64(amount), new(big.Rat).SetFloat64(rs[i]))
			q.Quo(q, tot)
			lo := new(big.Rat).SetInt64(p - 1)
			hi := new(big.Rat).SetInt64(p)
			if q.Cmp(lo) <= 0 || q.Cmp(new(big.Rat).Add(hi, big.NewRat(1, 1))) >= 0 {
				t.Fatalf("part %d = %d far from quota %s", i, p, q.FloatString(3))
			}
		}
		if sum != amount {
			t.Fatalf("parts %v sum to %d, want %d", parts, sum, amount)
		}
	}
}

// Ties go to the lower index: 1 unit over three equal shares.
func TestSplitTies(t *testing.T) {
	got := Split(1, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3})
	if got[0] != 1 || got[1] != 0 || got[2] != 0 {
		t.Fatalf("Split(1, thirds) = %v, want [1 0 0]", got)
	}
	got = Split(5, []float64{0.5, 0.5})
	if got[0] != 3 || got[1] != 2 {
		t.Fatalf("Split(5, halves) = %v, want [3 2]", got)
	}
}
