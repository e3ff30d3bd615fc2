// Clustering kernels (proto/gokernels/kernels/ml/v1/clustering.proto).

package ml

import (
	"context"
	"errors"
	"math"

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/ml/dbscan"
	"github.com/gokernels/gokernels/kernels/ml/distance"
	"github.com/gokernels/gokernels/kernels/ml/hierarchical"
	"github.com/gokernels/gokernels/kernels/ml/kmeans"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
	"github.com/gokernels/gokernels/kernels/registry"
)

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
			MaxIter: int(registry.Or(in.MaxIterations, 300)),
			Tol:     registry.Or(in.Tolerance, 1e-4),
			NInit:   int(registry.Or(in.NInit, 10)),
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
	return int64(max(1, registry.Or(in.NInit, 10)))
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

// DbscanCluster is ml/dbscan-cluster.
var DbscanCluster = registry.Direct(registry.Meta{ID: "ml/dbscan-cluster", Domain: registry.DomainML,
	Description: "DBSCAN with a k-d tree; euclidean, manhattan, chebyshev or cosine (labels equal sklearn DBSCAN)."}, dbscanCluster)

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
	res, err := dbscan.Run(ctx, m, eps, int(registry.Or(in.MinSamples, 5)), metric)
	if err != nil {
		return nil, err
	}
	core := res.CoreIndices
	if core == nil {
		core = []int32{}
	}
	return &mlv1.DbscanClusterOutput{Labels: res.Labels, NClusters: int32(res.NClusters), CoreSampleIndices: core}, nil
}

// HierarchicalCluster is ml/hierarchical-cluster.
var HierarchicalCluster = registry.Direct(registry.Meta{ID: "ml/hierarchical-cluster", Domain: registry.DomainML,
	Description: "Agglomerative clustering, single/complete/average/ward (merge tree equals scipy linkage)."}, hierarchicalCluster)

func hierarchicalCluster(ctx context.Context, in *mlv1.HierarchicalClusterInput) (*mlv1.HierarchicalClusterOutput, error) {
	// The condensed distance matrix is n²/2 doubles: cap n like all-pairs outputs.
	if err := limits.Check("n_samples", int(in.GetNSamples()), limits.From(ctx).MaxAllPairsN); err != nil {
		return nil, err
	}
	m, err := matrix.FromRequest(ctx, in.GetData(), in.GetNSamples(), in.GetNFeatures())
	if err != nil {
		return nil, err
	}
	nClusters := int(registry.Or(in.NClusters, 2))
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
