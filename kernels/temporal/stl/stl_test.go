package stl

import (
	"context"
	"errors"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"testing"
)

type fixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			Values       []float64 `json:"values"`
			Method       string    `json:"method"`
			Period       int       `json:"period"`
			Seasonal     *int      `json:"seasonal"`
			Trend        *int      `json:"trend"`
			LowPass      *int      `json:"low_pass"`
			SeasonalDeg  *int      `json:"seasonal_deg"`
			TrendDeg     *int      `json:"trend_deg"`
			LowPassDeg   *int      `json:"low_pass_deg"`
			Robust       bool      `json:"robust"`
			SeasonalJump *int      `json:"seasonal_jump"`
			TrendJump    *int      `json:"trend_jump"`
			LowPassJump  *int      `json:"low_pass_jump"`
			InnerIter    *int      `json:"inner_iter"`
			OuterIter    *int      `json:"outer_iter"`
		} `json:"input"`
		Expect *struct {
			Trend    []float64 `json:"trend"`
			Seasonal []float64 `json:"seasonal"`
			Residual []float64 `json:"residual"`
			Weights  []float64 `json:"weights"`
		} `json:"expect"`
		Rtol float64 `json:"rtol"`
		Atol float64 `json:"atol"`
	} `json:"cases"`
}

func or(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func near(t *testing.T, name string, got, want []float64, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", name, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		worst = math.Max(worst, math.Abs(got[i]-want[i]))
		if math.Abs(got[i]-want[i]) > atol+rtol*math.Abs(want[i]) {
			t.Fatalf("%s[%d] = %.15g, want %.15g", name, i, got[i], want[i])
		}
	}
	t.Logf("%s: max abs diff %.3g", name, worst)
}

func TestFixtures(t *testing.T) {
	var f fixture
	fixtures.Read(t, "temporal", "seasonal-decomposition", &f)
	seen := 0
	for _, c := range f.Cases {
		in := c.Input
		if c.Expect == nil || in.Method != "stl" {
			continue
		}
		seen++
		t.Run(c.Name, func(t *testing.T) {
			seasonal := or(in.Seasonal, 7)
			inner, outer := 5, 0
			if in.Robust {
				inner, outer = 2, 15
			}
			p := Params{
				Period: in.Period, Seasonal: seasonal,
				Trend:       or(in.Trend, DefaultTrend(in.Period, seasonal)),
				LowPass:     or(in.LowPass, DefaultLowPass(in.Period)),
				SeasonalDeg: or(in.SeasonalDeg, 1), TrendDeg: or(in.TrendDeg, 1), LowPassDeg: or(in.LowPassDeg, 1),
				SeasonalJump: or(in.SeasonalJump, 1), TrendJump: or(in.TrendJump, 1), LowPassJump: or(in.LowPassJump, 1),
				Robust: in.Robust, InnerIter: or(in.InnerIter, inner), OuterIter: or(in.OuterIter, outer),
			}
			r, err := Decompose(context.Background(), in.Values, p)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "trend", r.Trend, c.Expect.Trend, c.Rtol, c.Atol)
			near(t, "seasonal", r.Seasonal, c.Expect.Seasonal, c.Rtol, c.Atol)
			near(t, "residual", r.Residual, c.Expect.Residual, c.Rtol, c.Atol)
			near(t, "weights", r.Weights, c.Expect.Weights, c.Rtol, c.Atol)
		})
	}
	if seen < 4 {
		t.Fatalf("only %d stl cases", seen)
	}
}

func TestDefaults(t *testing.T) {
	// statsmodels: STL(period=12) uses trend 23 and low_pass 13; (12, 13) -> 21; (4, 7) -> 9.
	if got := DefaultTrend(12, 7); got != 23 {
		t.Errorf("DefaultTrend(12, 7) = %d", got)
	}
	if got := DefaultTrend(12, 13); got != 21 {
		t.Errorf("DefaultTrend(12, 13) = %d", got)
	}
	if got := DefaultTrend(4, 7); got != 9 {
		t.Errorf("DefaultTrend(4, 7) = %d", got)
	}
	if got := DefaultLowPass(12); got != 13 {
		t.Errorf("DefaultLowPass(12) = %d", got)
	}
}

func TestPureSeasonalSeries(t *testing.T) {
	// A periodic series with no trend or noise: the residual vanishes.
	n, period := 60, 6
	y := make([]float64, n)
	for i := range y {
		y[i] = []float64{1, 3, 2, -1, 0, -5}[i%period]
	}
	r, err := Decompose(context.Background(), y, Params{Period: period, Seasonal: 7, Trend: DefaultTrend(period, 7),
		LowPass: DefaultLowPass(period), SeasonalDeg: 1, TrendDeg: 1, LowPassDeg: 1,
		SeasonalJump: 1, TrendJump: 1, LowPassJump: 1, InnerIter: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i := range y {
		if math.Abs(r.Residual[i]) > 1e-9 || math.Abs(r.Trend[i]+r.Seasonal[i]-y[i]) > 1e-9 {
			t.Fatalf("point %d: trend %g seasonal %g y %g", i, r.Trend[i], r.Seasonal[i], y[i])
		}
	}
}

func TestCancel(t *testing.T) {
	y := make([]float64, 10000)
	for i := range y {
		y[i] = math.Sin(float64(i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Decompose(ctx, y, Params{Period: 12, Seasonal: 7, Trend: 23, LowPass: 13, SeasonalJump: 1,
		TrendJump: 1, LowPassJump: 1, InnerIter: 2, OuterIter: 15})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
