// Anomaly-detection kernels (proto/gokernels/kernels/ml/v1/anomaly.proto).

package ml

import (
	"context"
	"errors"
	"fmt"
	"math"

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/ml/contamination"
	"github.com/gokernels/gokernels/kernels/ml/iforest"
	"github.com/gokernels/gokernels/kernels/ml/lof"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
	"github.com/gokernels/gokernels/kernels/ml/streamforest"
	"github.com/gokernels/gokernels/kernels/ml/threshold"
	"github.com/gokernels/gokernels/kernels/registry"
)

// outlierThreshold is the fixed "auto" cut or, with a contamination, the
// percentile cut sklearn uses (offset_).
func outlierThreshold(scores []float64, c *float64, auto float64) float64 {
	if c == nil {
		return auto
	}
	return contamination.Threshold(scores, *c)
}

// IsolationForest is ml/isolation-forest.
var IsolationForest = registry.Direct(registry.Meta{ID: "ml/isolation-forest", Domain: registry.DomainML,
	Description: "Isolation forest anomaly scores in (0, 1) and labels (Liu et al. 2008, as sklearn IsolationForest)."}, isolationForest)

func isolationForest(ctx context.Context, in *mlv1.IsolationForestInput) (*mlv1.IsolationForestOutput, error) {
	m, err := matrix.FromRequest(ctx, in.GetData(), in.GetNSamples(), in.GetNFeatures())
	if err != nil {
		return nil, err
	}
	p := iforest.Params{
		NEstimators: int(registry.Or(in.NEstimators, 100)),
		MaxSamples:  int(registry.Or(in.MaxSamples, 256)),
		Seed:        seedBits(in.GetSeed()),
	}
	if err := atLeast("n_estimators", p.NEstimators, 1); err != nil {
		return nil, err
	}
	if err := limits.Check("n_estimators", p.NEstimators, 10000); err != nil {
		return nil, err
	}
	f, err := iforest.Fit(ctx, m, p)
	if err != nil {
		return nil, err
	}
	scores, err := f.Score(ctx, m)
	if err != nil {
		return nil, err
	}
	thr := outlierThreshold(scores, in.Contamination, 0.5)
	return &mlv1.IsolationForestOutput{Scores: scores, Labels: contamination.Labels(scores, thr), Threshold: thr}, nil
}

// LocalOutlierFactor is ml/local-outlier-factor.
var LocalOutlierFactor = registry.Direct(registry.Meta{ID: "ml/local-outlier-factor", Domain: registry.DomainML,
	Description: "Local Outlier Factor with a k-d tree (equals sklearn LocalOutlierFactor)."}, localOutlierFactor)

func localOutlierFactor(ctx context.Context, in *mlv1.LocalOutlierFactorInput) (*mlv1.LocalOutlierFactorOutput, error) {
	m, err := matrix.FromRequest(ctx, in.GetData(), in.GetNSamples(), in.GetNFeatures())
	if err != nil {
		return nil, err
	}
	if m.Rows < 2 {
		return nil, kerr.Invalid("n_samples", "LOF needs at least 2 samples")
	}
	metric, err := parseMetric(in.GetMetric())
	if err != nil {
		return nil, err
	}
	k := lof.EffectiveK(int(registry.Or(in.NNeighbors, 20)), m.Rows)
	// The neighbour lists hold n·k entries.
	if err := limits.Check("n_neighbors", m.Rows*k, limits.From(ctx).MaxCells); err != nil {
		return nil, err
	}
	res, err := lof.Run(ctx, m, k, metric)
	if err != nil {
		return nil, err
	}
	thr := outlierThreshold(res.LOF, in.Contamination, 1.5)
	return &mlv1.LocalOutlierFactorOutput{
		Lof:        res.LOF,
		Labels:     contamination.Labels(res.LOF, thr),
		Threshold:  thr,
		NNeighbors: int32(res.K),
	}, nil
}

// StreamingIsolationForest is ml/streaming-isolation-forest.
var StreamingIsolationForest = registry.Direct(registry.Meta{ID: "ml/streaming-isolation-forest", Domain: registry.DomainML,
	Description: "Isolation forests refitted on a sliding window over a stream of samples."}, streamingIsolationForest)

