package ml

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"testing"

	"google.golang.org/protobuf/proto"

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// registerAQuality is a case's "quality" object: model-quality promises
// checked beside the exact expectations.
type registerAQuality struct {
	Truth      []int    `json:"truth"`
	SklearnAUC float64  `json:"sklearn_auc"`
	AUCTol     float64  `json:"auc_tolerance"`
	Outliers   *int     `json:"outliers"`
	InertiaMax *float64 `json:"inertia_at_most"`
}

// TestRegisterFixtures runs every ml fixture case the way the server does:
// jsoninput decoding (tuples included), protovalidate, the kernel, and the
// output rendered as JSON with proto field names; the clustering and anomaly
// kernels also get their model-quality checks (checkQuality). Registered
// kernels and fixture files match one to one.
func TestRegisterFixtures(t *testing.T) {
	quality := fixture.WithCheck(checkQuality)
	fixture.RunDomain(t, Register, "ml", map[string]fixture.Adjust{
		"ml/kmeans-cluster": quality, "ml/dbscan-cluster": quality, "ml/hierarchical-cluster": quality,
		"ml/isolation-forest": quality, "ml/local-outlier-factor": quality, "ml/streaming-isolation-forest": quality,
		"ml/adaptive-threshold": quality, "ml/ensemble-voting": quality,
	})
}

// checkQuality checks a case's quality object: isolation-forest ROC
// AUC against sklearn's, the number of flagged outliers, and the k-means++
// inertia bound.
func checkQuality(t *testing.T, c fixture.Case, got map[string]any) {
	var q registerAQuality
	if raw, ok := c.Extra["quality"]; ok {
		if err := json.Unmarshal(raw, &q); err != nil {
			t.Fatal(err)
		}
	}
	if q.Truth != nil {
		scores := registerAFloats(got["scores"])
		if auc := registerAROCAUC(q.Truth, scores); math.Abs(auc-q.SklearnAUC) > q.AUCTol {
			t.Errorf("ROC AUC %.4f, sklearn %.4f (tolerance %g)", auc, q.SklearnAUC, q.AUCTol)
		}
	}
	if q.Outliers != nil {
		n := 0
		for _, l := range registerAFloats(got["labels"]) {
			if l == -1 {
				n++
			}
		}
		if n != *q.Outliers {
			t.Errorf("%d outliers flagged, sklearn flags %d", n, *q.Outliers)
		}
	}
	if q.InertiaMax != nil {
		if in := got["inertia"].(float64); in > *q.InertiaMax {
			t.Errorf("inertia %g above %g", in, *q.InertiaMax)
		}
	}
}

func registerAFloats(v any) []float64 {
	l, _ := v.([]any)
	out := make([]float64, len(l))
	for i, x := range l {
		out[i], _ = x.(float64)
	}
	return out
}

// registerAROCAUC is sklearn's roc_auc_score for 0/1 truth (ties count half).
func registerAROCAUC(truth []int, scores []float64) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	// Mann–Whitney U with average ranks for ties.
	var rankPos float64
	pos := 0
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2
		for _, p := range idx[i:j] {
			if truth[p] == 1 {
				rankPos += avg
				pos++
			}
		}
		i = j
	}
	neg := len(scores) - pos
	return (rankPos - float64(pos*(pos+1))/2) / float64(pos*neg)
}

// Unset optional fields take the documented defaults.
func TestClusteringAnomalyDefaults(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	data := make([]float64, 60)
	for i := range data {
		data[i] = float64(i%7) + float64(i)/100
	}
	k, _ := r.Get("ml/local-outlier-factor")
	out, err := k.Run(context.Background(), &mlv1.LocalOutlierFactorInput{Data: data, NSamples: 30, NFeatures: 2})
	if err != nil {
		t.Fatal(err)
	}
	lo := out.(*mlv1.LocalOutlierFactorOutput)
	if lo.NNeighbors != 20 || lo.Threshold != 1.5 {
		t.Errorf("LOF defaults: n_neighbors %d, threshold %g; want 20 and 1.5", lo.NNeighbors, lo.Threshold)
	}
	k, _ = r.Get("ml/adaptive-threshold")
	out, err = k.Run(context.Background(), &mlv1.AdaptiveThresholdInput{Values: data})
	if err != nil {
		t.Fatal(err)
	}
	at := out.(*mlv1.AdaptiveThresholdOutput)
	for i, w := range at.Warmup {
		if w != (i < 10) {
			t.Fatalf("warmup[%d] = %v: default min_history must be 10", i, w)
		}
	}
	k, _ = r.Get("ml/streaming-isolation-forest")
	sdata := make([]float64, 600)
	out, err = k.Run(context.Background(), &mlv1.StreamingIsolationForestInput{Data: sdata, NSamples: 600, NFeatures: 1})
	if err != nil {
		t.Fatal(err)
	}
	if ms := out.(*mlv1.StreamingIsolationForestOutput).ModelStarts; fmt.Sprint(ms) != "[0 256 512]" {
		t.Errorf("model_starts %v, want [0 256 512] (window and refit interval default to 256)", ms)
	}
}

