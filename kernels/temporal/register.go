// Package temporal registers the time-series kernels (temporal/*): it maps
// the generated proto inputs of proto/gokernels/kernels/temporal/v1 to the
// algorithm packages below this directory, applies the documented defaults,
// checks cross-field rules and server limits, and builds the outputs.
//
// Two of them are also Ring kernels. anomaly-detection with a window is an
// online detector whose ring state is O(window) (AnomalyState); without
// one it keeps the series. volatility-analysis keeps every return: "ewma"
// because its output lists them, "garch" also because its parameters are
// the maximum-likelihood fit over the whole series, which no bounded
// summary of the returns determines, so Snapshot refits over all of them;
// per return it runs the GARCH filter under periodically refitted
// parameters (VolatilityState).
package temporal

import (
	"context"
	"errors"
	"math"
	"strconv"

	temporalv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/temporal/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/temporal/anomaly"
	"github.com/gokernels/gokernels/kernels/temporal/arima"
	"github.com/gokernels/gokernels/kernels/temporal/changepoint"
	"github.com/gokernels/gokernels/kernels/temporal/classical"
	"github.com/gokernels/gokernels/kernels/temporal/lowess"
	"github.com/gokernels/gokernels/kernels/temporal/prophet"
	"github.com/gokernels/gokernels/kernels/temporal/series"
	"github.com/gokernels/gokernels/kernels/temporal/smooth"
	"github.com/gokernels/gokernels/kernels/temporal/stl"
	"github.com/gokernels/gokernels/kernels/temporal/volatility"
)

// Register adds the seven temporal kernels. anomaly-detection and
// volatility-analysis are Ring kernels upstream; they also run as Batch.
func Register(r *registry.Registry) error {
	return errors.Join(
		registry.Register(r, ArimaForecast),
		registry.Register(r, ProphetDecomposition),
		registry.Register(r, ChangepointDetection),
		registry.Register(r, AnomalyDetection),
		registry.Register(r, SeasonalDecomposition),
		registry.Register(r, TrendExtraction),
		registry.Register(r, VolatilityAnalysis),
	)
}

var (
	batchOnly    = []registry.Mode{registry.Batch}
	batchAndRing = []registry.Mode{registry.Batch, registry.Ring}
)

func meta(id, desc string, modes []registry.Mode) registry.Meta {
	return registry.Meta{ID: id, Domain: registry.DomainTemporal, Description: desc, Modes: modes}
}

// withNaN marks output fields that hold NaN where a window is incomplete, as
// pandas and statsmodels do (documented in the protos).
func withNaN(m registry.Meta, fields ...string) registry.Meta { m.NaNOutputs = fields; return m }

// The temporal kernels, each a single-step unit (registry.Direct).
var (
	ArimaForecast = registry.Direct(meta("temporal/arima-forecast",
		"ARIMA(p,d,q) by exact Gaussian MLE (Kalman filter) with forecasts and prediction intervals "+
			"(equals statsmodels ARIMA(...).fit()).", batchOnly), arimaForecast)
	ProphetDecomposition = registry.Direct(meta("temporal/prophet-decomposition",
		"Piecewise-linear trend with changepoints plus Fourier seasonality by least squares; "+
			"trend, seasonal, residual and forecast.", batchOnly), prophetDecomposition)
	ChangepointDetection = registry.Direct(meta("temporal/changepoint-detection",
		"Change points by PELT (exact penalised optimum), binary segmentation or CUSUM.", batchOnly), changepointDetection)
	AnomalyDetection = withRing(registry.Direct(meta("temporal/anomaly-detection",
		"Anomalies by z-score, IQR fences or generalized ESD (equals scipy.stats references).", batchAndRing), anomalyDetection),
		AnomalyRing.New)
	SeasonalDecomposition = registry.Direct(withNaN(meta("temporal/seasonal-decomposition",
		"Classical or STL seasonal decomposition (equals statsmodels seasonal_decompose / STL).", batchOnly),
		"trend", "residual"), seasonalDecomposition)
	TrendExtraction = registry.Direct(withNaN(meta("temporal/trend-extraction",
		"Trend by simple, centred or exponential moving average or LOWESS (equals pandas rolling/ewm, statsmodels lowess).",
		batchOnly), "trend", "residual"), trendExtraction)
	VolatilityAnalysis = withRing(registry.Direct(meta("temporal/volatility-analysis",
		"Conditional volatility by RiskMetrics EWMA or GARCH(1,1) maximum likelihood.", batchAndRing), volatilityAnalysis),
		VolatilityRing.New)
)

// ---------------------------------------------------------------- ARIMA

