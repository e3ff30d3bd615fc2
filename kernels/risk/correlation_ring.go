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
//
// With a window of W observations the state also keeps those W (the
// oldest must be taken back out of the co-moments when a new one comes):
// each arrival adds the new observation and removes the oldest, O(n²);
// after W removals the co-moments are rebuilt from the window, so the
// rounding of the removals cannot build up (amortised O(n²) as well).
type CorrelationState struct {
	Window  int                      `json:"window,omitempty"`
	Acc     *correlation.Accumulator `json:"acc,omitempty"`  // nil before the first observation
	Buf     []float64                `json:"buf,omitempty"`  // window: W slots of n values, circular
	Head    int                      `json:"head,omitempty"` // window: the oldest's slot once full
	Removed int                      `json:"removed,omitempty"`
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
		if in.Window != nil && in.GetWindow() < 2 {
			return nil, kerr.Invalid("window", "must be at least 2, got %d", in.GetWindow())
		}
		return &CorrelationState{Window: int(in.GetWindow())}, nil
	},
	Apply: func(rc fold.Context, s *CorrelationState, in *riskv1.RealtimeCorrelationInput) error {
		if in.Window != nil {
			return kerr.Invalid("window", "is a parameter: set it with Configure (before the first data message or after Reset)")
		}
		rows := in.GetSeries()
		n := len(rows)
		if n == 0 {
			return kerr.Invalid("series", "must hold one row per series")
		}
		if s.Acc != nil && n != s.Acc.N {
			return kerr.Invalid("series", "has %d rows; the ring has %d series (one row per series)", n, s.Acc.N)
		}
		lim := limits.From(rc)
		if err := limits.Check("series", n, lim.MaxAllPairsN); err != nil {
			return err
		}
		if err := limits.Check("series", n*s.Window, lim.MaxCells); err != nil {
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
			if s.Window > 0 {
				s.Buf = make([]float64, s.Window*n)
			}
		}
		obs := make([]float64, n)
		for j := range k {
			for i, r := range rows {
				obs[i] = r.GetValues()[j]
			}
			s.add(obs)
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
		cfg := &riskv1.RealtimeCorrelationInput{Window: in.Window}
		if len(rows) == 0 {
			return cfg, nil
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
		return cfg, out
	},
}

// add folds one validated observation in (errors are unreachable: the
// length was checked and a window of W ≥ 2 removes from W + 1 ≥ 3).
func (s *CorrelationState) add(obs []float64) {
	_ = s.Acc.Add(obs)
	if s.Window == 0 {
		return
	}
	n, w := s.Acc.N, s.Window
	if s.Acc.Count <= w { // filling: slots 0..w-1 in arrival order
		copy(s.Buf[(s.Acc.Count-1)*n:], obs)
		return
	}
	oldest := s.Buf[s.Head*n : (s.Head+1)*n]
	_ = s.Acc.Remove(oldest)
	copy(oldest, obs)
	s.Head = (s.Head + 1) % w
	if s.Removed++; s.Removed >= w {
		acc := correlation.NewAccumulator(n)
		for k := range w {
			slot := (s.Head + k) % w
			_ = acc.Add(s.Buf[slot*n : (slot+1)*n])
		}
		s.Acc, s.Removed = acc, 0
	}
}
