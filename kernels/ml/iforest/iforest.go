// Package iforest is the isolation forest of Liu, Ting and Zhou (2008), built
// the way sklearn.ensemble.IsolationForest builds it.
//
// Each of NEstimators trees is grown on ψ = min(MaxSamples, n) rows drawn
// without replacement. A node splits on a feature drawn uniformly among the
// features that are not constant in the node, at a threshold drawn uniformly
// in [min, max) of that feature (rows <= threshold go left); it becomes a leaf
// when it holds one row, when all its features are constant, or at depth
// ceil(log2 ψ). The path length of x in a tree is the depth of the leaf it
// reaches plus c(leaf size), and its score is
//
//	s(x) = 2^(−E[h(x)] / c(ψ)),  c(m) = 2(ln(m−1) + γ) − 2(m−1)/m,
//
// with c(1) = 0 and c(2) = 1 (sklearn's _average_path_length). s is in (0, 1):
// near 1 is anomalous, at or below 0.5 normal. s equals −score_samples(X) of
// sklearn for the same trees; the trees themselves come from this package's
// seeded PCG streams (one per tree), so results are deterministic per seed
// and independent of the number of cores, but not draw-for-draw sklearn's.
package iforest

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gokernels/gokernels/kernels/ml/matrix"
	"github.com/gokernels/gokernels/kernels/par"
)

// Params configure a forest.
type Params struct {
	NEstimators int    // trees, >= 1
	MaxSamples  int    // rows per tree before capping at n, >= 1
	Seed        uint64 // PCG seed; tree t uses stream (Seed, t)
}

// Forest is a fitted isolation forest, read-only after Fit.
type Forest struct {
	trees [][]node
	psi   int
	cols  int
}

type node struct {
	feat        int32 // -1 for a leaf
	left, right int32
	size        int32 // training rows that reached the node
	thr         float64
}

const eulerGamma = 0.5772156649015329

// AveragePathLength is c(m), the mean path length of an unsuccessful search
// in a binary search tree of m keys, which normalises the depths.
func AveragePathLength(m int) float64 {
	switch {
	case m <= 1:
		return 0
	case m == 2:
		return 1
	}
	f := float64(m)
	return 2*(math.Log(f-1)+eulerGamma) - 2*(f-1)/f
}

// SubsampleSize is ψ = min(maxSamples, n).
func SubsampleSize(maxSamples, n int) int { return max(1, min(maxSamples, n)) }

// Fit grows the forest on the rows of m.
func Fit(ctx context.Context, m matrix.Dense, p Params) (*Forest, error) {
	psi := SubsampleSize(p.MaxSamples, m.Rows)
	maxDepth := int(math.Ceil(math.Log2(float64(max(psi, 2)))))
	f := &Forest{trees: make([][]node, p.NEstimators), psi: psi, cols: m.Cols}
	err := par.For(ctx, p.NEstimators, 1, func(t, _, _ int) error {
		rng := rand.New(rand.NewPCG(p.Seed, uint64(t)))
		g := grower{rng: rng, m: m, maxDepth: maxDepth, feats: make([]int, m.Cols)}
		rows := sample(rng, m.Rows, psi)
		g.nodes = make([]node, 0, 2*psi)
		g.grow(rows, 0)
		f.trees[t] = g.nodes
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// sample draws k distinct row indexes out of n (Floyd's algorithm: O(k)
// time and memory however large n is), in ascending order.
func sample(rng *rand.Rand, n, k int) []int32 {
	if k >= n {
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(i)
		}
		return out
	}
	chosen := make(map[int32]struct{}, k)
	for j := n - k; j < n; j++ {
		t := int32(rng.IntN(j + 1))
		if _, dup := chosen[t]; dup {
			t = int32(j)
		}
		chosen[t] = struct{}{}
	}
	out := make([]int32, 0, k)
	for i := range chosen {
		out = append(out, i)
	}
	// Map order is random; sort so the tree depends only on the seed.
	slices.Sort(out)
	return out
}

type grower struct {
	rng      *rand.Rand
	m        matrix.Dense
	maxDepth int
	nodes    []node
	feats    []int
}

// grow builds the subtree over rows (reordered in place) and returns its id.
func (g *grower) grow(rows []int32, depth int) int32 {
	id := int32(len(g.nodes))
	g.nodes = append(g.nodes, node{feat: -1, left: -1, right: -1, size: int32(len(rows))})
	if len(rows) < 2 || depth >= g.maxDepth {
		return id
	}
	// Draw features without replacement until one is not constant in the
	// node, like sklearn's random splitter.
	d := g.m.Cols
	for j := range g.feats {
		g.feats[j] = j
	}
	for left := d; left > 0; left-- {
		k := g.rng.IntN(left)
		f := g.feats[k]
		g.feats[k], g.feats[left-1] = g.feats[left-1], g.feats[k]
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, r := range rows {
			v := g.m.Data[int(r)*d+f]
			lo = min(lo, v)
			hi = max(hi, v)
		}
		if hi <= lo {
			continue
		}
		thr := lo + g.rng.Float64()*(hi-lo)
		if thr >= hi { // rounding; keep both sides non-empty
			thr = lo
		}
		// Partition rows: <= thr to the front.
		i, j := 0, len(rows)-1
		for i <= j {
			if g.m.Data[int(rows[i])*d+f] <= thr {
				i++
			} else {
				rows[i], rows[j] = rows[j], rows[i]
				j--
			}
		}
		g.nodes[id].feat = int32(f)
		g.nodes[id].thr = thr
		l := g.grow(rows[:i], depth+1)
		r := g.grow(rows[i:], depth+1)
		g.nodes[id].left, g.nodes[id].right = l, r
		return id
	}
	return id // every feature constant
}

// SubsampleSize is ψ, the rows each tree was grown on.
func (f *Forest) SubsampleSize() int { return f.psi }

// PathLength is h(x) in tree t: leaf depth plus c(leaf size).
func (f *Forest) PathLength(t int, x []float64) float64 {
	nodes := f.trees[t]
	n := int32(0)
	depth := 0
	for nodes[n].feat >= 0 {
		if x[nodes[n].feat] <= nodes[n].thr {
			n = nodes[n].left
		} else {
			n = nodes[n].right
		}
		depth++
	}
	return float64(depth) + AveragePathLength(int(nodes[n].size))
}

// Score returns s(x) for every row of m (m.Cols must equal the training
// columns). Trees are summed in order, so results do not depend on the
// number of cores.
func (f *Forest) Score(ctx context.Context, m matrix.Dense) ([]float64, error) {
	out := make([]float64, m.Rows)
	denom := float64(len(f.trees)) * AveragePathLength(f.psi)
	err := par.For(ctx, m.Rows, 512, func(_, lo, hi int) error {
		for i := lo; i < hi; i++ {
			x := m.Row(i)
			var h float64
			for t := range f.trees {
				h += f.PathLength(t, x)
			}
			if denom == 0 { // ψ = 1: sklearn defines the ratio as 1
				out[i] = 0.5
				continue
			}
			out[i] = math.Exp2(-h / denom)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
