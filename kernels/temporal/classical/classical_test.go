package classical

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
			Values      []float64 `json:"values"`
			Method      string    `json:"method"`
			Period      int       `json:"period"`
			Frequency   string    `json:"frequency"`
			Model       string    `json:"model"`
			TwoSided    *bool     `json:"two_sided"`
			Extrapolate *int      `json:"extrapolate_trend"`
		} `json:"input"`
		Expect *struct {
			Trend    []float64 `json:"trend"`
			Seasonal []float64 `json:"seasonal"`
			Residual []float64 `json:"residual"`
		} `json:"expect"`
		Rtol float64 `json:"rtol"`
		Atol float64 `json:"atol"`
	} `json:"cases"`
}

func near(t *testing.T, name string, got, want []float64, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", name, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > atol+rtol*math.Abs(want[i]) {
			t.Fatalf("%s[%d] = %.15g, want %.15g", name, i, got[i], want[i])
		}
	}
}

func TestFixtures(t *testing.T) {
	var f fixture
	fixtures.Read(t, "temporal", "seasonal-decomposition", &f)
	seen := 0
	for _, c := range f.Cases {
		in := c.Input
		if c.Expect == nil || in.Method != "classical" {
			continue
		}
		seen++
		t.Run(c.Name, func(t *testing.T) {
			period := in.Period
			if period == 0 {
				period, _ = series.PeriodFromFrequency(in.Frequency)
			}
			ext := period - 1
			if in.Extrapolate != nil {
				ext = *in.Extrapolate
			}
			two := in.TwoSided == nil || *in.TwoSided
			r, err := Decompose(context.Background(), in.Values, period, in.Model == "multiplicative", two, ext)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "trend", r.Trend, c.Expect.Trend, c.Rtol, c.Atol)
			near(t, "seasonal", r.Seasonal, c.Expect.Seasonal, c.Rtol, c.Atol)
			near(t, "residual", r.Residual, c.Expect.Residual, c.Rtol, c.Atol)
		})
	}
	if seen < 4 {
		t.Fatalf("only %d classical cases", seen)
	}
}

func TestNoExtrapolationLeavesNaN(t *testing.T) {
	x := []float64{1, 5, 2, 6, 3, 7, 4, 8, 5, 9}
	r, err := Decompose(context.Background(), x, 2, false, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Period 2: filter [0.25, 0.5, 0.25]; the first and last trend are NaN.
	if !math.IsNaN(r.Trend[0]) || !math.IsNaN(r.Trend[9]) || math.IsNaN(r.Trend[1]) {
		t.Fatalf("trend %v", r.Trend)
	}
	if want := 0.25*1 + 0.5*5 + 0.25*2; r.Trend[1] != want {
		t.Errorf("trend[1] = %g, want %g", r.Trend[1], want)
	}
	// The seasonal means ignore the NaN residuals and sum to 0.
	if s := r.Seasonal[0] + r.Seasonal[1]; math.Abs(s) > 1e-12 {
		t.Errorf("seasonal sum %g", s)
	}
}

func TestCancel(t *testing.T) {
	x := make([]float64, 20000)
	for i := range x {
		x[i] = 1 + float64(i%7)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Decompose(ctx, x, 5000, false, true, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
