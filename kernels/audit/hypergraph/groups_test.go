package hypergraph

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// bruteGroups is the definition pair by pair (the kernel's first
// implementation): count every co-occurring entity pair through each
// non-entity node, k = max(2, 1.5 × mean count), group the pairs ≥ k.
func bruteGroups(g Graph) [][]int {
	n := len(g.Nodes)
	ents := make([][]int32, n)
	for _, e := range g.Edges {
		var es []int32
		for _, v := range e.Nodes {
			if g.Kinds[v] == "entity" {
				es = append(es, v)
			}
		}
		for _, v := range e.Nodes {
			if g.Kinds[v] != "entity" {
				ents[v] = append(ents[v], es...)
			}
		}
	}
	type pair struct{ a, b int32 }
	count := map[pair]int{}
	for _, es := range ents {
		slices.Sort(es)
		es = slices.Compact(es)
		for i := range es {
			for j := i + 1; j < len(es); j++ {
				count[pair{es[i], es[j]}]++
			}
		}
	}
	if len(count) == 0 {
		return nil
	}
	var total float64
	for _, c := range count {
		total += float64(c)
	}
	k := max(2, 1.5*total/float64(len(count)))
	uf := newUF(n)
	in := map[int]bool{}
	for p, c := range count {
		if float64(c) >= k {
			uf.union(int(p.a), int(p.b))
			in[int(p.a)], in[int(p.b)] = true, true
		}
	}
	if len(in) == 0 {
		return nil
	}
	var members []int
	for v := range in {
		members = append(members, v)
	}
	return groups(uf, members)
}

// randomGraph is records over ne entities, na accounts and nc categories,
// with entities skewed (a few are in many records), like a vendor ledger.
func randomGraph(rng *rand.Rand, records, ne, na, nc int) Graph {
	ids := map[string]bool{}
	var recs [][]string
	for range records {
		var ns []string
		if rng.IntN(10) > 0 {
			ns = append(ns, fmt.Sprintf("entity:E%03d", min(rng.IntN(ne), rng.IntN(ne))))
		}
		if rng.IntN(10) > 1 {
			ns = append(ns, fmt.Sprintf("account:A%03d", rng.IntN(na)))
		}
		if rng.IntN(10) > 2 {
			ns = append(ns, fmt.Sprintf("category:C%02d", rng.IntN(nc)))
		}
		slices.Sort(ns)
		for _, s := range ns {
			ids[s] = true
		}
		recs = append(recs, ns)
	}
	g := Graph{Nodes: slices.Sorted(func(yield func(string) bool) {
		for s := range ids {
			if !yield(s) {
				return
			}
		}
	})}
	idx := map[string]int32{}
	for i, s := range g.Nodes {
		idx[s] = int32(i)
		g.Kinds = append(g.Kinds, Kind(s))
	}
	for i, ns := range recs {
		if len(ns) < 2 {
			continue
		}
		e := Edge{ID: fmt.Sprint(i), Weight: 1}
		for _, s := range ns {
			e.Nodes = append(e.Nodes, idx[s])
		}
		g.Edges = append(g.Edges, e)
	}
	return g
}

// The heavy/light split gives the groups of the pair-by-pair definition
// wherever the split is made (every node heavy, none, or in between), and
// the automatic split under a small cap.
func TestGroupsEqualPairByPair(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for trial := range 150 {
		g := randomGraph(rng, 5+rng.IntN(200), 1+rng.IntN(40), 1+rng.IntN(15), 1+rng.IntN(6))
		want := bruteGroups(g)
		for _, above := range []int{-1, 0, 1, 2, 3, 5, 8, 1 << 20} {
			maxPairs := 1 << 30
			if above == -1 {
				maxPairs = 1 + rng.IntN(50)
			}
			got, err := groupEntities(context.Background(), g, maxPairs, above)
			if errors.Is(err, ErrTooManyPairs) && above == -1 {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("trial %d, heavy above %d (cap %d):\n got %v\nwant %v", trial, above, maxPairs, got, want)
			}
		}
	}
}

// A vendor ledger with default node kinds — 60,000 records, 3,000
// entities, 400 accounts, 12 categories, each category shared by most
// entities (~50M pair visits pair by pair) — runs under the default cap
// of 2,000,000 and equals the definition on a smaller copy.
func TestRealisticLedgerRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	g := randomGraph(rng, 60_000, 3000, 400, 12)
	if _, err := groupEntities(context.Background(), g, 2_000_000, -1); err != nil {
		t.Fatalf("realistic ledger: %v", err)
	}
	small := randomGraph(rng, 6000, 400, 60, 12)
	got, err := groupEntities(context.Background(), small, 20_000, -1)
	if err != nil {
		t.Fatal(err)
	}
	if want := bruteGroups(small); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}