// Problem-size caps are reported against the field that carries the size.
func TestClusteringAnomalyLimits(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	ctx := limits.With(context.Background(), limits.Limits{MaxSamples: 50, MaxAllPairsN: 10, MaxCells: 400, MaxIterations: 1000})
	data := make([]float64, 2*60)
	cases := []struct {
		id    string
		in    proto.Message
		field string
	}{
		{"ml/kmeans-cluster", &mlv1.KMeansClusterInput{Data: data, NSamples: 60, NFeatures: 2, K: 2}, "n_samples"},
		{"ml/kmeans-cluster", &mlv1.KMeansClusterInput{Data: data[:40], NSamples: 20, NFeatures: 2, K: 2, MaxIterations: registerAPtr[int32](5000)}, "max_iterations"},
		{"ml/hierarchical-cluster", &mlv1.HierarchicalClusterInput{Data: data[:40], NSamples: 20, NFeatures: 2}, "n_samples"},
		{"ml/local-outlier-factor", &mlv1.LocalOutlierFactorInput{Data: data[:80], NSamples: 40, NFeatures: 2, NNeighbors: registerAPtr[int32](15)}, "n_neighbors"},
		{"ml/streaming-isolation-forest", &mlv1.StreamingIsolationForestInput{Data: data[:80], NSamples: 40, NFeatures: 2, WindowSize: registerAPtr[int32](4), RefitInterval: registerAPtr[int32](1)}, "refit_interval"},
		{"ml/ensemble-voting", &mlv1.EnsembleVotingInput{NModels: 1, NSamples: 30, NClasses: 20, Labels: make([]int32, 30)}, "n_classes"},
	}
	for _, c := range cases {
		k, _ := r.Get(c.id)
		_, err := k.Run(ctx, c.in)
		if got := fixture.ErrorField(err); got != c.field {
			t.Errorf("%s: error field %q (%v), want %q", c.id, got, err, c.field)
		}
	}
}

func registerAPtr[T any](v T) *T { return &v }

// Degenerate inputs (one sample, identical samples, zero vectors) give the
// exact answers they must, never a panic or NaN.
func TestClusteringAnomalyDegenerateInputs(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	run := func(id string, in proto.Message) proto.Message {
		t.Helper()
		k, _ := r.Get(id)
		out, err := k.Run(context.Background(), in)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return out
	}
	same := make([]float64, 2*12) // 12 identical samples (0, 0)

	km := run("ml/kmeans-cluster", &mlv1.KMeansClusterInput{Data: same, NSamples: 12, NFeatures: 2, K: 3}).(*mlv1.KMeansClusterOutput)
	if km.Inertia != 0 || len(km.Labels) != 12 {
		t.Errorf("k-means on identical samples: inertia %g, %d labels", km.Inertia, len(km.Labels))
	}
	db := run("ml/dbscan-cluster", &mlv1.DbscanClusterInput{Data: same, NSamples: 12, NFeatures: 2, Eps: 0.1}).(*mlv1.DbscanClusterOutput)
	if db.NClusters != 1 || len(db.CoreSampleIndices) != 12 {
		t.Errorf("DBSCAN on identical samples: %d clusters, %d cores", db.NClusters, len(db.CoreSampleIndices))
	}
	db = run("ml/dbscan-cluster", &mlv1.DbscanClusterInput{Data: []float64{1}, NSamples: 1, NFeatures: 1, Eps: 1}).(*mlv1.DbscanClusterOutput)
	if db.NClusters != 0 || db.Labels[0] != -1 {
		t.Errorf("DBSCAN on one sample: %v", db.Labels)
	}
	hc := run("ml/hierarchical-cluster", &mlv1.HierarchicalClusterInput{Data: same, NSamples: 12, NFeatures: 2, Linkage: "average"}).(*mlv1.HierarchicalClusterOutput)
	for _, m := range hc.Merges {
		if m.Distance != 0 {
			t.Errorf("merge of identical samples at distance %g", m.Distance)
		}
	}
	if n := len(hc.Merges); n != 11 || hc.Merges[n-1].Size != 12 {
		t.Errorf("%d merges, last %v", n, hc.Merges[n-1])
	}
	hc = run("ml/hierarchical-cluster", &mlv1.HierarchicalClusterInput{Data: []float64{3}, NSamples: 1, NFeatures: 1, NClusters: registerAPtr[int32](1)}).(*mlv1.HierarchicalClusterOutput)
	if len(hc.Merges) != 0 || len(hc.Labels) != 1 {
		t.Errorf("one sample: %v", hc)
	}
	lo := run("ml/local-outlier-factor", &mlv1.LocalOutlierFactorInput{Data: same, NSamples: 12, NFeatures: 2}).(*mlv1.LocalOutlierFactorOutput)
	for i, v := range lo.Lof {
		if v != 1 {
			t.Errorf("LOF[%d] of identical samples = %g, want 1", i, v)
		}
	}
	// Zero vectors under cosine: distance 1 to everything else.
	zeros := []float64{0, 0, 1, 0, 0, 1, 1, 1, 2, 2}
	lo = run("ml/local-outlier-factor", &mlv1.LocalOutlierFactorInput{Data: zeros, NSamples: 5, NFeatures: 2, Metric: "cosine", NNeighbors: registerAPtr[int32](2)}).(*mlv1.LocalOutlierFactorOutput)
	for i, v := range lo.Lof {
		if math.IsNaN(v) || v <= 0 {
			t.Errorf("cosine LOF[%d] = %g", i, v)
		}
	}
	db = run("ml/dbscan-cluster", &mlv1.DbscanClusterInput{Data: zeros, NSamples: 5, NFeatures: 2, Eps: 0.01, MinSamples: registerAPtr[int32](2), Metric: "cosine"}).(*mlv1.DbscanClusterOutput)
	if fmt.Sprint(db.Labels) != "[-1 -1 -1 0 0]" {
		t.Errorf("cosine DBSCAN labels %v, want [-1 -1 -1 0 0] ((1,1) and (2,2) share a direction)", db.Labels)
	}
	iso := run("ml/isolation-forest", &mlv1.IsolationForestInput{Data: []float64{4, 2}, NSamples: 1, NFeatures: 2}).(*mlv1.IsolationForestOutput)
	if iso.Scores[0] != 0.5 || iso.Labels[0] != 1 {
		t.Errorf("isolation forest on one sample: %v %v", iso.Scores, iso.Labels)
	}
}

