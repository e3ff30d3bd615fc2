package risk

import (
	"context"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	riskv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/risk/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/risk/montecarlo"
	"github.com/gokernels/gokernels/kernels/risk/parametric"
)

// positionUpdates reads a data message's positions (with position_indexes,
// or the whole vector without) as (asset, value) pairs for n assets,
// checking everything before the caller changes its state.
func positionUpdates(n int, positions []float64, indexes []int32) ([]int, error) {
	if n == 0 {
		return nil, kerr.Invalid("volatilities", "configure the ring with the risk model (volatilities, correlation) before sending positions")
	}
	idx := make([]int, len(positions))
	switch {
	case len(indexes) == 0 && len(positions) != n:
		return nil, kerr.Invalid("positions", "has %d values; without position_indexes a data message gives all %d positions", len(positions), n)
	case len(indexes) == 0:
		for i := range idx {
			idx[i] = i
		}
	case len(indexes) != len(positions):
		return nil, kerr.Invalid("position_indexes", "has %d indexes for %d positions (one per value)", len(indexes), len(positions))
	default:
		for k, i := range indexes {
			if i < 0 || int(i) >= n {
				return nil, kerr.Invalid(fmt.Sprintf("position_indexes[%d]", k), "must lie in [0, %d), got %d", n, i)
			}
			idx[k] = int(i)
		}
	}
	for k, v := range positions {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, kerr.Invalid(fmt.Sprintf("positions[%d]", k), "must be finite")
		}
	}
	return idx, nil
}

// splitPositions is the replay feed of a positions vector: one data
// message per asset, in order, naming its index.
func splitPositions[M proto.Message](positions []float64, msg func(v float64, i int32) M) []M {
	out := make([]M, len(positions))
	for i, v := range positions {
		out[i] = msg(v, int32(i))
	}
	return out
}

// PortfolioState is portfolio-aggregation's ring state: the risk model
// (volatilities σ, correlation C, confidence, horizon), the positions w,
// and the aggregate C·a with a_i = σ_i·w_i, from which the whole VaR
// decomposition follows in O(n) (parametric.FromCA). A position change
// updates C·a in O(n) (one column of C) instead of the O(n²) product;
// after n changes the product is recomputed exactly, so rounding from
// repeated updates cannot build up (amortised O(n) per change).
type PortfolioState struct {
	Sigma      []float64 `json:"sigma"`
	Corr       []float64 `json:"corr"`
	Confidence float64   `json:"confidence"`
	Holding    float64   `json:"holding"`
	Positions  []float64 `json:"positions"`
	CA         []float64 `json:"ca"`
	Changes    int       `json:"changes"` // position changes since C·a was last recomputed
}

// PortfolioRing is portfolio-aggregation's incremental handler. Fed
// positions from zero in asset order (the replay feed), its C·a is
// accumulated with the same operations in the same order as Batch's
// product, so the replay law holds bit for bit.
var PortfolioRing = fold.Spec[*riskv1.PortfolioAggregationInput, *riskv1.PortfolioAggregationOutput, PortfolioState]{
	Configure: func(ctx context.Context, in *riskv1.PortfolioAggregationInput) (*PortfolioState, error) {
		if len(in.GetPositions()) > 0 || len(in.GetPositionIndexes()) > 0 {
			return nil, kerr.Invalid("positions", "is data: send positions in data messages, not in Configure")
		}
		n := len(in.GetVolatilities())
		s := &PortfolioState{Confidence: registry.Or(in.ConfidenceLevel, defaultConfidence),
			Holding: registry.Or(in.HoldingPeriodDays, defaultHoldingDays), Positions: make([]float64, n), CA: make([]float64, n)}
		if n == 0 {
			if len(in.GetCorrelation()) > 0 {
				return nil, kerr.Invalid("volatilities", "must give one value per asset of the correlation matrix")
			}
			return s, nil
		}
		c, err := portfolioModel(ctx, in, n)
		if err != nil {
			return nil, err
		}
		// The checks parametric.VaR makes on everything but the positions.
		if _, err := parametric.VaR(ctx, make([]float64, n), in.GetVolatilities(), c, s.Confidence, s.Holding); err != nil {
			return nil, err
		}
		s.Sigma, s.Corr = in.GetVolatilities(), c
		return s, nil
	},
	Apply: func(_ fold.Context, s *PortfolioState, in *riskv1.PortfolioAggregationInput) error {
		if len(in.GetVolatilities()) > 0 || len(in.GetCorrelation()) > 0 || in.ConfidenceLevel != nil || in.HoldingPeriodDays != nil {
			return kerr.Invalid(portfolioParam(in), "is a parameter: set it with Configure (before the first data message or after Reset)")
		}
		n := len(s.Sigma)
		idx, err := positionUpdates(n, in.GetPositions(), in.GetPositionIndexes())
		if err != nil {
			return err
		}
		for k, i := range idx {
			w := in.GetPositions()[k]
			da := s.Sigma[i]*w - s.Sigma[i]*s.Positions[i]
			s.Positions[i] = w
			for j := range n {
				s.CA[j] += s.Corr[j*n+i] * da
			}
			s.Changes++
		}
		if s.Changes >= n {
			a := make([]float64, n)
			for i := range n {
				a[i] = s.Sigma[i] * s.Positions[i]
			}
			// Not rc: the state must not depend on a cancellation. The
			// product is bounded by the all-pairs limit checked at Configure.
			ca, err := parametric.MatVec(context.Background(), s.Corr, a)
			if err != nil {
				return err // unreachable: Background is never cancelled
			}
			s.CA, s.Changes = ca, 0
		}
		return nil
	},
	Snapshot: func(_ context.Context, s *PortfolioState) (*riskv1.PortfolioAggregationOutput, error) {
		if len(s.Sigma) == 0 {
			return nil, kerr.Invalid("positions", "must not be empty")
		}
		return portfolioOutput(parametric.FromCA(s.Positions, s.Sigma, s.CA, s.Confidence, s.Holding)), nil
	},
	Split: func(in *riskv1.PortfolioAggregationInput) (*riskv1.PortfolioAggregationInput, []*riskv1.PortfolioAggregationInput) {
		cfg := proto.Clone(in).(*riskv1.PortfolioAggregationInput)
		cfg.Positions, cfg.PositionIndexes = nil, nil
		return cfg, splitPositions(in.GetPositions(), func(v float64, i int32) *riskv1.PortfolioAggregationInput {
			return &riskv1.PortfolioAggregationInput{Positions: []float64{v}, PositionIndexes: []int32{i}}
		})
	},
}

