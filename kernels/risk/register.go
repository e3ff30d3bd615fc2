// Package risk registers the RiskAnalytics kernels: the glue between the
// proto contracts in proto/gokernels/kernels/risk/v1 and the algorithms in
// the sub-packages. It applies defaults, checks the server's problem-size
// limits before anything proportional to them is allocated, and reports
// cross-field problems with the request's field names.
package risk

import (
	"context"
	"errors"

	riskv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/risk/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/risk/correlation"
	"github.com/gokernels/gokernels/kernels/risk/corrmat"
	"github.com/gokernels/gokernels/kernels/risk/credit"
	"github.com/gokernels/gokernels/kernels/risk/montecarlo"
	"github.com/gokernels/gokernels/kernels/risk/parametric"
	"github.com/gokernels/gokernels/kernels/risk/stress"
)

// Defaults of the optional request fields (stated in the proto comments).
const (
	defaultConfidence  = 0.99
	defaultHoldingDays = 1.0
	defaultPaths       = 100_000
	defaultBaseScore   = 600.0
	defaultBaseOdds    = 50.0
	defaultPDO         = 20.0
)

// Register adds the five risk kernels to r.
func Register(r *registry.Registry) error {
	return errors.Join(
		registry.Register(r, CreditScoring),
		registry.Register(r, MonteCarloVaR),
		registry.Register(r, PortfolioAggregation),
		registry.Register(r, RealtimeCorrelation),
		registry.Register(r, StressTesting),
		r.AddRing(PortfolioAggregation.ID, PortfolioRing.New),
		r.AddRing(MonteCarloVaR.ID, MonteCarloRing.New),
		r.AddRing(CreditScoring.ID, CreditRing.New),
	)
}

// batchAndRing are the modes of kernels that also run as Ring actors.
var batchAndRing = []registry.Mode{registry.Batch, registry.Ring}

func riskMeta(id, desc string, modes []registry.Mode) registry.Meta {
	return registry.Meta{ID: id, Domain: registry.DomainRisk, Description: desc, Modes: modes}
}

// Single-step risk kernels (registry.Direct).
var (
	CreditScoring = registry.Direct(riskMeta("risk/credit-scoring",
		"Logistic PD model, scorecard points and expected loss PD×LGD×EAD per exposure and in total "+
			"(PD equals sklearn LogisticRegression.predict_proba).", batchAndRing), creditScoring)
	PortfolioAggregation = registry.Direct(riskMeta("risk/portfolio-aggregation",
		"Parametric (delta-normal) portfolio VaR with marginal and component VaR.", batchAndRing), portfolioAggregation)
	StressTesting = registry.Direct(riskMeta("risk/stress-testing",
		"Scenario stress test with a delta-gamma-vega-theta-rho expansion: P&L per scenario, asset and factor.",
		[]registry.Mode{registry.Batch}), stressTesting)
)

func creditScoring(ctx context.Context, in *riskv1.CreditScoringInput) (*riskv1.CreditScoringOutput, error) {
	if len(in.GetExposureIndexes()) > 0 {
		return nil, kerr.Invalid("exposure_indexes", "replaces exposures in ring data messages only; a Batch input gives every exposure")
	}
	lim := limits.From(ctx)
	n, k := int(in.GetNExposures()), int(in.GetNFeatures())
	if err := errors.Join(
		limits.Check("n_exposures", n, lim.MaxSamples),
		limits.Check("n_features", k, lim.MaxFeatures),
		limits.Check("features", n*k, lim.MaxCells),
	); err != nil {
		return nil, kerr.First(err)
	}
	switch {
	case len(in.GetCoefficients()) != k:
		return nil, kerr.Invalid("coefficients", "has %d values, want n_features = %d", len(in.GetCoefficients()), k)
	case len(in.GetFeatures()) != n*k:
		return nil, kerr.Invalid("features", "has %d values, want n_exposures × n_features = %d", len(in.GetFeatures()), n*k)
	case len(in.GetLgd()) != n:
		return nil, kerr.Invalid("lgd", "has %d values, want n_exposures = %d", len(in.GetLgd()), n)
	case len(in.GetEad()) != n:
		return nil, kerr.Invalid("ead", "has %d values, want n_exposures = %d", len(in.GetEad()), n)
	}
	res, err := credit.Score(ctx,
		credit.Model{Intercept: in.GetIntercept(), Coefficients: in.GetCoefficients(), PDFloor: in.GetPdFloor()},
		credit.Scale{
			BaseScore: registry.Or(in.BaseScore, defaultBaseScore),
			BaseOdds:  registry.Or(in.BaseOdds, defaultBaseOdds),
			PDO:       registry.Or(in.PointsToDoubleOdds, defaultPDO),
		},
		credit.Portfolio{Features: in.GetFeatures(), LGD: in.GetLgd(), EAD: in.GetEad()})
	if err != nil {
		return nil, err
	}
	return &riskv1.CreditScoringOutput{
		LogOdds:           res.LogOdds,
		Pd:                res.PD,
		Score:             res.Points,
		ExpectedLoss:      res.ExpectedLoss,
		TotalExpectedLoss: res.TotalEL,
		TotalEad:          res.TotalEAD,
		ExpectedLossRate:  res.ELRate,
		EadWeightedPd:     res.WeightedPD,
	}, nil
}