// Without protovalidate (RunCPU) out-of-range parameters are still field
// errors, never a panic or an endless loop.
func TestClusteringAnomalyUnvalidatedInputs(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	data := []float64{0, 1, 2, 3, 4, 5}
	cases := []struct {
		id    string
		in    proto.Message
		field string
	}{
		{"ml/kmeans-cluster", &mlv1.KMeansClusterInput{Data: data, NSamples: 3, NFeatures: 2, K: 0}, "k"},
		{"ml/kmeans-cluster", &mlv1.KMeansClusterInput{Data: data, NSamples: 3, NFeatures: 2, K: 1, NInit: registerAPtr[int32](-1)}, "n_init"},
		{"ml/dbscan-cluster", &mlv1.DbscanClusterInput{Data: data, NSamples: 3, NFeatures: 2, Eps: math.NaN()}, "eps"},
		{"ml/dbscan-cluster", &mlv1.DbscanClusterInput{Data: data, NSamples: 3, NFeatures: 2, Eps: 1, Metric: "hamming"}, "metric"},
		{"ml/hierarchical-cluster", &mlv1.HierarchicalClusterInput{Data: data, NSamples: 3, NFeatures: 2, NClusters: registerAPtr[int32](0)}, "n_clusters"},
		{"ml/isolation-forest", &mlv1.IsolationForestInput{Data: data, NSamples: 3, NFeatures: 2, NEstimators: registerAPtr[int32](-2)}, "n_estimators"},
		{"ml/local-outlier-factor", &mlv1.LocalOutlierFactorInput{Data: data[:2], NSamples: 1, NFeatures: 2}, "n_samples"},
		{"ml/streaming-isolation-forest", &mlv1.StreamingIsolationForestInput{Data: data, NSamples: 3, NFeatures: 2, WindowSize: registerAPtr[int32](0)}, "window_size"},
		{"ml/streaming-isolation-forest", &mlv1.StreamingIsolationForestInput{Data: data, NSamples: 3, NFeatures: 2, RefitInterval: registerAPtr[int32](0)}, "refit_interval"},
		{"ml/adaptive-threshold", &mlv1.AdaptiveThresholdInput{Values: data, WindowSize: registerAPtr[int32](0)}, "window_size"},
		{"ml/adaptive-threshold", &mlv1.AdaptiveThresholdInput{Values: []float64{1, math.Inf(1)}}, "values[1]"},
		{"ml/adaptive-threshold", &mlv1.AdaptiveThresholdInput{Values: data, K: registerAPtr(math.NaN())}, "k"},
		{"ml/ensemble-voting", &mlv1.EnsembleVotingInput{NModels: 1, NSamples: 1, NClasses: 0}, "n_classes"},
		{"ml/ensemble-voting", &mlv1.EnsembleVotingInput{NModels: 2, NSamples: 1, NClasses: 2, Labels: []int32{0, 1}, Weights: []float64{0, 0}}, "weights"},
		{"ml/ensemble-voting", &mlv1.EnsembleVotingInput{NModels: 1, NSamples: 1, NClasses: 2, Labels: []int32{0}, Probabilities: []float64{1, 0}}, "probabilities"},
	}
	for _, c := range cases {
		k, _ := r.Get(c.id)
		_, err := k.RunCPU(context.Background(), c.in)
		if got := fixture.ErrorField(err); got != c.field {
			t.Errorf("%s: error field %q (%v), want %q", c.id, got, err, c.field)
		}
	}
}
