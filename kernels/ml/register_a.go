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
	"github.com/gokernels/gokernels/kernels/ml/dbscan"
	"github.com/gokernels/gokernels/kernels/ml/distance"
	"github.com/gokernels/gokernels/kernels/ml/hierarchical"
	"github.com/gokernels/gokernels/kernels/ml/iforest"
	"github.com/gokernels/gokernels/kernels/ml/kmeans"
	"github.com/gokernels/gokernels/kernels/ml/lof"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
	"github.com/gokernels/gokernels/kernels/ml/streamforest"
	"github.com/gokernels/gokernels/kernels/ml/threshold"
	"github.com/gokernels/gokernels/kernels/ml/voting"
	"github.com/gokernels/gokernels/kernels/registry"
)

// RegisterA registers the clustering, anomaly-detection and ensemble kernels
// (contracts in proto/gokernels/kernels/ml/v1/clustering.proto,
// anomaly.proto and ensemble.proto).
func RegisterA(r *registry.Registry) error {
	meta := func(id, desc string) registry.Meta {
		return registry.Meta{ID: id, Domain: registry.DomainML, Description: desc, Modes: []registry.Mode{registry.Batch}}
	}
	return errors.Join(
		registry.Register(r, KMeansCluster),
		registry.Add(r, meta("ml/dbscan-cluster",
			"DBSCAN with a k-d tree; euclidean, manhattan, chebyshev or cosine (labels equal sklearn DBSCAN)."), dbscanCluster),
		registry.Add(r, meta("ml/hierarchical-cluster",
			"Agglomerative clustering, single/complete/average/ward (merge tree equals scipy linkage)."), hierarchicalCluster),
		registry.Add(r, meta("ml/isolation-forest",
			"Isolation forest anomaly scores in (0, 1) and labels (Liu et al. 2008, as sklearn IsolationForest)."), isolationForest),
		registry.Add(r, meta("ml/local-outlier-factor",
			"Local Outlier Factor with a k-d tree (equals sklearn LocalOutlierFactor)."), localOutlierFactor),
		registry.Add(r, meta("ml/streaming-isolation-forest",
			"Isolation forests refitted on a sliding window over a stream of samples."), streamingIsolationForest),
		registry.Add(r, meta("ml/adaptive-threshold",
			"Rolling mean/std or median/MAD anomaly thresholds with drift-triggered baseline resets."), adaptiveThreshold),
		registry.Add(r, meta("ml/ensemble-voting",
			"Weighted hard or soft voting over classifier outputs (VotingClassifier's rules)."), ensembleVoting),
	)
}

// withDefault returns *v, or def when the optional field is unset.
func withDefault[T any](v *T, def T) T {
	if v != nil {
		return *v
	}
	return def
}

// parseMetric maps the metric field (already checked by protovalidate).
func parseMetric(s string) (distance.Metric, error) {
	m, err := distance.Parse(s)
	if err != nil {
		return 0, kerr.Invalid("metric", "%v", err)
	}
	return m, nil
}

// atLeast repeats a protovalidate bound in Go for the parameters whose
// violation would make an algorithm loop or allocate nonsense, so the kernel
// function is safe even when called without validation (RunCPU).
func atLeast(field string, v, lo int) error {
	if v < lo {
		return kerr.Invalid(field, "must be at least %d", lo)
	}
	return nil
}

// seedBits reinterprets the request's int64 seed as the PCG seed.
func seedBits(s int64) uint64 { return uint64(s) }

// ------------------------------------------------------------- clustering

// KMeansCluster is ml/kmeans-cluster.
var KMeansCluster = registry.Def[*mlv1.KMeansClusterInput, *mlv1.KMeansClusterOutput, KMeansJob]{
	Meta: registry.Meta{ID: "ml/kmeans-cluster", Domain: registry.DomainML,
		Description: "Lloyd k-means with greedy k-means++ seeding (equals sklearn KMeans(algorithm=\"lloyd\") from given centres)."},
	Prepare: func(ctx context.Context, in *mlv1.KMeansClusterInput) (KMeansJob, error) {
		m, err := matrix.FromRequest(ctx, in.GetData(), in.GetNSamples(), in.GetNFeatures())
		if err != nil {
			return KMeansJob{}, err
		}
		if err := matrix.CheckMagnitude(m, matrix.DistanceMagnitude); err != nil {
			return KMeansJob{}, err
		}
		k := int(in.GetK())
		if err := atLeast("k", k, 1); err != nil {
			return KMeansJob{}, err
		}
		if k > m.Rows {
			return KMeansJob{}, kerr.Invalid("k", "is %d but there are only %d samples", k, m.Rows)
		}
		p := kmeans.Params{
			K:       k,
			MaxIter: int(withDefault(in.MaxIterations, 300)),
			Tol:     withDefault(in.Tolerance, 1e-4),
			NInit:   int(withDefault(in.NInit, 10)),
			Seed:    seedBits(in.GetSeed()),
		}
		if err := errors.Join(atLeast("max_iterations", p.MaxIter, 1), atLeast("n_init", p.NInit, 1)); err != nil {
			return KMeansJob{}, err
		}
		if err := limits.Check("max_iterations", p.MaxIter, limits.From(ctx).MaxIterations); err != nil {
			return KMeansJob{}, err
		}
		if err := limits.Check("n_init", p.NInit, 1000); err != nil {
			return KMeansJob{}, err
		}
		if init := in.GetInit(); len(init) > 0 {
			if len(init) != k*m.Cols {
				return KMeansJob{}, kerr.Invalid("init", "has %d values, want k*n_features = %d", len(init), k*m.Cols)
			}
			p.Init = init
		}
		return KMeansJob{Data: m, Params: p}, nil
	},
	CPU: func(ctx context.Context, j KMeansJob) (*mlv1.KMeansClusterOutput, error) {
		res, err := kmeans.Run(ctx, j.Data, j.Params)
		if err != nil {
			return nil, err
		}
		return KMeansOutput(res), nil
	},
}

