// Package labelprop finds communities by asynchronous label propagation
// (Raghavan, Albert and Kumara 2007), as networkx 2.8's
// asyn_lpa_communities: each round visits the nodes in a seeded random order
// and a node whose label is not among its neighbours' most frequent labels
// adopts one of those at random; rounds repeat until a round changes nothing.
//
// Asynchronous updates are what make the method converge (synchronous ones
// oscillate on bipartite structures), and they are sequential by nature: one
// request runs on one goroutine.
package labelprop

import (
	"context"
	"math/rand/v2"

	"github.com/gokernels/gokernels/kernels/graph/community"
	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// Result is the partition found.
type Result struct {
	Labels         []int32 // canonical community per node
	NumCommunities int
	Iterations     int
	Converged      bool
}

// Run propagates labels on g. Neighbours are g's out-neighbours (all
// neighbours when undirected), self-loops included as in networkx; label
// frequencies are summed edge weights (1 per edge when unweighted), which
// must be non-negative. maxIter (>= 1) bounds the rounds.
func Run(ctx context.Context, g *csr.Graph, seed int64, maxIter int) (*Result, error) {
	for _, w := range g.W {
		if w < 0 {
			return nil, kerr.Invalid("weights", "must be non-negative for label propagation")
		}
	}
	n := g.N
	labels := make([]int32, n)
	order := make([]int32, n)
	for i := range labels {
		labels[i] = int32(i)
		order[i] = int32(i)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6a09e667f3bcc909))
	freq := make([]float64, n) // summed weight per label for the current node
	seen := make([]bool, n)    // label already in cands (reset after each node)
	var cands, best []int32
	res := &Result{}
	for res.Iterations < maxIter {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res.Iterations++
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		changed := false
		for i, u := range order {
			if i&4095 == 4095 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			nb, ws := g.Neighbors(int(u)), g.Weights(int(u))
			if len(nb) == 0 {
				continue
			}
			cands = cands[:0]
			for j, v := range nb {
				l := labels[v]
				if !seen[l] {
					seen[l] = true
					freq[l] = 0
					cands = append(cands, l)
				}
				if ws != nil {
					freq[l] += ws[j]
				} else {
					freq[l]++
				}
			}
			maxF := freq[cands[0]]
			for _, l := range cands[1:] {
				maxF = max(maxF, freq[l])
			}
			own := labels[u]
			ownIsBest := seen[own] && freq[own] == maxF
			for _, l := range cands {
				seen[l] = false
			}
			// Keep the current label whenever it is already a best one:
			// that rule is what lets the process stop.
			if ownIsBest {
				continue
			}
			best = best[:0]
			for _, l := range cands {
				if freq[l] == maxF {
					best = append(best, l)
				}
			}
			labels[u] = best[rng.IntN(len(best))]
			changed = true
		}
		if !changed {
			res.Converged = true
			break
		}
	}
	res.Labels, res.NumCommunities = community.Canonical(labels)
	return res, nil
}