// MonteCarloVaR is risk/monte-carlo-var.
var MonteCarloVaR = registry.Def[*riskv1.MonteCarloVarInput, *riskv1.MonteCarloVarOutput, MonteCarloJob]{
	Meta: registry.Meta{ID: "risk/monte-carlo-var", Domain: registry.DomainRisk, Modes: batchAndRing,
		Description: "Monte Carlo VaR, expected shortfall and component ES of correlated normal returns " +
			"(Philox4x64-10 paths, reproducible in numpy)."},
	Prepare: func(ctx context.Context, in *riskv1.MonteCarloVarInput) (MonteCarloJob, error) {
		if len(in.GetPositionIndexes()) > 0 {
			return MonteCarloJob{}, kerr.Invalid("position_indexes", "updates positions in ring data messages only; a Batch input gives every position")
		}
		lim := limits.From(ctx)
		n := len(in.GetPositions())
		paths := int(MonteCarloPaths(in))
		if err := limits.Check("positions", n, lim.MaxAllPairsN); err != nil {
			return MonteCarloJob{}, err
		}
		if paths*n > lim.MaxSimulations {
			return MonteCarloJob{}, kerr.Invalid("n_simulations", "n_simulations × positions = %d exceeds the server limit of %d", paths*n, lim.MaxSimulations)
		}
		if err := vectorLengths(n, in.GetVolatilities(), in.GetExpectedReturns()); err != nil {
			return MonteCarloJob{}, err
		}
		chol, err := choleskyOrIdentity(ctx, in.GetCorrelation(), n)
		if err != nil {
			return MonteCarloJob{}, err
		}
		var mu []float64
		if len(in.GetExpectedReturns()) > 0 {
			mu = in.GetExpectedReturns()
		}
		return MonteCarloJob{
			Portfolio: montecarlo.Portfolio{Positions: in.GetPositions(), ExpectedReturns: mu, Volatilities: in.GetVolatilities(), Chol: chol},
			Config: montecarlo.Config{
				Confidence:  registry.Or(in.ConfidenceLevel, defaultConfidence),
				HoldingDays: registry.Or(in.HoldingPeriodDays, defaultHoldingDays),
				Paths:       paths,
				Seed:        in.GetSeed(),
			},
		}, nil
	},
	CPU: func(ctx context.Context, j MonteCarloJob) (*riskv1.MonteCarloVarOutput, error) {
		res, err := montecarlo.Simulate(ctx, j.Portfolio, j.Config)
		if err != nil {
			return nil, err
		}
		return MonteCarloOutput(res, j.Config.Paths), nil
	},
}

// MonteCarloJob is Monte Carlo VaR's working form: the portfolio with its
// Cholesky factor, and the simulation settings with defaults applied.
type MonteCarloJob struct {
	Portfolio montecarlo.Portfolio
	Config    montecarlo.Config
}

// MonteCarloPaths is the request's number of paths, default applied (it
// may be out of range on an unvalidated input).
func MonteCarloPaths(in *riskv1.MonteCarloVarInput) int64 {
	return int64(registry.Or(in.NSimulations, defaultPaths))
}

// MonteCarloOutput renders a simulation's result.
func MonteCarloOutput(res *montecarlo.Result, paths int) *riskv1.MonteCarloVarOutput {
	return &riskv1.MonteCarloVarOutput{
		ValueAtRisk:       res.VaR,
		ExpectedShortfall: res.ES,
		MeanPnl:           res.MeanPnL,
		StdPnl:            res.StdPnL,
		TailPaths:         int32(res.TailPaths),
		ComponentEs:       res.ComponentES,
		NSimulations:      int32(paths),
	}
}