func portfolioParam(in *riskv1.PortfolioAggregationInput) string {
	switch {
	case len(in.GetVolatilities()) > 0:
		return "volatilities"
	case len(in.GetCorrelation()) > 0:
		return "correlation"
	case in.ConfidenceLevel != nil:
		return "confidence_level"
	}
	return "holding_period_days"
}

// MonteCarloState is monte-carlo-var's ring state: the prepared model
// (volatilities, expected returns, Cholesky factor of the correlation,
// simulation settings with the seed) and the positions. Apply sets
// positions in O(1); Snapshot re-runs the seeded simulation over the
// current positions (montecarlo.Simulate, the Batch function), so every
// Snapshot of the same positions draws the same Philox paths and equals
// Batch bit for bit. Nothing cheaper is exact: VaR is a quantile of the
// simulated P&L, which every position moves.
type MonteCarloState struct {
	Mu        []float64         `json:"mu,omitempty"`
	Sigma     []float64         `json:"sigma"`
	Chol      []float64         `json:"chol"`
	Config    montecarlo.Config `json:"config"`
	Positions []float64         `json:"positions"`
}

// MonteCarloRing is monte-carlo-var's handler.
var MonteCarloRing = fold.Spec[*riskv1.MonteCarloVarInput, *riskv1.MonteCarloVarOutput, MonteCarloState]{
	Configure: func(ctx context.Context, in *riskv1.MonteCarloVarInput) (*MonteCarloState, error) {
		if len(in.GetPositions()) > 0 || len(in.GetPositionIndexes()) > 0 {
			return nil, kerr.Invalid("positions", "is data: send positions in data messages, not in Configure")
		}
		n := len(in.GetVolatilities())
		probe := proto.Clone(in).(*riskv1.MonteCarloVarInput)
		probe.Positions = make([]float64, n)
		job, err := MonteCarloVaR.Prepare(ctx, probe) // Batch's checks, for n zero positions
		if err != nil {
			return nil, err
		}
		return &MonteCarloState{Mu: job.Portfolio.ExpectedReturns, Sigma: job.Portfolio.Volatilities, Chol: job.Portfolio.Chol,
			Config: job.Config, Positions: probe.Positions}, nil
	},
	Apply: func(_ fold.Context, s *MonteCarloState, in *riskv1.MonteCarloVarInput) error {
		if p := monteCarloParam(in); p != "" {
			return kerr.Invalid(p, "is a parameter: set it with Configure (before the first data message or after Reset)")
		}
		idx, err := positionUpdates(len(s.Sigma), in.GetPositions(), in.GetPositionIndexes())
		if err != nil {
			return err
		}
		for k, i := range idx {
			s.Positions[i] = in.GetPositions()[k]
		}
		return nil
	},
	Snapshot: func(ctx context.Context, s *MonteCarloState) (*riskv1.MonteCarloVarOutput, error) {
		if len(s.Sigma) == 0 {
			return nil, kerr.Invalid("positions", "must not be empty")
		}
		res, err := montecarlo.Simulate(ctx, montecarlo.Portfolio{Positions: s.Positions, ExpectedReturns: s.Mu,
			Volatilities: s.Sigma, Chol: s.Chol}, s.Config)
		if err != nil {
			return nil, err
		}
		return MonteCarloOutput(res, s.Config.Paths), nil
	},
	Split: func(in *riskv1.MonteCarloVarInput) (*riskv1.MonteCarloVarInput, []*riskv1.MonteCarloVarInput) {
		cfg := proto.Clone(in).(*riskv1.MonteCarloVarInput)
		cfg.Positions, cfg.PositionIndexes = nil, nil
		return cfg, splitPositions(in.GetPositions(), func(v float64, i int32) *riskv1.MonteCarloVarInput {
			return &riskv1.MonteCarloVarInput{Positions: []float64{v}, PositionIndexes: []int32{i}}
		})
	},
}

func monteCarloParam(in *riskv1.MonteCarloVarInput) string {
	switch {
	case len(in.GetExpectedReturns()) > 0:
		return "expected_returns"
	case len(in.GetVolatilities()) > 0:
		return "volatilities"
	case len(in.GetCorrelation()) > 0:
		return "correlation"
	case in.ConfidenceLevel != nil:
		return "confidence_level"
	case in.HoldingPeriodDays != nil:
		return "holding_period_days"
	case in.NSimulations != nil:
		return "n_simulations"
	case in.GetSeed() != 0:
		return "seed"
	}
	return ""
}
