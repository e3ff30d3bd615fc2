package reconcile

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// bruteForce returns the best (count, cost) over every one-to-one
// matching of the feasible pairs, by recursion over the left items.
func bruteForce(nL, nR int, pairs []Pair) (int, int64) {
	cost := map[[2]int]int64{}
	for _, p := range pairs {
		cost[[2]int{p.L, p.R}] = p.Cost
	}
	used := make([]bool, nR)
	var rec func(l int) (int, int64)
	rec = func(l int) (int, int64) {
		if l == nL {
			return 0, 0
		}
		bn, bc := rec(l + 1) // l unmatched
		for r := 0; r < nR; r++ {
			c, ok := cost[[2]int{l, r}]
			if !ok || used[r] {
				continue
			}
			used[r] = true
			n, s := rec(l + 1)
			used[r] = false
			if n+1 > bn || (n+1 == bn && s+c < bc) {
				bn, bc = n+1, s+c
			}
		}
		return bn, bc
	}
	return rec(0)
}

// On random sparse bipartite graphs the matching has the brute-force
// optimum's cardinality and cost, and is a valid one-to-one matching.
func TestMinCostMaxMatchingAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 1))
	for trial := 0; trial < 400; trial++ {
		nL, nR := 1+rng.IntN(6), 1+rng.IntN(6)
		var pairs []Pair
		for l := 0; l < nL; l++ {
			for r := 0; r < nR; r++ {
				if rng.Float64() < 0.45 {
					pairs = append(pairs, Pair{L: l, R: r, Cost: int64(rng.IntN(4) * rng.IntN(30))})
				}
			}
		}
		match, cost, err := MinCostMaxMatching(context.Background(), nL, nR, pairs)
		if err != nil {
			t.Fatal(err)
		}
		wantN, wantC := bruteForce(nL, nR, pairs)
		seen, n := map[int]bool{}, 0
		var sum int64
		for l, r := range match {
			if r < 0 {
				continue
			}
			if seen[r] {
				t.Fatalf("trial %d: right %d matched twice", trial, r)
			}
			seen[r] = true
			found := false
			for _, p := range pairs {
				if p.L == l && p.R == r {
					sum += p.Cost
					found = true
				}
			}
			if !found {
				t.Fatalf("trial %d: infeasible pair %d-%d", trial, l, r)
			}
			n++
		}
		if n != wantN || cost != wantC || sum != cost {
			t.Fatalf("trial %d: got %d matches cost %d (sum %d), brute force %d cost %d; pairs %v", trial, n, cost, sum, wantN, wantC, pairs)
		}
	}
}

func TestRunHonoursCancellation(t *testing.T) {
	var src, tgt []Item
	for i := range 3000 {
		id := string(rune('a'+i%26)) + string(rune('A'+i/26%26)) + string(rune('0'+i/676))
		src = append(src, Item{ID: id, Account: "A", Currency: "EUR", Amount: 1000 + int64(i%7), Day: 0})
		tgt = append(tgt, Item{ID: id, Account: "A", Currency: "EUR", Amount: 1000 + int64(i%5), Day: 0})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := Params{AbsTol: 100, PctTol: 0.01, DateTol: 3, Lambda: 1, MaxGroup: 3, ManyToOne: true, OneToMany: true, DuplicateDays: 7}
	if _, err := Run(ctx, src, tgt, p); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run returned %v", err)
	}
}

// One day of identical amounts is quadratic in pass 2: past MaxPairs the
// run is a 400 naming sources, not a gigabyte of pairs.
func TestRunCapsFeasiblePairs(t *testing.T) {
	var src, tgt []Item
	for i := range 200 {
		id := string(rune('a'+i%26)) + string(rune('A'+i/26))
		src = append(src, Item{ID: id, Account: "A", Currency: "EUR", Amount: 1000, Day: 0})
		tgt = append(tgt, Item{ID: id, Account: "A", Currency: "EUR", Amount: 1000, Day: 0})
	}
	p := Params{AbsTol: 100, PctTol: 0.01, DateTol: 3, Lambda: 1, MaxGroup: 3, MaxPairs: 10_000}
	_, err := Run(context.Background(), src, tgt, p)
	if fe, ok := kerr.AsField(err); !ok || fe.Field != "sources" {
		t.Fatalf("got %v, want a 400 naming sources", err)
	}
	p.MaxPairs = 40_000
	res, err := Run(context.Background(), src, tgt, p)
	if err != nil || res.Pass2Count != 200 || res.Pass2Cost != 0 {
		t.Fatalf("under the cap: %v, %d matches cost %d", err, res.Pass2Count, res.Pass2Cost)
	}
}
