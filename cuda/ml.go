package cuda

import (
	"context"
	"math"
	"sort"

	"google.golang.org/protobuf/proto"

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
)

// KMeansRowsPerBlock is the row chunk of the device's per-block centre
// sums (also used by the memory estimate).
const KMeansRowsPerBlock = 256

// KMeansTrials is sklearn's number of k-means++ candidates per centre.
func KMeansTrials(k int) int { return 2 + int(math.Log(float64(k))) }

func kmeansRuns(in *mlv1.KMeansClusterInput) int64 {
	if len(in.GetInit()) > 0 {
		return 1
	}
	return int64(max(1, orDefault(in.NInit, 10)))
}

func kmeansSpec() *Spec {
	return &Spec{
		ID: "ml/kmeans-cluster", Threshold: 50_000_000, SizeUnit: "samples × features × k × runs",
		Size: func(msg proto.Message) int64 {
			in, ok := msg.(*mlv1.KMeansClusterInput)
			if !ok {
				return 0
			}
			return sat(int64(in.GetNSamples()), int64(in.GetNFeatures()), int64(in.GetK()), kmeansRuns(in))
		},
		Bytes: func(msg proto.Message, _ DeviceInfo) int64 {
			in, ok := msg.(*mlv1.KMeansClusterInput)
			if !ok {
				return 0
			}
			n, d, k := int64(in.GetNSamples()), int64(in.GetNFeatures()), int64(in.GetK())
			blocks := (n + KMeansRowsPerBlock - 1) / KMeansRowsPerBlock
			trials := int64(KMeansTrials(int(max(1, k))))
			return add(sat(n, d, 8), sat(n, 4*2), sat(n, 8*2), sat(trials, n, 8),
				sat(blocks, k, d+1, 8), sat(k, d, 8*3), sat(blocks, 8*trials), 1<<20)
		},
		Run: runKMeans,
	}
}

func runKMeans(ctx context.Context, dev Device, msg proto.Message) (proto.Message, error) {
	in := msg.(*mlv1.KMeansClusterInput)
	m, err := matrix.FromRequest(ctx, in.GetData(), in.GetNSamples(), in.GetNFeatures())
	if err != nil {
		return nil, err
	}
	k := int(in.GetK())
	if k > m.Rows {
		return nil, kerr.Invalid("k", "is %d but there are only %d samples", k, m.Rows)
	}
	job := &KMeansJob{
		Data: m.Data, N: m.Rows, D: m.Cols, K: k,
		MaxIter: int(orDefault(in.MaxIterations, 300)),
		NInit:   int(orDefault(in.NInit, 10)),
		Seed:    uint64(in.GetSeed()),
	}
	if err := limits.Check("max_iterations", job.MaxIter, limits.From(ctx).MaxIterations); err != nil {
		return nil, err
	}
	if init := in.GetInit(); len(init) > 0 {
		if len(init) != k*m.Cols {
			return nil, kerr.Invalid("init", "has %d values, want k*n_features = %d", len(init), k*m.Cols)
		}
		job.Init = init
	}
	job.Tol = RelativeTol(m.Data, m.Rows, m.Cols, orDefault(in.Tolerance, 1e-4))
	res, err := dev.KMeans(ctx, job)
	if err != nil {
		return nil, err
	}
	return &mlv1.KMeansClusterOutput{
		Labels:     res.Labels,
		Centroids:  res.Centroids,
		Inertia:    res.Inertia,
		Iterations: int32(res.Iterations),
		Converged:  res.Converged,
	}, nil
}

// RelativeTol is sklearn's _tolerance as the kmeans package computes it:
// tol × the mean of the per-feature variances.
func RelativeTol(data []float64, n, d int, tol float64) float64 {
	if tol == 0 {
		return 0
	}
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range data[i*d : (i+1)*d] {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	vars := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range data[i*d : (i+1)*d] {
			dv := v - mean[j]
			vars[j] += dv * dv
		}
	}
	var s float64
	for _, v := range vars {
		s += v / float64(n)
	}
	return s / float64(d) * tol
}

// RelocateEmpty is the kmeans package's relocation of empty clusters
// (sklearn's _relocate_empty_clusters_dense): each empty cluster takes the
// sample farthest from its current centre (dist[i], stable on ties),
// moving that sample's contribution out of its old cluster's sum. sums are
// the K×d centre sums before division, weight the counts; labels are left
// as they were.
func RelocateEmpty(data []float64, d int, dist, sums, weight []float64, labels []int32) {
	var empty []int
	for c, w := range weight {
		if w == 0 {
			empty = append(empty, c)
		}
	}
	if len(empty) == 0 {
		return
	}
	far := make([]int, len(labels))
	for i := range far {
		far[i] = i
	}
	sort.SliceStable(far, func(a, b int) bool { return dist[far[a]] > dist[far[b]] })
	for e, c := range empty {
		if e >= len(far) {
			break
		}
		i := far[e]
		o := int(labels[i])
		x := data[i*d : (i+1)*d]
		for j, v := range x {
			sums[o*d+j] -= v
			sums[c*d+j] = v
		}
		weight[c] = 1
		weight[o]--
	}
}