// KMeansJob is k-means' working form: the data matrix and the parameters
// with defaults applied.
type KMeansJob struct {
	Data   matrix.Dense
	Params kmeans.Params
}

// KMeansRuns is the number of k-means++ restarts a request asks for,
// default applied (1 with given initial centres).
func KMeansRuns(in *mlv1.KMeansClusterInput) int64 {
	if len(in.GetInit()) > 0 {
		return 1
	}
	return int64(max(1, withDefault(in.NInit, 10)))
}

// KMeansOutput renders a k-means result.
func KMeansOutput(res kmeans.Result) *mlv1.KMeansClusterOutput {
	return &mlv1.KMeansClusterOutput{
		Labels:     res.Labels,
		Centroids:  res.Centroids,
		Inertia:    res.Inertia,
		Iterations: int32(res.Iterations),
		Converged:  res.Converged,
	}
}

func dbscanCluster(ctx context.Context, in *mlv1.DbscanClusterInput) (*mlv1.DbscanClusterOutput, error) {
	m, err := matrix.FromRequest(ctx, in.GetData(), in.GetNSamples(), in.GetNFeatures())
	if err != nil {
		return nil, err
	}
	metric, err := parseMetric(in.GetMetric())
	if err != nil {
		return nil, err
	}
	eps := in.GetEps()
	if !(eps > 0) || math.IsInf(eps, 0) {
		return nil, kerr.Invalid("eps", "must be a finite number above 0")
	}
	res, err := dbscan.Run(ctx, m, eps, int(withDefault(in.MinSamples, 5)), metric)
	if err != nil {
		return nil, err
	}
	core := res.CoreIndices
	if core == nil {
		core = []int32{}
	}
	return &mlv1.DbscanClusterOutput{Labels: res.Labels, NClusters: int32(res.NClusters), CoreSampleIndices: core}, nil
}

func hierarchicalCluster(ctx context.Context, in *mlv1.HierarchicalClusterInput) (*mlv1.HierarchicalClusterOutput, error) {
	// The condensed distance matrix is n²/2 doubles: cap n like all-pairs outputs.
	if err := limits.Check("n_samples", int(in.GetNSamples()), limits.From(ctx).MaxAllPairsN); err != nil {
		return nil, err
	}
	m, err := matrix.FromRequest(ctx, in.GetData(), in.GetNSamples(), in.GetNFeatures())
	if err != nil {
		return nil, err
	}
	nClusters := int(withDefault(in.NClusters, 2))
	if err := atLeast("n_clusters", nClusters, 1); err != nil {
		return nil, err
	}
	if nClusters > m.Rows {
		return nil, kerr.Invalid("n_clusters", "is %d but there are only %d samples", nClusters, m.Rows)
	}
	method, err := hierarchical.ParseLinkage(in.GetLinkage())
	if err != nil {
		return nil, kerr.Invalid("linkage", "%v", err)
	}
	metric, err := parseMetric(in.GetMetric())
	if err != nil {
		return nil, err
	}
	if method == hierarchical.Ward && metric != distance.Euclidean {
		return nil, kerr.Invalid("metric", "ward linkage needs the euclidean metric, not %s", metric)
	}
	if err := matrix.CheckMagnitude(m, matrix.DistanceMagnitude); err != nil {
		return nil, err
	}
	z, err := hierarchical.Tree(ctx, m, method, metric)
	if err != nil {
		return nil, err
	}
	out := &mlv1.HierarchicalClusterOutput{
		Labels: hierarchical.Cut(z, m.Rows, nClusters),
		Merges: make([]*mlv1.Merge, len(z)),
	}
	for i, g := range z {
		out.Merges[i] = &mlv1.Merge{Left: g.Left, Right: g.Right, Distance: g.Distance, Size: g.Size}
	}
	return out, nil
}

// ------------------------------------------------------- anomaly detection

// outlierThreshold is the fixed "auto" cut or, with a contamination, the
// percentile cut sklearn uses (offset_).
func outlierThreshold(scores []float64, c *float64, auto float64) float64 {
	if c == nil {
		return auto
	}
	return contamination.Threshold(scores, *c)
}

