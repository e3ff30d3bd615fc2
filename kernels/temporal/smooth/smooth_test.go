package smooth

import (
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"testing"
)

type fixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			Values     []float64 `json:"values"`
			Method     string    `json:"method"`
			Window     *int      `json:"window"`
			MinPeriods *int      `json:"min_periods"`
			Alpha      *float64  `json:"alpha"`
			Adjust     *bool     `json:"adjust"`
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
		in := c.Input
		if c.Expect == nil || in.Method == "lowess" {
			continue
		}
		seen++
		t.Run(c.Name, func(t *testing.T) {
			window, minp := 10, 1
			if in.Window != nil {
				window = *in.Window
			}
			if in.MinPeriods != nil {
				minp = *in.MinPeriods
			}
			var got []float64
			switch in.Method {
			case "sma":
				got = Rolling(in.Values, window, minp, false)
			case "cma":
				got = Rolling(in.Values, window, minp, true)
			case "ema":
				alpha := 2 / (float64(window) + 1)
				if in.Alpha != nil {
					alpha = *in.Alpha
				}
				adjust := in.Adjust == nil || *in.Adjust
				got = EWM(in.Values, alpha, adjust)
			}
			for i := range got {
				if w := c.Expect.Trend[i]; math.Abs(got[i]-w) > 1e-12+1e-12*math.Abs(w) {
					t.Fatalf("trend[%d] = %.17g, want %.17g", i, got[i], w)
				}
			}
		})
	}
	if seen < 5 {
		t.Fatalf("only %d moving-average cases", seen)
	}
}

func TestRollingEdges(t *testing.T) {
	x := []float64{0, 1, 4, 9, 16, 25, 36, 49}
	// pandas: Series(x).rolling(4, center=True, min_periods=1).mean()
	want := []float64{0.5, 5.0 / 3, 3.5, 7.5, 13.5, 21.5, 31.5, 110.0 / 3}
	got := Rolling(x, 4, 1, true)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("center[%d] = %g, want %g", i, got[i], want[i])
		}
	}
	// min_periods = window leaves the first window-1 points NaN.
	got = Rolling(x, 3, 3, false)
	if !math.IsNaN(got[0]) || !math.IsNaN(got[1]) || got[2] != 5.0/3 {
		t.Errorf("trailing with min_periods: %v", got)
	}
	// A window of identical values is exactly that value.
	got = Rolling([]float64{0.1, 0.7, 0.7, 0.7}, 3, 1, false)
	if got[3] != 0.7 {
		t.Errorf("constant window: %.17g", got[3])
	}
	// A window larger than the series.
	got = Rolling([]float64{1, 2}, 5, 1, true)
	if got[0] != 1.5 || got[1] != 1.5 {
		t.Errorf("wide centred window: %v", got)
	}
}

func TestEWMNoAdjustRecursion(t *testing.T) {
	x := []float64{1, 3, 2, 5}
	got := EWM(x, 0.5, false)
	want := []float64{1, 2, 2, 3.5}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Errorf("ewm[%d] = %g, want %g", i, got[i], want[i])
		}
	}
}
