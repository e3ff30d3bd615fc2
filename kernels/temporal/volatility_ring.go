package temporal

import (
	"context"
	"math"

	"google.golang.org/protobuf/proto"

	temporalv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/temporal/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// withRing attaches a ring handler to a Def built by registry.Direct.
func withRing[In, Out proto.Message, Job any](d registry.Def[In, Out, Job], ring func() fold.Handler) registry.Def[In, Out, Job] {
	d.Ring = ring
	return d
}

// VolatilityState is volatility-analysis's ring state. The output lists
// every return with its variance, so the returns are kept (and, for
// "ewma", the variances, each computed once when its return arrives:
// s_t = λ s_{t-1} + (1 − λ) r_t², with the log-likelihood term of r_t given
// s_{t-1} added as it comes). "garch" keeps only the returns: its
// parameters are the maximum-likelihood fit over the whole series, which
// no bounded summary determines, so Snapshot refits (volatility.GARCH,
// exactly as Batch).
type VolatilityState struct {
	Method      string  `json:"method,omitempty"`
	Prices      bool    `json:"prices,omitempty"`
	Lambda      float64 `json:"lambda"`
	IncludeMean bool    `json:"include_mean"`
	Horizon     int     `json:"horizon"`

	Values   int       `json:"values"`   // values received
	Last     float64   `json:"last"`     // the previous price (prices)
	LastTS   *float64  `json:"last_ts"`  // the latest timestamp given
	Returns  []float64 `json:"returns"`  //
	Variance []float64 `json:"variance"` // "ewma": s_t per return
	LogLik   float64   `json:"loglik"`   // "ewma": running log-likelihood
}

// VolatilityRing is volatility-analysis's handler: Apply is O(1) per value
// (amortised), Snapshot O(T) for "ewma" (the output is O(T)) and a full
// GARCH fit for "garch". Both equal Batch bit for bit: the EWMA recursion
// and the log-likelihood sum run in Batch's order with Batch's operations.
var VolatilityRing = fold.Spec[*temporalv1.VolatilityAnalysisInput, *temporalv1.VolatilityAnalysisOutput, VolatilityState]{
	Configure: func(_ context.Context, in *temporalv1.VolatilityAnalysisInput) (*VolatilityState, error) {
		if len(in.GetValues()) > 0 || len(in.GetTimestamps()) > 0 {
			return nil, kerr.Invalid("values", "is data: send values in data messages, not in Configure")
		}
		switch in.GetMethod() {
		case "", "ewma", "garch":
		default:
			return nil, kerr.Invalid("method", "must be ewma or garch")
		}
		lambda := registry.Or(in.Lambda, 0.94)
		if !(lambda > 0 && lambda < 1) {
			return nil, kerr.Invalid("lambda", "must be in (0, 1)")
		}
		h := registry.Or(in.Horizon, 10)
		if h < 0 || h > 100_000 {
			return nil, kerr.Invalid("horizon", "must be in [0, 100000]")
		}
		return &VolatilityState{Method: in.GetMethod(), Prices: in.GetValuesArePrices(), Lambda: lambda,
			IncludeMean: registry.Or(in.IncludeMean, true), Horizon: int(h)}, nil
	},
	Apply: func(rc fold.Context, s *VolatilityState, in *temporalv1.VolatilityAnalysisInput) error {
		for _, p := range []struct {
			name string
			set  bool
		}{{"method", in.GetMethod() != ""}, {"values_are_prices", in.GetValuesArePrices()},
			{"lambda", in.Lambda != nil}, {"include_mean", in.IncludeMean != nil}, {"horizon", in.Horizon != nil}} {
			if p.set {
				return kerr.Invalid(p.name, "is a parameter: set it with Configure (before the first data message or after Reset)")
			}
		}
		v, ts := in.GetValues(), in.GetTimestamps()
		if err := limits.Check("values", s.Values+len(v), limits.From(rc).MaxSeriesLength); err != nil {
			return err
		}
		for i, x := range v {
			if s.Prices && x <= 0 {
				return kerr.Invalid(indexed("values", i), "must be positive when values_are_prices")
			}
		}
		last, err := checkAppend(v, ts, s.LastTS)
		if err != nil {
			return err
		}
		s.LastTS = last
		for _, x := range v {
			s.add(x)
		}
		return nil
	},
	Snapshot: func(ctx context.Context, s *VolatilityState) (*temporalv1.VolatilityAnalysisOutput, error) {
		if s.Values < 2 {
			return nil, kerr.Invalid("values", "has %d values; volatility needs at least 2", s.Values)
		}
		r := append([]float64(nil), s.Returns...)
		if s.Method == "garch" {
			return garchOutput(ctx, r, s.IncludeMean, s.Horizon)
		}
		return ewmaOutput(r, append([]float64(nil), s.Variance...), s.LogLik, s.Lambda, s.Horizon), nil
	},
	Split: func(in *temporalv1.VolatilityAnalysisInput) (*temporalv1.VolatilityAnalysisInput, []*temporalv1.VolatilityAnalysisInput) {
		cfg := proto.Clone(in).(*temporalv1.VolatilityAnalysisInput)
		cfg.Values, cfg.Timestamps = nil, nil
		return cfg, splitSeries(in.GetValues(), in.GetTimestamps(), func(v, ts []float64) *temporalv1.VolatilityAnalysisInput {
			return &temporalv1.VolatilityAnalysisInput{Values: v, Timestamps: ts}
		})
	},
}

// add folds one (validated) value in.
func (s *VolatilityState) add(x float64) {
	s.Values++
	r := x
	if s.Prices {
		last := s.Last
		s.Last = x
		if s.Values == 1 {
			return // the first price gives no return
		}
		r = math.Log(x / last) // volatility.LogReturns
	}
	s.Returns = append(s.Returns, r)
	if s.Method == "garch" {
		return
	}
	// smooth.EWM(r², 1−λ, adjust=false): oldWt = 1−λ, newWt = 1−λ's
	// complement, the same float operations in the same order.
	sq := r * r
	t := len(s.Returns) - 1
	if t == 0 {
		s.Variance = append(s.Variance, sq)
		return
	}
	prev := s.Variance[t-1]
	alpha := 1 - s.Lambda
	oldWt := 1.0 * (1 - alpha)
	w := prev
	if w != sq {
		w = (oldWt*w + alpha*sq) / (oldWt + alpha)
	}
	s.Variance = append(s.Variance, w)
	if prev > 0 { // volatility.EWMA's log-likelihood term for t
		s.LogLik -= 0.5 * (math.Log(2*math.Pi) + math.Log(prev) + sq/prev)
	}
}
