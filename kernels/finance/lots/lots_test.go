package lots

import (
	"math/rand/v2"
	"testing"
)

// TestMergeAged: merging the lots at or before a ts leaves one front lot
// with their sum and the oldest ts, the younger lots untouched, and a
// consumer that treats aged lots alike sees the same portions from the
// younger ones (integer amounts: exact in float64).
func TestMergeAged(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		var plain, merged FIFO
		for ts := range int64(40) {
			a := float64(r.IntN(100) + 1)
			plain.Push(a, ts)
			merged.Push(a, ts)
			if r.IntN(3) == 0 {
				out := float64(r.IntN(150))
				cut := ts - 10
				merged.MergeAged(cut)
				var youngP, youngM float64
				plain.Consume(out, ts, func(p float64, lt int64) {
					if lt > cut {
						youngP += p
					}
				})
				merged.Consume(out, ts, func(p float64, lt int64) {
					if lt > cut {
						youngM += p
					}
				})
				if youngP != youngM || plain.Balance() != merged.Balance() {
					t.Fatalf("trial %d ts %d: young %v vs %v, balance %v vs %v", trial, ts, youngP, youngM, plain.Balance(), merged.Balance())
				}
			}
		}
		aged := 0
		for _, l := range merged.Lots() {
			if l.TS <= 39-10 {
				aged++
			}
		}
		merged.MergeAged(39 - 10)
		if n := 0; aged > 1 {
			for _, l := range merged.Lots() {
				if l.TS <= 29 {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("trial %d: %d aged lots after MergeAged", trial, n)
			}
		}
	}
}