func arimaForecast(ctx context.Context, in *temporalv1.ArimaForecastInput) (*temporalv1.ArimaForecastOutput, error) {
	y := in.GetValues()
	if err := series.Check(ctx, y, in.GetTimestamps()); err != nil {
		return nil, err
	}
	o := arima.Order{P: int(in.GetP()), D: int(in.GetD()), Q: int(in.GetQ())}
	o.Mean = registry.Or(in.IncludeMean, o.D == 0)
	if o.Mean && o.D > 0 {
		return nil, kerr.Invalid("include_mean", "a mean needs d = 0 (statsmodels rejects trend \"c\" with differencing)")
	}
	if len(y) < o.MinLength() {
		return nil, kerr.Invalid("values", "has %d points; ARIMA(%d,%d,%d) needs at least %d", len(y), o.P, o.D, o.Q, o.MinLength())
	}
	horizon := int(registry.Or(in.Horizon, 10))
	alpha := registry.Or(in.Alpha, 0.05)
	m, err := arima.Fit(ctx, y, o)
	switch {
	case errors.Is(err, arima.ErrDegenerate):
		return nil, kerr.Invalid("values", "the differenced series has no variation to fit")
	case err != nil:
		return nil, err
	}
	mean, se, lo, hi := m.Forecast(horizon, alpha)
	return &temporalv1.ArimaForecastOutput{
		Ar: m.AR, Ma: m.MA, Intercept: m.Mu, Sigma2: m.Sigma2,
		Fitted: m.Fitted, Residuals: m.Resid,
		Forecast: mean, ForecastLower: lo, ForecastUpper: hi, ForecastSe: se,
		LogLikelihood: m.LogLik, Aic: m.AIC(), Bic: m.BIC(),
		Converged: m.Converged, Iterations: int32(m.Iter),
	}, nil
}

// ---------------------------------------------------------------- Prophet-style

func prophetDecomposition(ctx context.Context, in *temporalv1.ProphetDecompositionInput) (*temporalv1.ProphetDecompositionOutput, error) {
	y := in.GetValues()
	if err := series.Check(ctx, y, in.GetTimestamps()); err != nil {
		return nil, err
	}
	periods := in.GetSeasonalPeriods()
	if len(periods) == 0 {
		if p, ok := series.PeriodFromFrequency(in.GetFrequency()); ok && p > 1 {
			periods = []float64{float64(p)}
		}
	}
	orders := in.GetFourierOrders()
	if len(orders) > 0 && len(orders) != len(periods) {
		return nil, kerr.Invalid("fourier_orders", "has %d entries for %d seasonal periods", len(orders), len(periods))
	}
	p := prophet.Params{
		NChangepoints:    int(registry.Or(in.NChangepoints, 10)),
		ChangepointRange: registry.Or(in.ChangepointRange, 0.8),
		Horizon:          int(registry.Or(in.Horizon, 0)),
	}
	for i, per := range periods {
		order := 3
		if len(orders) > 0 {
			order = int(orders[i])
		}
		p.Seasonalities = append(p.Seasonalities, prophet.Seasonality{Period: per, Order: order})
	}
	lim := limits.From(ctx)
	if err := limits.Check("horizon", p.Horizon, lim.MaxSeriesLength); err != nil {
		return nil, err
	}
	if cols := prophet.Columns(len(y), p); len(y)*cols > lim.MaxCells {
		return nil, kerr.Invalid("values", "%d points x %d design columns exceeds the server limit of %d cells",
			len(y), cols, lim.MaxCells)
	}
	res, err := prophet.Fit(ctx, series.Axis(len(y), in.GetTimestamps()), y, p)
	if err != nil {
		return nil, err
	}
	return &temporalv1.ProphetDecompositionOutput{
		Trend: res.Trend, Seasonal: res.Seasonal, Residual: res.Residual,
		Forecast: res.Forecast, ForecastTrend: res.ForecastTrend, ForecastTimestamps: res.ForecastTimes,
		Changepoints: res.Changepoints, Deltas: res.Deltas,
		GrowthRate: res.GrowthRate, Offset: res.Offset,
		SeasonalCoefficients: res.SeasonalCoefficients, Rss: res.RSS,
	}, nil
}

// ---------------------------------------------------------------- change points

