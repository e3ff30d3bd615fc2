// Package streamforest scores a stream of samples with isolation forests
// refitted on a sliding window, so the notion of "normal" follows the data.
//
// Rows are taken in order as a stream. With window W and refit interval R:
//
//   - model 0 is an isolation forest fitted on rows [0, min(W, n)) and it
//     scores those same rows (the warm-up window scores itself, exactly as
//     the batch isolation forest would);
//   - model j >= 1 is fitted at start s_j = W + (j−1)·R on the W rows
//     [s_j − W, s_j) that precede it and scores rows [s_j, min(s_j + R, n)),
//     i.e. each row after the warm-up is scored by a forest that has never
//     seen it, trained on the most recent full window.
//
// Model j uses iforest with seed Seed+j, so model 0 equals the batch
// isolation forest with the same seed, and a window at least as long as the
// stream gives the batch result for every row.
package streamforest

import (
	"context"

	"github.com/gokernels/gokernels/kernels/ml/iforest"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
)

// Params configure the stream.
type Params struct {
	Window        int // W >= 1
	RefitInterval int // R >= 1
	Forest        iforest.Params
}

// Result holds one score per row and where each model took over.
type Result struct {
	Scores      []float64 // isolation score s(x) in (0, 1)
	ModelStarts []int32   // first row scored by each model: 0, W, W+R, ...
}

// Run scores every row of m.
func Run(ctx context.Context, m matrix.Dense, p Params) (Result, error) {
	n, d := m.Rows, m.Cols
	res := Result{Scores: make([]float64, n)}
	rows := func(lo, hi int) matrix.Dense {
		return matrix.Dense{Rows: hi - lo, Cols: d, Data: m.Data[lo*d : hi*d]}
	}
	for j, start := 0, 0; start < n; j++ {
		var train matrix.Dense
		end := 0
		if j == 0 {
			end = min(p.Window, n)
			train = rows(0, end)
		} else {
			end = min(start+p.RefitInterval, n)
			train = rows(start-p.Window, start)
		}
		fp := p.Forest
		fp.Seed += uint64(j)
		f, err := iforest.Fit(ctx, train, fp)
		if err != nil {
			return Result{}, err
		}
		s, err := f.Score(ctx, rows(start, end))
		if err != nil {
			return Result{}, err
		}
		copy(res.Scores[start:end], s)
		res.ModelStarts = append(res.ModelStarts, int32(start))
		start = end
	}
	return res, nil
}