func streamingIsolationForest(ctx context.Context, in *mlv1.StreamingIsolationForestInput) (*mlv1.StreamingIsolationForestOutput, error) {
	m, err := matrix.FromRequest(ctx, in.GetData(), in.GetNSamples(), in.GetNFeatures())
	if err != nil {
		return nil, err
	}
	w := int(registry.Or(in.WindowSize, 256))
	p := streamforest.Params{
		Window:        w,
		RefitInterval: int(registry.Or(in.RefitInterval, int32(w))),
		Forest: iforest.Params{
			NEstimators: int(registry.Or(in.NEstimators, 100)),
			MaxSamples:  int(registry.Or(in.MaxSamples, 256)),
			Seed:        seedBits(in.GetSeed()),
		},
	}
	if err := errors.Join(atLeast("window_size", w, 1), atLeast("refit_interval", p.RefitInterval, 1),
		atLeast("n_estimators", p.Forest.NEstimators, 1)); err != nil {
		return nil, err
	}
	models := 1
	if m.Rows > w {
		models += (m.Rows - w + p.RefitInterval - 1) / p.RefitInterval
	}
	// Every model grows n_estimators trees: bound the total.
	if lim := limits.From(ctx).MaxIterations; models*p.Forest.NEstimators > lim {
		return nil, kerr.Invalid("refit_interval", "gives %d models × %d trees, above the server limit of %d trees",
			models, p.Forest.NEstimators, lim)
	}
	res, err := streamforest.Run(ctx, m, p)
	if err != nil {
		return nil, err
	}
	thr := registry.Or(in.Threshold, 0.5)
	return &mlv1.StreamingIsolationForestOutput{
		Scores:      res.Scores,
		Labels:      contamination.Labels(res.Scores, thr),
		ModelStarts: res.ModelStarts,
	}, nil
}

// AdaptiveThreshold is ml/adaptive-threshold.
var AdaptiveThreshold = registry.Direct(registry.Meta{ID: "ml/adaptive-threshold", Domain: registry.DomainML,
	Description: "Rolling mean/std or median/MAD anomaly thresholds with drift-triggered baseline resets."}, adaptiveThreshold)

func adaptiveThreshold(ctx context.Context, in *mlv1.AdaptiveThresholdInput) (*mlv1.AdaptiveThresholdOutput, error) {
	xs := in.GetValues()
	if len(xs) == 0 {
		return nil, kerr.Invalid("values", "must not be empty")
	}
	if err := limits.Check("values", len(xs), limits.From(ctx).MaxSeriesLength); err != nil {
		return nil, err
	}
	for i, v := range xs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, kerr.Invalid(fmt.Sprintf("values[%d]", i), "must be finite")
		}
	}
	w := int(registry.Or(in.WindowSize, 100))
	p := threshold.Params{
		Window:        w,
		MinHistory:    int(registry.Or(in.MinHistory, int32(min(10, w)))),
		K:             registry.Or(in.K, 3),
		TwoSided:      in.GetTwoSided(),
		DriftPatience: int(registry.Or(in.DriftPatience, 5)),
	}
	if err := errors.Join(atLeast("window_size", w, 1), atLeast("min_history", p.MinHistory, 1),
		atLeast("drift_patience", p.DriftPatience, 0)); err != nil {
		return nil, err
	}
	if err := limits.Check("window_size", w, 100000); err != nil {
		return nil, err
	}
	if !(p.K >= 0) || math.IsInf(p.K, 0) {
		return nil, kerr.Invalid("k", "must be finite and at least 0")
	}
	if p.MinHistory > w {
		return nil, kerr.Invalid("min_history", "is %d, above window_size %d", p.MinHistory, w)
	}
	if in.GetMethod() == "median_mad" {
		p.Method = threshold.MedianMAD
	}
	res, err := threshold.Run(ctx, xs, p)
	if err != nil {
		return nil, err
	}
	drift := res.Drift
	if drift == nil {
		drift = []int32{}
	}
	return &mlv1.AdaptiveThresholdOutput{
		IsAnomaly:    res.Anomaly,
		Warmup:       res.Warmup,
		Upper:        res.Upper,
		Lower:        res.Lower,
		Center:       res.Centre,
		Spread:       res.Spread,
		DriftIndices: drift,
	}, nil
}