func changepointDetection(ctx context.Context, in *temporalv1.ChangepointDetectionInput) (*temporalv1.ChangepointDetectionOutput, error) {
	y := in.GetValues()
	if err := series.Check(ctx, y, in.GetTimestamps()); err != nil {
		return nil, err
	}
	kind := changepoint.L2
	if in.GetCost() == "normal" {
		kind = changepoint.Normal
	}
	method := in.GetMethod()
	if method == "cusum" && kind == changepoint.Normal {
		return nil, kerr.Invalid("cost", "the cusum method detects mean changes and takes only the l2 cost")
	}
	minSeg := int(registry.Or(in.MinSegment, 2))
	if kind == changepoint.Normal && minSeg < 2 {
		return nil, kerr.Invalid("min_segment", "must be at least 2 for the normal cost (a variance needs two points)")
	}
	penalty := registry.Or(in.Penalty, changepoint.DefaultPenalty(y, kind))
	maxCP := int(in.GetMaxChangepoints())
	var cps []int
	var err error
	switch method {
	case "binseg":
		cps, err = changepoint.BinSeg(ctx, y, kind, penalty, minSeg, maxCP)
	case "cusum":
		cps, err = changepoint.CUSUM(ctx, y, penalty, minSeg, maxCP)
	default:
		cps, err = changepoint.PELT(ctx, y, kind, penalty, minSeg)
	}
	if err != nil {
		return nil, err
	}
	s := changepoint.Summarize(y, cps, kind, penalty)
	return &temporalv1.ChangepointDetectionOutput{
		ChangePoints: int32s(cps), SegmentMeans: s.Means, SegmentVariances: s.Variances,
		Cost: s.Cost, PenalizedCost: s.Penalized, Penalty: penalty,
	}, nil
}

// ---------------------------------------------------------------- anomalies

func anomalyDetection(ctx context.Context, in *temporalv1.AnomalyDetectionInput) (*temporalv1.AnomalyDetectionOutput, error) {
	y := in.GetValues()
	if err := series.Check(ctx, y, in.GetTimestamps()); err != nil {
		return nil, err
	}
	if in.GetWindow() > 0 {
		r, err := newRolling(ctx, in)
		if err != nil {
			return nil, err
		}
		if r.Method == "iqr" {
			// Each point moves up to W sorted values: bound the work.
			if cells := len(y) * min(r.W, len(y)); cells/100 > limits.From(ctx).MaxCells {
				return nil, kerr.Invalid("window", "%d points x a window of %d exceeds the server limit of %d cells x 100 "+
					"for the windowed IQR", len(y), r.W, limits.From(ctx).MaxCells)
			}
		}
		for i, x := range y {
			if i&0xfff == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			r.Push(x)
		}
		return rollingOutput(r), nil
	}
	var res anomaly.Result
	switch in.GetMethod() {
	case "iqr":
		res = anomaly.IQR(y, registry.Or(in.IqrMultiplier, 1.5))
	case "esd":
		n := len(y)
		if n < 3 {
			return nil, kerr.Invalid("values", "has %d points; the generalized ESD test needs at least 3", n)
		}
		r := min(max(1, n/10), n-2)
		if in.MaxAnomalies != nil {
			r = int(*in.MaxAnomalies)
			if r > n-2 {
				return nil, kerr.Invalid("max_anomalies", "is %d; at most n - 2 = %d for %d points", r, n-2, n)
			}
		}
		var err error
		if res, err = anomaly.ESD(ctx, y, registry.Or(in.Alpha, 0.05), r); err != nil {
			return nil, err
		}
	default:
		res = anomaly.ZScore(y, registry.Or(in.Threshold, 3))
	}
	return &temporalv1.AnomalyDetectionOutput{
		AnomalyIndices: int32s(res.Indices), Scores: res.Scores,
		LowerBound: res.Lower, UpperBound: res.Upper,
		EsdCandidates: int32s(res.Candidates), EsdStatistics: res.Statistics, EsdCriticalValues: res.Critical,
	}, nil
}

// newRolling validates the parameters of a windowed (window > 0)
// anomaly detection and returns its empty detector (Batch and the ring's
// Configure).
func newRolling(ctx context.Context, in *temporalv1.AnomalyDetectionInput) (*anomaly.Rolling, error) {
	w := int(in.GetWindow())
	if err := limits.Check("window", w, limits.From(ctx).MaxSeriesLength); err != nil {
		return nil, err
	}
	switch in.GetMethod() {
	case "iqr":
		return anomaly.NewRolling("iqr", w, registry.Or(in.IqrMultiplier, 1.5)), nil
	case "esd":
		return nil, kerr.Invalid("window", "applies to the zscore and iqr methods; the generalized ESD test has no causal windowed form")
	}
	return anomaly.NewRolling("zscore", w, registry.Or(in.Threshold, 3)), nil
}

