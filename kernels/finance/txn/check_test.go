package txn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
)

// TestCheckIDHashes: the set check gives the
// error of the map check (the first repeated id by index, or none), with
// repeats near and far, many repeats of one id, and none.
func TestCheckIDHashes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ctx := context.Background()
	for trial := range 300 {
		txs := make([]*financev1.Transaction, 1+rng.IntN(3000))
		for i := range txs {
			txs[i] = &financev1.Transaction{Id: fmt.Sprint("t", i)}
		}
		planted := trial%3 > 0 && len(txs) > 1
		if planted {
			i := 1 + rng.IntN(len(txs)-1)
			txs[i].Id = txs[rng.IntN(i)].Id
			if trial%7 == 0 { // one id many times
				for j := i; j < len(txs); j += 2 {
					txs[j].Id = txs[i].Id
				}
			}
		}
		hs := make([]uint64, len(txs))
		for i, x := range txs {
			hs[i] = HashID(x.Id)
		}
		want := uniqueIDsExact(ctx, "transactions", txs)
		if (want != nil) != planted {
			t.Fatalf("trial %d: the repeat was not planted as meant (%v)", trial, want)
		}
		if got := CheckIDHashes(ctx, "transactions", txs, hs); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("trial %d: %v, map check %v", trial, got, want)
		}
	}
}

// TestHashRepeats drives the set directly with hashes chosen to share
// their top bits (candidates that are not repeats), with and without a
// repeat among them, on sets of 8 to 256 words left dirty.
func TestHashRepeats(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 1000 {
		n := 2 + rng.IntN(400)
		hs := make([]uint64, n)
		for i := range hs {
			hs[i] = rng.Uint64()
			if i > 0 && rng.IntN(3) == 0 { // same top 40 bits as an earlier one, other low bits
				hs[i] = hs[rng.IntN(i)]&^(1<<24-1) | rng.Uint64()&(1<<24-1)
			}
		}
		if trial%2 == 0 {
			i := 1 + rng.IntN(n-1)
			hs[i] = hs[rng.IntN(i)]
		}
		dup, seen := false, map[uint64]bool{}
		for _, h := range hs {
			dup = dup || seen[h]
			seen[h] = true
		}
		set := make([]uint64, 1<<(3+rng.IntN(6)))
		for i := range set {
			set[i] = rng.Uint64() // garbage: hashRepeats clears it
		}
		if got := hashRepeats(hs, set); got != dup {
			t.Fatalf("trial %d (%d words): %v, want %v", trial, len(set), got, dup)
		}
	}
}

// BenchmarkCheckIDHashes: the set check on 1,000,000 id hashes against
// the radix sort by the top 22 bits (two 11-bit passes) and a scan of
// equal-prefix runs that it replaced:
//
//	go test ./kernels/finance/txn -run '^$' -bench CheckIDHashes
func BenchmarkCheckIDHashes(b *testing.B) {
	const n = 1_000_000
	txs := make([]*financev1.Transaction, n)
	hs := make([]uint64, n)
	for i := range txs {
		txs[i] = &financev1.Transaction{Id: fmt.Sprint("tx", i)}
		hs[i] = HashID(txs[i].Id)
	}
	ctx := context.Background()
	b.Run("set", func(b *testing.B) {
		for b.Loop() {
			if err := CheckIDHashes(ctx, "transactions", txs, hs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("radix-22", func(b *testing.B) {
		a, scratch := make([]uint64, n), make([]uint64, n)
		for b.Loop() {
			copy(a, hs)
			sorted := RadixSort(a, scratch, 42, 64)
			for i := 1; i < n; i++ {
				for j := i - 1; j >= 0 && sorted[j]>>42 == sorted[i]>>42; j-- {
					if sorted[j] == sorted[i] {
						b.Fatal("repeat")
					}
				}
			}
		}
	})
}
