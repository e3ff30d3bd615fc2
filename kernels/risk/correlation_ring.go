package risk

import (
	"context"
	"fmt"
	"math"

	riskv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/risk/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/risk/correlation"
)

// CorrelationState is risk/realtime-correlation's ring state: the
// Welford/Chan co-moments of the observations so far (correlation.
// Accumulator), O(n²) for n series whatever the stream's length. A data
// message carries one or more observations: series[i] holds the new
// returns of series i, every row the same count. The first message fixes
// the number of series.
type CorrelationState struct {
	Acc *correlation.Accumulator `json:"acc,omitempty"` // nil before the first observation
}

// CorrelationRing is realtime-correlation's incremental handler. Apply
// costs O(n²) per observation; Snapshot O(n²). The replay law holds within
// the fixture's tolerance (rtol 1e-12 against numpy.corrcoef): the
// one-pass co-moments are not bit-identical to Batch's two-pass ones.
var CorrelationRing = fold.Spec[*riskv1.RealtimeCorrelationInput, *riskv1.RealtimeCorrelationOutput, CorrelationState]{
	Configure: func(_ context.Context, in *riskv1.RealtimeCorrelationInput) (*CorrelationState, error) {
		if len(in.GetSeries()) > 0 {
			return nil, kerr.Invalid("series", "is data: send observations in data messages, not in Configure")
		}
		return &CorrelationState{}, nil
	},
	Apply: func(rc fold.Context, s *CorrelationState, in *riskv1.RealtimeCorrelationInput) error {
		rows := in.GetSeries()
		n := len(rows)
		if n == 0 {
			return kerr.Invalid("series", "must hold one row per series")
		}
		if s.Acc != nil && n != s.Acc.N {
			return kerr.Invalid("series", "has %d rows; the ring has %d series (one row per series)", n, s.Acc.N)
		}
		if err := limits.Check("series", n, limits.From(rc).MaxAllPairsN); err != nil {
			return err
		}
		k := len(rows[0].GetValues())
		for i, r := range rows {
			if len(r.GetValues()) != k {
				return kerr.Invalid(fmt.Sprintf("series[%d]", i), "has %d observations, series[0] has %d", len(r.GetValues()), k)
			}
			for j, v := range r.GetValues() {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return kerr.Invalid(fmt.Sprintf("series[%d].values[%d]", i, j), "must be finite")
				}
			}
		}
		if s.Acc == nil {
			s.Acc = correlation.NewAccumulator(n)
		}
		obs := make([]float64, n)
		for j := range k {
			for i, r := range rows {
				obs[i] = r.GetValues()[j]
			}
			if err := s.Acc.Add(obs); err != nil {
				return err // unreachable: n was checked
			}
		}
		return nil
	},
	Snapshot: func(_ context.Context, s *CorrelationState) (*riskv1.RealtimeCorrelationOutput, error) {
		if s.Acc == nil {
			return nil, kerr.Invalid("series", "must not be empty")
		}
		if s.Acc.Count < 2 {
			return nil, kerr.Invalid("series[0]", "needs at least 2 observations, got %d", s.Acc.Count)
		}
		res, err := s.Acc.Result()
		if err != nil {
			return nil, err
		}
		return correlationOutput(res, s.Acc.Count), nil
	},
	Split: func(in *riskv1.RealtimeCorrelationInput) (*riskv1.RealtimeCorrelationInput, []*riskv1.RealtimeCorrelationInput) {
		rows := in.GetSeries()
		if len(rows) == 0 {
			return &riskv1.RealtimeCorrelationInput{}, nil
		}
		t := len(rows[0].GetValues())
		out := make([]*riskv1.RealtimeCorrelationInput, t)
		for j := range t {
			m := &riskv1.RealtimeCorrelationInput{Series: make([]*riskv1.Row, len(rows))}
			for i, r := range rows {
				var v []float64
				if j < len(r.GetValues()) {
					v = []float64{r.GetValues()[j]}
				}
				m.Series[i] = &riskv1.Row{Values: v}
			}
			out[j] = m
		}
		return &riskv1.RealtimeCorrelationInput{}, out
	},
}
