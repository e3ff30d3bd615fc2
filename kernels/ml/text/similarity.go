package text

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Similarity is the result of Cosine: the full matrix, or the top k
// candidates per query.
type Similarity struct {
	Matrix     []float64 // row-major queries × candidates; nil when k > 0
	TopIndices []int     // row-major queries × k' (k' = min(k, candidates)), best first
	TopScores  []float64
	K          int // k', the length of each top list
}

// Cosine compares each query row with each candidate row by cosine
// similarity, as sklearn.metrics.pairwise.cosine_similarity(queries,
// candidates): rows are divided by their L2 norms (all-zero rows stay zero,
// so their similarities are 0) and multiplied.
//
// With candidates nil the queries are compared with each other (the matrix
// has a unit diagonal except for zero rows) and top lists skip the query
// itself. With k > 0 only the k most similar candidates per query are
// returned, ties broken by the lower index. Queries run in parallel.
func Cosine(ctx context.Context, queries []float64, nq int, candidates []float64, nc int, dim int, k int) (*Similarity, error) {
	self := candidates == nil
	if self {
		candidates, nc = queries, nq
	}
	if dim <= 0 {
		return nil, kerr.Invalid("dimension", "must be positive, got %d", dim)
	}
	if err := checkRows("queries", "n_queries", queries, nq, dim); err != nil {
		return nil, err
	}
	if !self {
		if err := checkRows("corpus", "n_corpus", candidates, nc, dim); err != nil {
			return nil, err
		}
	}
	if k < 0 {
		return nil, kerr.Invalid("top_k", "must not be negative, got %d", k)
	}
	qn := normalizeRows(queries, nq, dim)
	cn := qn
	if !self {
		cn = normalizeRows(candidates, nc, dim)
	}
	res := &Similarity{}
	avail := nc
	if self {
		avail--
	}
	if k > 0 {
		res.K = max(0, min(k, avail))
		res.TopIndices = make([]int, nq*res.K)
		res.TopScores = make([]float64, nq*res.K)
	} else {
		res.Matrix = make([]float64, nq*nc)
	}
	err := par.For(ctx, nq, 1, func(i, _, _ int) error {
		q := qn[i*dim : (i+1)*dim]
		row := make([]float64, nc)
		if res.Matrix != nil {
			row = res.Matrix[i*nc : (i+1)*nc]
		}
		for j := range nc {
			c := cn[j*dim : (j+1)*dim]
			s := 0.0
			for d, v := range q {
				s += v * c[d]
			}
			row[j] = s
		}
		if k > 0 {
			order := make([]int, 0, nc)
			for j := range nc {
				if !(self && j == i) {
					order = append(order, j)
				}
			}
			sort.SliceStable(order, func(a, b int) bool { return row[order[a]] > row[order[b]] })
			for r := range res.K {
				res.TopIndices[i*res.K+r] = order[r]
				res.TopScores[i*res.K+r] = row[order[r]]
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// normalizeRows is sklearn.preprocessing.normalize(X, norm="l2") on a dense
// matrix: each row divided by sqrt(Σx²), zero rows left as they are.
func normalizeRows(x []float64, n, dim int) []float64 {
	out := make([]float64, len(x))
	for i := range n {
		row := x[i*dim : (i+1)*dim]
		ss := 0.0
		for _, v := range row {
			ss += v * v
		}
		norm := math.Sqrt(ss)
		if norm == 0 {
			norm = 1
		}
		for d, v := range row {
			out[i*dim+d] = v / norm
		}
	}
	return out
}

func checkRows(field, countField string, x []float64, n, dim int) error {
	if n <= 0 {
		return kerr.Invalid(countField, "must be positive, got %d", n)
	}
	if len(x) != n*dim {
		return kerr.Invalid(field, "has %d values, want %s*dimension = %d", len(x), countField, n*dim)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return kerr.Invalid(fmt.Sprintf("%s[%d]", field, i), "must be finite")
		}
	}
	return nil
}
