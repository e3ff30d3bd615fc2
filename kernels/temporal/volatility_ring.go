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
	"github.com/gokernels/gokernels/kernels/temporal/volatility"
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
// s_{t-1} added as it comes).
//
// "garch" keeps the returns too, and no bounded state can replace them:
// its parameters are the maximum-likelihood fit over the whole series
// (and h_0 the mean of all squared residuals), which no fixed-size summary
// of the returns determines, so Snapshot refits exactly as Batch
// (volatility.GARCH, cold: see the proto for why not warm). Per return it
// also runs the GARCH filter under the current parameters (Filter), so
// each data message is answered with the next return's variance forecast
// in O(1); the parameters are refitted inside the message that completes
// 64·2^k returns up to 4096, then every 4096 returns over the latest 4096
// (Batch's fit over those returns, cold: see the proto for why no warm
// start), a deterministic function of the returns that the journal
// replays.
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

	Filter *GARCHFilter `json:"filter,omitempty"` // "garch", from the first refit on
}

// GARCHFilter is the "garch" ring's per-return filter: the parameters of
// the latest refit (at FitReturns returns, over the latest
// min(FitReturns, 4096) of them) and the forecast h_{t+1|t} of the next
// return's variance under them.
type GARCHFilter struct {
	volatility.Params
	FitReturns int     `json:"fit_returns"`
	Next       float64 `json:"next"`
}

// garchFirstRefit is the return count of the first refit; later ones come
// at each doubling.
const garchFirstRefit = 64

// VolatilityRing is volatility-analysis's handler: Apply is O(1) per value
// (amortised; "garch" adds a refit at 64·2^k returns, O(1) amortised
// likelihood evaluations per return), Snapshot O(T) for "ewma" (the output
// is O(T)) and a full GARCH fit for "garch". Both equal Batch bit for bit:
// the EWMA recursion and the log-likelihood sum run in Batch's order with
// Batch's operations, and the GARCH Snapshot is Batch's fit.
var VolatilityRing = fold.Spec[*temporalv1.VolatilityAnalysisInput, *temporalv1.VolatilityAnalysisOutput, VolatilityState]{
	Messages: fold.Messages{Reply: &temporalv1.VolatilityUpdate{}, ReplyDoc: "The variance forecast for the next " +
		"return after this message, O(1): \"ewma\": s_t of its last return; \"garch\": h_{t+1|t} of the GARCH filter under " +
		"the parameters of the latest refit (Batch's fit at 64, 128, ..., 4096 returns, then every 4096 over the latest " +
		"4096; none before 64 returns), with those parameters."},
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
			s.add(rc, x)
		}
		fold.Reply(rc, s.update())
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

// update is the reply to a data message: the next return's variance
// forecast, O(1).
func (s *VolatilityState) update() *temporalv1.VolatilityUpdate {
	u := &temporalv1.VolatilityUpdate{Returns: int32(len(s.Returns))}
	switch {
	case s.Method == "garch" && s.Filter != nil:
		f := s.Filter
		u.ForecastVariance = f.Next
		u.Omega, u.Alpha, u.Beta, u.Mu, u.FitReturns = f.Omega, f.Alpha, f.Beta, f.Mu, int32(f.FitReturns)
	case s.Method != "garch" && len(s.Variance) > 0:
		u.ForecastVariance = s.Variance[len(s.Variance)-1]
	}
	u.ForecastVolatility = math.Sqrt(u.ForecastVariance)
	return u
}

// filter advances the GARCH filter over the newest return and refits
// when garchRefit says so. The refit runs without the message's
// cancellation: it is part of the state's definition, and a replay must
// compute the same fit.
func (s *VolatilityState) filter(ctx context.Context) {
	t := len(s.Returns)
	if f := s.Filter; f != nil {
		e := s.Returns[t-1] - f.Mu
		f.Next = clampFinite(f.Omega + f.Alpha*e*e + f.Beta*f.Next)
	}
	lo, ok := garchRefit(t)
	if !ok {
		return
	}
	r := s.Returns[lo:]
	g, err := volatility.GARCH(context.WithoutCancel(ctx), r, s.IncludeMean)
	if err != nil || !finiteAll(g.Mu, g.Omega, g.Alpha, g.Beta, g.Variance[len(r)-1]) {
		return // no variation (yet) or a failed fit: keep the current parameters
	}
	e := r[len(r)-1] - g.Mu
	s.Filter = &GARCHFilter{Params: g.Params(), FitReturns: t,
		Next: clampFinite(g.Omega + g.Alpha*e*e + g.Beta*g.Variance[len(r)-1])}
}

// garchRefitSpan bounds the returns a refit uses. A GARCH fit costs time
// linear in its returns (Batch's ten starts over 4096 returns: 1.5 s on
// this shared 2-core VM at load 21; 2^17 returns took 58 s), and the ring
// waits for it inside one message; past 4096 returns the refits use the
// latest 4096, every 4096 returns (amortised, one 4096-return fit per 4096
// messages).
const garchRefitSpan = 4096

// garchRefit says whether the message that brings return t (1-based
// count) refits, and from which return: at 64, 128, ..., 4096 over all of
// them, then at each multiple of 4096 over the latest 4096.
func garchRefit(t int) (lo int, ok bool) {
	switch {
	case t < garchFirstRefit:
		return 0, false
	case t <= garchRefitSpan:
		return 0, t&(t-1) == 0
	}
	return t - garchRefitSpan, t%garchRefitSpan == 0
}

func finiteAll(v ...float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// clampFinite keeps the filter's variance a finite number (the state is
// JSON): returns near 1e154 square to infinity.
func clampFinite(v float64) float64 {
	if math.IsNaN(v) {
		return math.MaxFloat64
	}
	return math.Min(v, math.MaxFloat64)
}

// add folds one (validated) value in.
func (s *VolatilityState) add(ctx context.Context, x float64) {
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
		s.filter(ctx)
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
