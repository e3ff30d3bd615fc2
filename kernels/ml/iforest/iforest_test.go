package iforest

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
)

type input struct {
	Data        []float64 `json:"data"`
	NSamples    int       `json:"n_samples"`
	NFeatures   int       `json:"n_features"`
	NEstimators *int      `json:"n_estimators"`
	MaxSamples  *int      `json:"max_samples"`
	Seed        uint64    `json:"seed"`
}

func fit(t *testing.T, in input) []float64 {
	t.Helper()
	p := Params{NEstimators: 100, MaxSamples: 256, Seed: in.Seed}
	if in.NEstimators != nil {
		p.NEstimators = *in.NEstimators
	}
	if in.MaxSamples != nil {
		p.MaxSamples = *in.MaxSamples
	}
	m := matrix.Dense{Rows: in.NSamples, Cols: in.NFeatures, Data: in.Data}
	f, err := Fit(context.Background(), m, p)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.Score(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFixtures(t *testing.T) {
	f := fixture.Kernel(t, "ml", "isolation-forest")
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			var in input
			var want struct {
				Scores []float64 `json:"scores"`
			}
			var q struct {
				Truth      []int   `json:"truth"`
				SklearnAUC float64 `json:"sklearn_auc"`
				Tol        float64 `json:"auc_tolerance"`
			}
			fixture.Decode(t, c.Input, &in)
			fixture.Decode(t, c.ExpectRaw, &want)
			fixture.Decode(t, c.Extra["quality"], &q)
			s := fit(t, in)
			for i, v := range s {
				if !(v > 0 && v < 1) {
					t.Fatalf("score[%d] = %g outside (0, 1)", i, v)
				}
			}
			if want.Scores != nil {
				rtol, atol := c.Tolerances()
				fixture.Floats(t, "scores", s, want.Scores, rtol, atol)
			}
			if q.Truth != nil {
				auc := fixture.ROCAUC(q.Truth, s)
				if math.Abs(auc-q.SklearnAUC) > q.Tol {
					t.Errorf("ROC AUC %.4f, sklearn %.4f (tolerance %g)", auc, q.SklearnAUC, q.Tol)
				}
				t.Logf("ROC AUC %.4f, sklearn %.4f", auc, q.SklearnAUC)
			}
		})
	}
}

// c(n) from Liu et al.: c(2) = 1 and c(256) ≈ 10.2448.
func TestAveragePathLength(t *testing.T) {
	cases := map[int]float64{0: 0, 1: 0, 2: 1, 256: 2*(math.Log(255)+0.5772156649015329) - 2*255.0/256}
	for n, want := range cases {
		if got := AveragePathLength(n); math.Abs(got-want) > 1e-12 {
			t.Errorf("c(%d) = %g, want %g", n, got, want)
		}
	}
	if math.Abs(AveragePathLength(256)-10.244770920116851) > 1e-9 {
		t.Errorf("c(256) = %.15g", AveragePathLength(256))
	}
}

// Two distinct samples and ψ = 2: the root splits them, both leaves hold
// one sample at depth 1, so h = 1 = c(2) and every score is exactly 0.5.
func TestTwoSamplesScoreHalf(t *testing.T) {
	m := matrix.Dense{Rows: 2, Cols: 2, Data: []float64{0, 0, 1, 3}}
	f, err := Fit(context.Background(), m, Params{NEstimators: 10, MaxSamples: 256, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.Score(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	fixture.Floats(t, "scores", s, []float64{0.5, 0.5}, 0, 1e-15)
}

func TestDeterministicPerSeed(t *testing.T) {
	in := input{NSamples: 500, NFeatures: 3, Seed: 11, Data: make([]float64, 1500)}
	for i := range in.Data {
		in.Data[i] = math.Sin(float64(i) * 1.3)
	}
	a, b := fit(t, in), fit(t, in)
	fixture.Floats(t, "scores", a, b, 0, 0)
	in.Seed = 12
	c := fit(t, in)
	same := true
	for i := range a {
		same = same && a[i] == c[i]
	}
	if same {
		t.Error("different seeds gave identical scores")
	}
}

func TestSampleDistinct(t *testing.T) {
	f, err := Fit(context.Background(), matrix.Dense{Rows: 1000, Cols: 1, Data: make([]float64, 1000)},
		Params{NEstimators: 1, MaxSamples: 300})
	if err != nil {
		t.Fatal(err)
	}
	if f.trees[0][0].size != 300 {
		t.Errorf("root holds %d rows, want ψ = 300", f.trees[0][0].size)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := matrix.Dense{Rows: 1000, Cols: 2, Data: make([]float64, 2000)}
	if _, err := Fit(ctx, m, Params{NEstimators: 100, MaxSamples: 256}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