// rollingOutput is a windowed detection's output: the detector after its
// last point (Batch and the ring's Snapshot).
func rollingOutput(r *anomaly.Rolling) *temporalv1.AnomalyDetectionOutput {
	start, scores, anomalies := r.Trailing()
	out := &temporalv1.AnomalyDetectionOutput{AnomalyIndices: int32s(anomalies), Scores: scores,
		ScoresStart: int32(start), AnomalyCount: int32(r.Count)}
	out.LowerBound, out.UpperBound, _ = r.Bounds()
	return out
}

// ---------------------------------------------------------------- seasonal decomposition

func seasonalDecomposition(ctx context.Context, in *temporalv1.SeasonalDecompositionInput) (*temporalv1.SeasonalDecompositionOutput, error) {
	y := in.GetValues()
	if err := series.Check(ctx, y, in.GetTimestamps()); err != nil {
		return nil, err
	}
	n := len(y)
	period := int(in.GetPeriod())
	if in.Period == nil {
		p, ok := series.PeriodFromFrequency(in.GetFrequency())
		if !ok || p < 2 {
			return nil, kerr.Invalid("period", "is required: frequency %q gives no seasonal period", in.GetFrequency())
		}
		period = p
	}
	if in.GetMethod() == "stl" {
		return stlDecomposition(ctx, in, y, period)
	}
	if n < 2*period {
		return nil, kerr.Invalid("values", "has %d points; classical decomposition needs 2 full periods (%d)", n, 2*period)
	}
	mult := in.GetModel() == "multiplicative"
	if mult {
		for i, v := range y {
			if !(v > 0) {
				return nil, kerr.Invalid(indexed("values", i), "must be positive for the multiplicative model")
			}
		}
	}
	ext := int(registry.Or(in.ExtrapolateTrend, int32(period-1)))
	res, err := classical.Decompose(ctx, y, period, mult, registry.Or(in.TwoSided, true), ext)
	if err != nil {
		return nil, err
	}
	return &temporalv1.SeasonalDecompositionOutput{
		Trend: res.Trend, Seasonal: res.Seasonal, Residual: res.Residual, Period: int32(period),
	}, nil
}

func stlDecomposition(ctx context.Context, in *temporalv1.SeasonalDecompositionInput, y []float64, period int) (*temporalv1.SeasonalDecompositionOutput, error) {
	if len(y) <= period {
		return nil, kerr.Invalid("values", "has %d points; STL needs more than one period (%d)", len(y), period)
	}
	seasonal := int(registry.Or(in.Seasonal, 7))
	p := stl.Params{
		Period:      period,
		Seasonal:    seasonal,
		Trend:       int(registry.Or(in.Trend, int32(stl.DefaultTrend(period, seasonal)))),
		LowPass:     int(registry.Or(in.LowPass, int32(stl.DefaultLowPass(period)))),
		SeasonalDeg: int(registry.Or(in.SeasonalDeg, 1)), TrendDeg: int(registry.Or(in.TrendDeg, 1)),
		LowPassDeg:   int(registry.Or(in.LowPassDeg, 1)),
		SeasonalJump: int(registry.Or(in.SeasonalJump, 1)), TrendJump: int(registry.Or(in.TrendJump, 1)),
		LowPassJump: int(registry.Or(in.LowPassJump, 1)),
		Robust:      in.GetRobust(),
	}
	inner, outer := 5, 0
	if p.Robust {
		inner, outer = 2, 15
	}
	p.InnerIter = int(registry.Or(in.InnerIter, int32(inner)))
	p.OuterIter = int(registry.Or(in.OuterIter, int32(outer)))
	// statsmodels' rules: odd windows >= 3, trend and low-pass longer than
	// the period.
	for _, w := range []struct {
		field      string
		v          int
		overPeriod bool
	}{{"seasonal", p.Seasonal, false}, {"trend", p.Trend, true}, {"low_pass", p.LowPass, true}} {
		switch {
		case w.v%2 == 0:
			return nil, kerr.Invalid(w.field, "must be odd, got %d", w.v)
		case w.overPeriod && w.v <= period:
			return nil, kerr.Invalid(w.field, "must be greater than the period (%d), got %d", period, w.v)
		}
	}
	res, err := stl.Decompose(ctx, y, p)
	if err != nil {
		return nil, err
	}
	return &temporalv1.SeasonalDecompositionOutput{
		Trend: res.Trend, Seasonal: res.Seasonal, Residual: res.Residual, Weights: res.Weights, Period: int32(period),
	}, nil
}

// ---------------------------------------------------------------- trend extraction

