package lof

import (
	"context"
	"errors"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/ml/distance"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
)

type input struct {
	Data      []float64 `json:"data"`
	NSamples  int       `json:"n_samples"`
	NFeatures int       `json:"n_features"`
	K         *int      `json:"n_neighbors"`
	Metric    string    `json:"metric"`
}

func TestFixtures(t *testing.T) {
	f := fixture.Kernel(t, "ml", "local-outlier-factor")
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			var in input
			var want struct {
				LOF []float64 `json:"lof"`
			}
			fixture.Decode(t, c.Input, &in)
			fixture.Decode(t, c.ExpectRaw, &want)
			metric, err := distance.Parse(in.Metric)
			if err != nil {
				t.Fatal(err)
			}
			k := 20
			if in.K != nil {
				k = *in.K
			}
			m := matrix.Dense{Rows: in.NSamples, Cols: in.NFeatures, Data: in.Data}
			res, err := Run(context.Background(), m, k, metric)
			if err != nil {
				t.Fatal(err)
			}
			rtol, atol := c.Tolerances()
			fixture.Floats(t, "lof", res.LOF, want.LOF, rtol, atol)
		})
	}
}

// Hand-checked: on a line 0, 1, 2, 3 with k = 1 every sample's nearest
// neighbour is at distance 1 (ties by index) and all k-distances are 1, so
// every reachability is 1, every lrd is the same and every LOF is 1.
func TestEvenlySpacedLine(t *testing.T) {
	m := matrix.Dense{Rows: 4, Cols: 1, Data: []float64{0, 1, 2, 3}}
	res, err := Run(context.Background(), m, 1, distance.Euclidean)
	if err != nil {
		t.Fatal(err)
	}
	fixture.Floats(t, "lof", res.LOF, []float64{1, 1, 1, 1}, 1e-12, 0)
	fixture.Floats(t, "k-distance", res.KDis, []float64{1, 1, 1, 1}, 0, 0)
}

func TestEffectiveK(t *testing.T) {
	for _, c := range [][3]int{{20, 8, 7}, {5, 100, 5}, {3, 2, 1}, {1, 2, 1}} {
		if got := EffectiveK(c[0], c[1]); got != c[2] {
			t.Errorf("EffectiveK(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
}

func TestCancelled(t *testing.T) {
	n := 5000
	data := make([]float64, 3*n)
	for i := range data {
		data[i] = float64((i * 7919) % 1009)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, matrix.Dense{Rows: n, Cols: 3, Data: data}, 20, distance.Euclidean)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
