package cuda

import (
	"context"
	"math"
	"sort"

	"google.golang.org/protobuf/proto"

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	"github.com/gokernels/gokernels/kernels/ml"
	"github.com/gokernels/gokernels/kernels/ml/kmeans"
	"github.com/gokernels/gokernels/kernels/registry"
)

// KMeansRowsPerBlock is the row chunk of the device's per-block centre
// sums (also used by the memory estimate).
const KMeansRowsPerBlock = 256

// KMeansTrials is sklearn's number of k-means++ candidates per centre.
func KMeansTrials(k int) int { return 2 + int(math.Log(float64(k))) }

func kmeansSpec() *Spec {
	return &Spec{
		// Measured (docs/gpu.md, TestDeviceSweep on an H200 with 16 host cores, 2026-12-04):
		// 0.6× at 1.7e5, 1.7× at 5.1e5, 3.3–4.7× from 1.7e6 to 5.1e7.
		ID: ml.KMeansCluster.ID, Threshold: 500_000, SizeUnit: "samples × features × k × runs",
		Size: func(msg proto.Message) int64 {
			in, ok := msg.(*mlv1.KMeansClusterInput)
			if !ok {
				return 0
			}
			return sat(int64(in.GetNSamples()), int64(in.GetNFeatures()), int64(in.GetK()), ml.KMeansRuns(in))
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
		Run: registry.DeviceFunc(ml.KMeansCluster, func(ctx context.Context, dev Device, j ml.KMeansJob) (*mlv1.KMeansClusterOutput, error) {
			m, p := j.Data, j.Params
			job := &KMeansJob{
				Data: m.Data, N: m.Rows, D: m.Cols, K: p.K, MaxIter: p.MaxIter, NInit: p.NInit, Seed: p.Seed, Init: p.Init,
				Tol: kmeans.RelativeTol(m, p.Tol),
			}
			res, err := dev.KMeans(ctx, job)
			if err != nil {
				return nil, err
			}
			return ml.KMeansOutput(kmeans.Result{Labels: res.Labels, Centroids: res.Centroids, Inertia: res.Inertia,
				Iterations: res.Iterations, Converged: res.Converged}), nil
		}),
	}
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
