package lowess

import (
	"context"
	"errors"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"testing"

	"github.com/gokernels/gokernels/kernels/temporal/series"
)

type fixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			Values     []float64 `json:"values"`
			Timestamps []float64 `json:"timestamps"`
			Method     string    `json:"method"`
			Frac       *float64  `json:"frac"`
			Iterations *int      `json:"iterations"`
			Delta      float64   `json:"delta"`
		} `json:"input"`
		Expect *struct {
			Trend []float64 `json:"trend"`
		} `json:"expect"`
	} `json:"cases"`
}

func TestFixtures(t *testing.T) {
	var f fixture
	fixtures.Read(t, "temporal", "trend-extraction", &f)
	seen := 0
	for _, c := range f.Cases {
		if c.Expect == nil || c.Input.Method != "lowess" {
			continue
		}
		seen++
		t.Run(c.Name, func(t *testing.T) {
			in := c.Input
			frac, it := 2.0/3, 3
			if in.Frac != nil {
				frac = *in.Frac
			}
			if in.Iterations != nil {
				it = *in.Iterations
			}
			x := series.Axis(len(in.Values), in.Timestamps)
			got, err := Smooth(context.Background(), x, in.Values, frac, it, in.Delta)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if w := c.Expect.Trend[i]; math.Abs(got[i]-w) > 1e-12+1e-9*math.Abs(w) {
					t.Fatalf("trend[%d] = %.15g, want %.15g", i, got[i], w)
				}
			}
		})
	}
	if seen < 3 {
		t.Fatalf("only %d lowess cases in the fixture", seen)
	}
}

func TestLinearDataIsExact(t *testing.T) {
	x := []float64{0, 1, 2.5, 3, 4.2, 6, 7, 9}
	y := make([]float64, len(x))
	for i := range x {
		y[i] = 2 - 0.5*x[i]
	}
	got, err := Smooth(context.Background(), x, y, 0.5, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if math.Abs(got[i]-y[i]) > 1e-12 {
			t.Errorf("fit[%d] = %g, want %g", i, got[i], y[i])
		}
	}
}

func TestTinyInputs(t *testing.T) {
	for _, y := range [][]float64{{3}, {3, 5}} {
		x := series.Axis(len(y), nil)
		got, err := Smooth(context.Background(), x, y, 2.0/3, 3, 0)
		if err != nil || len(got) != len(y) {
			t.Fatalf("%v: %v %v", y, got, err)
		}
		for i := range got {
			if math.IsNaN(got[i]) {
				t.Errorf("%v: NaN at %d", y, i)
			}
		}
	}
}

func TestCancel(t *testing.T) {
	n := 20000
	x := series.Axis(n, nil)
	y := make([]float64, n)
	for i := range y {
		y[i] = math.Sin(float64(i) / 100)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Smooth(ctx, x, y, 0.5, 3, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