func portfolioAggregation(ctx context.Context, in *riskv1.PortfolioAggregationInput) (*riskv1.PortfolioAggregationOutput, error) {
	if len(in.GetPositionIndexes()) > 0 {
		return nil, kerr.Invalid("position_indexes", "updates positions in ring data messages only; a Batch input gives every position")
	}
	c, err := portfolioModel(ctx, in, len(in.GetPositions()))
	if err != nil {
		return nil, err
	}
	res, err := parametric.VaR(ctx, in.GetPositions(), in.GetVolatilities(), c,
		registry.Or(in.ConfidenceLevel, defaultConfidence), registry.Or(in.HoldingPeriodDays, defaultHoldingDays))
	if err != nil {
		return nil, err
	}
	return portfolioOutput(res), nil
}

// portfolioModel checks the risk model of a portfolio of n positions (the
// volatilities and the correlation matrix, which must be PSD) and returns
// the row-major correlation matrix.
func portfolioModel(ctx context.Context, in *riskv1.PortfolioAggregationInput, n int) ([]float64, error) {
	if err := limits.Check("positions", n, limits.From(ctx).MaxAllPairsN); err != nil {
		return nil, err
	}
	if err := vectorLengths(n, in.GetVolatilities(), nil); err != nil {
		return nil, err
	}
	if len(in.GetCorrelation()) == 0 {
		return identity(n), nil
	}
	c, err := corrmat.Flatten("correlation", rowValues(in.GetCorrelation()), n)
	if err != nil {
		return nil, err
	}
	// √(wᵀΣw) and the decomposition are only meaningful for a PSD matrix.
	if _, err := corrmat.Cholesky(ctx, c, n); err != nil {
		return nil, psdError(err)
	}
	return c, nil
}

func portfolioOutput(res *parametric.Result) *riskv1.PortfolioAggregationOutput {
	return &riskv1.PortfolioAggregationOutput{
		ZScore:                 res.Z,
		PortfolioVolatility:    res.PortfolioVolatility,
		ValueAtRisk:            res.VaR,
		MarginalVar:            res.MarginalVaR,
		ComponentVar:           res.ComponentVaR,
		ContributionShare:      res.ContributionShare,
		IndividualVar:          res.IndividualVaR,
		UndiversifiedVar:       res.UndiversifiedVaR,
		DiversificationBenefit: res.DiversificationBenefit,
	}
}

// RealtimeCorrelation is risk/realtime-correlation. Its job is the
// series, one row each, within the server's limits.
var RealtimeCorrelation = registry.Def[*riskv1.RealtimeCorrelationInput, *riskv1.RealtimeCorrelationOutput, [][]float64]{
	Meta: registry.Meta{ID: "risk/realtime-correlation", Domain: registry.DomainRisk, Modes: batchAndRing,
		Description: "Correlation matrix of return series (equals numpy.corrcoef)."},
	Prepare: func(ctx context.Context, in *riskv1.RealtimeCorrelationInput) ([][]float64, error) {
		lim := limits.From(ctx)
		series := rowValues(in.GetSeries())
		n := len(series)
		t := 0
		if n > 0 {
			t = len(series[0])
		}
		if err := errors.Join(
			limits.Check("series", n, lim.MaxAllPairsN),
			limits.Check("series[0]", t, lim.MaxSeriesLength),
			limits.Check("series", n*t, lim.MaxCells),
		); err != nil {
			return nil, kerr.First(err)
		}
		if w := int(in.GetWindow()); in.Window != nil && w < t {
			if w < 2 {
				return nil, kerr.Invalid("window", "must be at least 2, got %d", w)
			}
			cut := make([][]float64, n)
			for i, s := range series {
				cut[i] = s
				if len(s) == t { // a ragged row is left for Centre to report
					cut[i] = s[t-w:]
				}
			}
			series = cut
		}
		return series, nil
	},
	CPU: func(ctx context.Context, series [][]float64) (*riskv1.RealtimeCorrelationOutput, error) {
		res, err := correlation.Matrix(ctx, series)
		if err != nil {
			return nil, err
		}
		return CorrelationOutput(res, series), nil
	},
	Ring: CorrelationRing.New,
}

// CorrelationOutput renders a correlation result over series.
func CorrelationOutput(res *correlation.Result, series [][]float64) *riskv1.RealtimeCorrelationOutput {
	t := 0
	if len(series) > 0 {
		t = len(series[0])
	}
	return correlationOutput(res, t)
}

// correlationOutput renders a result over t observations per series.
func correlationOutput(res *correlation.Result, t int) *riskv1.RealtimeCorrelationOutput {
	n := res.N
	constant := make([]int32, len(res.Constant))
	for i, c := range res.Constant {
		constant[i] = int32(c)
	}
	return &riskv1.RealtimeCorrelationOutput{
		Correlation:    matrixRows(res.Corr, n),
		Means:          res.Means,
		StdDevs:        res.StdDevs,
		ConstantSeries: constant,
		NObservations:  int32(t),
	}
}