func trendExtraction(ctx context.Context, in *temporalv1.TrendExtractionInput) (*temporalv1.TrendExtractionOutput, error) {
	y := in.GetValues()
	if err := series.Check(ctx, y, in.GetTimestamps()); err != nil {
		return nil, err
	}
	window := int(registry.Or(in.Window, 10))
	if in.Window == nil {
		window = min(window, len(y))
	}
	minPeriods := int(registry.Or(in.MinPeriods, 1))
	if minPeriods > window {
		return nil, kerr.Invalid("min_periods", "is %d; at most the window (%d)", minPeriods, window)
	}
	var trend []float64
	switch in.GetMethod() {
	case "cma":
		trend = smooth.Rolling(y, window, minPeriods, true)
	case "ema":
		alpha := registry.Or(in.Alpha, 2/(float64(window)+1))
		trend = smooth.EWM(y, alpha, registry.Or(in.Adjust, true))
	case "lowess":
		x := series.Axis(len(y), in.GetTimestamps())
		var err error
		trend, err = lowess.Smooth(ctx, x, y, registry.Or(in.Frac, 2.0/3), int(registry.Or(in.Iterations, 3)), in.GetDelta())
		if err != nil {
			return nil, err
		}
	default:
		trend = smooth.Rolling(y, window, minPeriods, false)
	}
	resid := make([]float64, len(y))
	for i := range y {
		resid[i] = y[i] - trend[i]
	}
	return &temporalv1.TrendExtractionOutput{Trend: trend, Residual: resid}, nil
}

// ---------------------------------------------------------------- volatility

func volatilityAnalysis(ctx context.Context, in *temporalv1.VolatilityAnalysisInput) (*temporalv1.VolatilityAnalysisOutput, error) {
	v := in.GetValues()
	if err := series.Check(ctx, v, in.GetTimestamps()); err != nil {
		return nil, err
	}
	r := v
	if in.GetValuesArePrices() {
		for i, p := range v {
			if !(p > 0) {
				return nil, kerr.Invalid(indexed("values", i), "must be positive when values_are_prices")
			}
		}
		r = volatility.LogReturns(v)
	}
	horizon := int(registry.Or(in.Horizon, 10))
	if in.GetMethod() == "garch" {
		return garchOutput(ctx, r, registry.Or(in.IncludeMean, true), horizon)
	}
	lambda := registry.Or(in.Lambda, 0.94)
	e := volatility.EWMA(r, lambda)
	return ewmaOutput(r, e.Variance, e.LogLik, lambda, horizon), nil
}

// garchOutput fits GARCH(1,1) to the returns r (Batch and the ring's
// Snapshot).
func garchOutput(ctx context.Context, r []float64, includeMean bool, horizon int) (*temporalv1.VolatilityAnalysisOutput, error) {
	if len(r) < 3 {
		return nil, kerr.Invalid("values", "gives %d returns; GARCH(1,1) needs at least 3", len(r))
	}
	g, err := volatility.GARCH(ctx, r, includeMean)
	switch {
	case errors.Is(err, volatility.ErrNoVariation):
		return nil, kerr.Invalid("values", "the returns have no variation")
	case err != nil:
		return nil, err
	}
	out := &temporalv1.VolatilityAnalysisOutput{Returns: r}
	out.Variance, out.LogLikelihood = g.Variance, g.LogLik
	out.Omega, out.Alpha, out.Beta, out.Mu = g.Omega, g.Alpha, g.Beta, g.Mu
	out.Persistence = g.Alpha + g.Beta
	out.LongRunVariance = g.Omega / (1 - g.Alpha - g.Beta)
	fc := g.Forecast(r, horizon)
	out.Volatility = sqrtAll(out.Variance)
	out.ForecastVariance = fc
	out.ForecastVolatility = sqrtAll(fc)
	return out, nil
}

// ewmaOutput renders an EWMA over the returns r: its variances s_t and
// log-likelihood (Batch and the ring's Snapshot).
func ewmaOutput(r, variance []float64, logLik, lambda float64, horizon int) *temporalv1.VolatilityAnalysisOutput {
	out := &temporalv1.VolatilityAnalysisOutput{Returns: r, Variance: variance, LogLikelihood: logLik, Lambda: lambda}
	fc := make([]float64, horizon)
	for i := range fc {
		fc[i] = variance[len(r)-1]
	}
	out.Volatility = sqrtAll(out.Variance)
	out.ForecastVariance = fc
	out.ForecastVolatility = sqrtAll(fc)
	return out
}

func sqrtAll(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = math.Sqrt(v)
	}
	return out
}

func int32s(x []int) []int32 {
	out := make([]int32, len(x))
	for i, v := range x {
		out[i] = int32(v)
	}
	return out
}

func indexed(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}