func isolationForest(ctx context.Context, in *mlv1.IsolationForestInput) (*mlv1.IsolationForestOutput, error) {
	m, err := matrix.FromRequest(ctx, in.GetData(), in.GetNSamples(), in.GetNFeatures())
	if err != nil {
		return nil, err
	}
	p := iforest.Params{
		NEstimators: int(withDefault(in.NEstimators, 100)),
		MaxSamples:  int(withDefault(in.MaxSamples, 256)),
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
	k := lof.EffectiveK(int(withDefault(in.NNeighbors, 20)), m.Rows)
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

func streamingIsolationForest(ctx context.Context, in *mlv1.StreamingIsolationForestInput) (*mlv1.StreamingIsolationForestOutput, error) {
	m, err := matrix.FromRequest(ctx, in.GetData(), in.GetNSamples(), in.GetNFeatures())
	if err != nil {
		return nil, err
	}
	w := int(withDefault(in.WindowSize, 256))
	p := streamforest.Params{
		Window:        w,
		RefitInterval: int(withDefault(in.RefitInterval, int32(w))),
		Forest: iforest.Params{
			NEstimators: int(withDefault(in.NEstimators, 100)),
			MaxSamples:  int(withDefault(in.MaxSamples, 256)),
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
	thr := withDefault(in.Threshold, 0.5)
	return &mlv1.StreamingIsolationForestOutput{
		Scores:      res.Scores,
		Labels:      contamination.Labels(res.Scores, thr),
		ModelStarts: res.ModelStarts,
	}, nil
}

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
	w := int(withDefault(in.WindowSize, 100))
	p := threshold.Params{
		Window:        w,
		MinHistory:    int(withDefault(in.MinHistory, int32(min(10, w)))),
		K:             withDefault(in.K, 3),
		TwoSided:      in.GetTwoSided(),
		DriftPatience: int(withDefault(in.DriftPatience, 5)),
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

// ---------------------------------------------------------------- ensemble

func ensembleVoting(ctx context.Context, in *mlv1.EnsembleVotingInput) (*mlv1.EnsembleVotingOutput, error) {
	nm, ns, nc := int(in.GetNModels()), int(in.GetNSamples()), int(in.GetNClasses())
	if err := errors.Join(atLeast("n_models", nm, 1), atLeast("n_samples", ns, 1), atLeast("n_classes", nc, 1)); err != nil {
		return nil, err
	}
	lim := limits.From(ctx)
	if err := limits.Check("n_samples", ns, lim.MaxSamples); err != nil {
		return nil, err
	}
	// Model outputs come as n_models × n_samples (× n_classes) arrays; bounding
	// the factors first keeps the products below from overflowing.
	if err := limits.Check("n_models", nm*ns, lim.MaxCells); err != nil {
		return nil, err
	}
	// The scores output holds n_samples × n_classes values.
	if err := limits.Check("n_classes", ns*nc, lim.MaxCells); err != nil {
		return nil, err
	}
	w := in.GetWeights()
	if len(w) > 0 {
		if len(w) != nm {
			return nil, kerr.Invalid("weights", "has %d values, want one per model (%d)", len(w), nm)
		}
		var sum float64
		for i, v := range w {
			if !(v >= 0) || math.IsInf(v, 0) {
				return nil, kerr.Invalid(fmt.Sprintf("weights[%d]", i), "must be finite and at least 0")
			}
			sum += v
		}
		if !(sum > 0) {
			return nil, kerr.Invalid("weights", "must have a positive sum")
		}
	}
	var res voting.Result
	if in.GetVoting() == "soft" {
		if len(in.GetLabels()) > 0 {
			return nil, kerr.Invalid("labels", "is for hard voting; soft voting reads probabilities")
		}
		probs := in.GetProbabilities()
		if want := nm * ns * nc; len(probs) != want {
			return nil, kerr.Invalid("probabilities", "has %d values, want n_models*n_samples*n_classes = %d", len(probs), want)
		}
		for i, v := range probs {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, kerr.Invalid(fmt.Sprintf("probabilities[%d]", i), "must be finite")
			}
		}
		res = voting.Soft(probs, w, nm, ns, nc)
	} else {
		if len(in.GetProbabilities()) > 0 {
			return nil, kerr.Invalid("probabilities", "is for soft voting; hard voting reads labels")
		}
		labels := in.GetLabels()
		if want := nm * ns; len(labels) != want {
			return nil, kerr.Invalid("labels", "has %d values, want n_models*n_samples = %d", len(labels), want)
		}
		for i, v := range labels {
			if v < 0 || int(v) >= nc {
				return nil, kerr.Invalid(fmt.Sprintf("labels[%d]", i), "class %d is outside [0, n_classes = %d)", v, nc)
			}
		}
		res = voting.Hard(labels, w, nm, ns, nc)
	}
	return &mlv1.EnsembleVotingOutput{Labels: res.Labels, Scores: res.Scores}, nil
}