func stressTesting(ctx context.Context, in *riskv1.StressTestingInput) (*riskv1.StressTestingOutput, error) {
	lim := limits.From(ctx)
	n, s := len(in.GetValues()), len(in.GetScenarios())
	if err := errors.Join(
		limits.Check("values", n, lim.MaxSamples),
		limits.Check("scenarios", n*s, lim.MaxCells),
	); err != nil {
		return nil, kerr.First(err)
	}
	if len(in.GetAssetIds()) != n {
		return nil, kerr.Invalid("values", "has %d values, want one per asset id (%d)", n, len(in.GetAssetIds()))
	}
	sens := in.GetSensitivities()
	pf := stress.Portfolio{
		AssetIDs: in.GetAssetIds(),
		Values:   in.GetValues(),
		Delta:    nilIfEmpty(sens.GetDelta()),
		Gamma:    nilIfEmpty(sens.GetGamma()),
		Vega:     nilIfEmpty(sens.GetVega()),
		Theta:    nilIfEmpty(sens.GetTheta()),
		Rho:      nilIfEmpty(sens.GetRho()),
	}
	scenarios := make([]stress.Scenario, s)
	for i, sc := range in.GetScenarios() {
		scenarios[i] = stress.Scenario{
			Name:            sc.GetName(),
			Shocks:          sc.GetShocks(),
			DefaultShock:    sc.GetDefaultShock(),
			VolatilityShock: sc.GetVolatilityShock(),
			RateShock:       sc.GetRateShock(),
			HorizonDays:     sc.GetHorizonDays(),
			Probability:     sc.GetProbability(),
		}
	}
	res, err := stress.Run(ctx, pf, scenarios)
	if err != nil {
		return nil, err
	}
	out := &riskv1.StressTestingOutput{
		PreStressValue: res.PreStressValue,
		Scenarios:      make([]*riskv1.ScenarioImpact, len(res.Scenarios)),
		WorstScenario:  int32(res.WorstScenario),
		ExpectedPnl:    res.ExpectedPnL,
	}
	for i, r := range res.Scenarios {
		out.Scenarios[i] = &riskv1.ScenarioImpact{
			Name:            r.Name,
			Pnl:             r.PnL,
			PnlPercent:      r.PnLPercent,
			PostStressValue: r.PostStressValue,
			AssetPnl:        r.AssetPnL,
			FactorPnl: &riskv1.FactorImpact{
				Delta: r.Factors.Delta, Gamma: r.Factors.Gamma, Vega: r.Factors.Vega,
				Theta: r.Factors.Theta, Rho: r.Factors.Rho,
			},
			Probability: r.Probability,
		}
	}
	return out, nil
}

// vectorLengths checks the per-asset vectors against the number of
// positions; expected returns may be empty.
func vectorLengths(n int, volatilities, expectedReturns []float64) error {
	if len(volatilities) != n {
		return kerr.Invalid("volatilities", "has %d values, want %d (one per position)", len(volatilities), n)
	}
	if len(expectedReturns) != 0 && len(expectedReturns) != n {
		return kerr.Invalid("expected_returns", "has %d values, want %d (one per position) or none", len(expectedReturns), n)
	}
	return nil
}

// choleskyOrIdentity validates and factors the request's correlation
// matrix; an empty matrix means uncorrelated assets.
func choleskyOrIdentity(ctx context.Context, rows []*riskv1.Row, n int) ([]float64, error) {
	if len(rows) == 0 {
		return identity(n), nil
	}
	c, err := corrmat.Flatten("correlation", rowValues(rows), n)
	if err != nil {
		return nil, err
	}
	l, err := corrmat.Cholesky(ctx, c, n)
	if err != nil {
		return nil, psdError(err)
	}
	return l, nil
}

func psdError(err error) error {
	var np *corrmat.NotPSDError
	if errors.As(err, &np) {
		return kerr.Invalid("correlation", "%v", np)
	}
	return err
}

func identity(n int) []float64 {
	c := make([]float64, n*n)
	for i := range n {
		c[i*n+i] = 1
	}
	return c
}

func rowValues(rows []*riskv1.Row) [][]float64 {
	out := make([][]float64, len(rows))
	for i, r := range rows {
		out[i] = r.GetValues()
	}
	return out
}

func matrixRows(flat []float64, n int) []*riskv1.Row {
	rows := make([]*riskv1.Row, n)
	for i := range rows {
		rows[i] = &riskv1.Row{Values: flat[i*n : (i+1)*n]}
	}
	return rows
}

func nilIfEmpty(v []float64) []float64 {
	if len(v) == 0 {
		return nil
	}
	return v
}
