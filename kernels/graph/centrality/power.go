package centrality

import (
	"context"
	"math"

	"github.com/gokernels/gokernels/kernels/par"
)

// Iterative is the result of a power iteration.
type Iterative struct {
	Scores []float64
	// Iterations is the number of iterations run; when Converged it is the
	// iteration whose change first fell under the tolerance.
	Iterations int
	// Converged is false when max_iterations ran out first (networkx raises
	// PowerIterationFailedConvergence there; the kernels return the last
	// iterate and say so instead).
	Converged bool
}

// blockSize is the unit of parallel work of the power iterations. Partial
// sums are kept per block and added in block order, so results do not
// depend on the number of workers.
const blockSize = 4096

// blockSums runs fn over [0, n) in blocks (in parallel when there are
// several) and returns the sum of what fn returned, added in block order.
// partial must have room for numBlocks(n) values.
func blockSums(ctx context.Context, n int, partial []float64, fn func(lo, hi int) float64) (float64, error) {
	nb := numBlocks(n)
	if nb == 1 {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return fn(0, n), nil
	}
	err := par.Dynamic(ctx, nb, 1, par.Workers(nb), func(_, lo, hi int) error {
		for b := lo; b < hi; b++ {
			partial[b] = fn(b*blockSize, min((b+1)*blockSize, n))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for _, p := range partial[:nb] {
		sum += p
	}
	return sum, nil
}

func numBlocks(n int) int { return max(1, (n+blockSize-1)/blockSize) }

// l2Norm is sqrt(sum x²) computed by blocks.
func l2Norm(ctx context.Context, x, partial []float64) (float64, error) {
	ss, err := blockSums(ctx, len(x), partial, func(lo, hi int) float64 {
		s := 0.0
		for _, v := range x[lo:hi] {
			s += v * v
		}
		return s
	})
	return math.Sqrt(ss), err
}
