// Package star scores how much each node looks like the hub of a
// hub-and-spoke pattern, on the simple undirected view of the graph.
//
// score(v) = (1/d(v)) * sum over neighbours w of 1/d(w): the average share of
// v's neighbours' links that go to v. It is 1 exactly when every neighbour of
// v is a leaf attached only to v (a star's centre) and falls towards 0 as the
// neighbours connect elsewhere. The graph-level companion is Freeman's degree
// centralization, 1 for a star and 0 for a regular graph.
package star

import (
	"context"

	"github.com/gokernels/gokernels/kernels/graph/structure/undirected"
	"github.com/gokernels/gokernels/kernels/par"
)

// Result holds the per-node scores and the hubs.
type Result struct {
	Scores         []float64
	Degree         []int32
	LeafNeighbors  []int32 // neighbours of degree 1
	Hubs           []int32 // nodes with LeafNeighbors >= minSpokes, ascending
	Centralization float64
}

// Compute scores every node of g; minSpokes (>= 1) selects the hubs.
func Compute(ctx context.Context, g *undirected.Graph, minSpokes int) (*Result, error) {
	n := g.N
	r := &Result{Scores: make([]float64, n), Degree: make([]int32, n), LeafNeighbors: make([]int32, n)}
	for v := 0; v < n; v++ {
		r.Degree[v] = int32(g.Degree(v))
	}
	err := par.Dynamic(ctx, n, 2048, par.Workers(n), func(_, lo, hi int) error {
		for v := lo; v < hi; v++ {
			nb := g.Neighbors(v)
			if len(nb) == 0 {
				continue
			}
			// Summed in ascending neighbour order: same bits everywhere.
			var s float64
			leaves := int32(0)
			for _, w := range nb {
				s += 1 / float64(r.Degree[w])
				if r.Degree[w] == 1 {
					leaves++
				}
			}
			r.Scores[v] = s / float64(len(nb))
			r.LeafNeighbors[v] = leaves
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.Hubs = []int32{}
	var dmax int32
	for v := 0; v < n; v++ {
		if int(r.LeafNeighbors[v]) >= minSpokes {
			r.Hubs = append(r.Hubs, int32(v))
		}
		dmax = max(dmax, r.Degree[v])
	}
	if n >= 3 {
		var sum int64
		for _, d := range r.Degree {
			sum += int64(dmax - d)
		}
		r.Centralization = float64(sum) / (float64(n-1) * float64(n-2))
	}
	return r, nil
}
