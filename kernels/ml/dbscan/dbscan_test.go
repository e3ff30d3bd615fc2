package dbscan

import (
	"context"
	"errors"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/ml/distance"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
)

type input struct {
	Data       []float64 `json:"data"`
	NSamples   int       `json:"n_samples"`
	NFeatures  int       `json:"n_features"`
	Eps        float64   `json:"eps"`
	MinSamples *int      `json:"min_samples"`
	Metric     string    `json:"metric"`
}

type expect struct {
	Labels    []int32 `json:"labels"`
	NClusters int     `json:"n_clusters"`
	Core      []int32 `json:"core_sample_indices"`
}

func TestFixtures(t *testing.T) {
	f := fixture.Kernel(t, "ml", "dbscan-cluster")
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			var in input
			var want expect
			fixture.Decode(t, c.Input, &in)
			fixture.Decode(t, c.ExpectRaw, &want)
			metric, err := distance.Parse(in.Metric)
			if err != nil {
				t.Fatal(err)
			}
			minSamples := 5
			if in.MinSamples != nil {
				minSamples = *in.MinSamples
			}
			m := matrix.Dense{Rows: in.NSamples, Cols: in.NFeatures, Data: in.Data}
			res, err := Run(context.Background(), m, in.Eps, minSamples, metric)
			if err != nil {
				t.Fatal(err)
			}
			// Cluster numbering follows sklearn's discovery order, so the
			// labels match exactly, not only up to renaming.
			fixture.Ints(t, "labels", res.Labels, want.Labels)
			fixture.Ints(t, "core_sample_indices", res.CoreIndices, want.Core)
			if res.NClusters != want.NClusters {
				t.Errorf("n_clusters = %d, want %d", res.NClusters, want.NClusters)
			}
		})
	}
}

// A border point within eps of cores of two clusters joins the cluster whose
// first core comes first, as in sklearn's sequential expansion.
func TestBorderJoinsFirstCluster(t *testing.T) {
	// Cluster B (indexes 0-2) at x≈10, cluster A (3-5) at x≈0; the border
	// point 6 at x=5 reaches one core of each with eps = 5.
	data := []float64{10, 10.1, 10.2, 0, -0.1, -0.2, 5}
	m := matrix.Dense{Rows: 7, Cols: 1, Data: data}
	res, err := Run(context.Background(), m, 5, 4, distance.Euclidean)
	if err != nil {
		t.Fatal(err)
	}
	// Cores: 0 (10,10.1,10.2,5) and 3 (0,-0.1,-0.2,5) only.
	fixture.Ints(t, "core", res.CoreIndices, []int32{0, 3})
	fixture.Ints(t, "labels", res.Labels, []int32{0, 0, 0, 1, 1, 1, 0})
}

func TestCancelled(t *testing.T) {
	n := 20000
	data := make([]float64, 2*n)
	for i := range data {
		data[i] = float64((i * 7919) % 1000)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, matrix.Dense{Rows: n, Cols: 2, Data: data}, 3, 5, distance.Euclidean)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
