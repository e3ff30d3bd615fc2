package threshold

import (
	"context"
	"errors"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
)

type input struct {
	Values     []float64 `json:"values"`
	Window     *int      `json:"window_size"`
	MinHistory *int      `json:"min_history"`
	K          *float64  `json:"k"`
	Method     string    `json:"method"`
	TwoSided   bool      `json:"two_sided"`
	Patience   *int      `json:"drift_patience"`
}

type expect struct {
	Anomaly []bool    `json:"is_anomaly"`
	Warmup  []bool    `json:"warmup"`
	Upper   []float64 `json:"upper"`
	Lower   []float64 `json:"lower"`
	Center  []float64 `json:"center"`
	Spread  []float64 `json:"spread"`
	Drift   []int32   `json:"drift_indices"`
}

func params(in input) Params {
	p := Params{Window: 100, K: 3, DriftPatience: 5, TwoSided: in.TwoSided}
	if in.Window != nil {
		p.Window = *in.Window
	}
	p.MinHistory = min(10, p.Window)
	if in.MinHistory != nil {
		p.MinHistory = *in.MinHistory
	}
	if in.K != nil {
		p.K = *in.K
	}
	if in.Method == "median_mad" {
		p.Method = MedianMAD
	}
	if in.Patience != nil {
		p.DriftPatience = *in.Patience
	}
	return p
}

func bools(t *testing.T, field string, got, want []bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", field, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s[%d] = %v, want %v", field, i, got[i], want[i])
		}
	}
}

func TestFixtures(t *testing.T) {
	f := fixture.Kernel(t, "ml", "adaptive-threshold")
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			var in input
			var want expect
			fixture.Decode(t, c.Input, &in)
			fixture.Decode(t, c.ExpectRaw, &want)
			res, err := Run(context.Background(), in.Values, params(in))
			if err != nil {
				t.Fatal(err)
			}
			rtol, atol := c.Tolerances()
			bools(t, "is_anomaly", res.Anomaly, want.Anomaly)
			bools(t, "warmup", res.Warmup, want.Warmup)
			fixture.Floats(t, "upper", res.Upper, want.Upper, rtol, atol)
			fixture.Floats(t, "lower", res.Lower, want.Lower, rtol, atol)
			fixture.Floats(t, "center", res.Centre, want.Center, rtol, atol)
			fixture.Floats(t, "spread", res.Spread, want.Spread, rtol, atol)
			fixture.Ints(t, "drift_indices", res.Drift, want.Drift)
		})
	}
}

// Hand-checked drift: baseline 0,0,0 (spread 0, so anything above 0 is an
// anomaly); after two consecutive 5s (patience 2) the baseline restarts from
// [5, 5], so the next 5 is normal and 9 is an anomaly.
func TestDriftResetsBaseline(t *testing.T) {
	xs := []float64{0, 0, 0, 5, 5, 5, 9}
	res, err := Run(context.Background(), xs, Params{Window: 10, MinHistory: 2, K: 3, DriftPatience: 2})
	if err != nil {
		t.Fatal(err)
	}
	bools(t, "anomaly", res.Anomaly, []bool{false, false, false, true, true, false, true})
	fixture.Ints(t, "drift", res.Drift, []int32{3})
	fixture.Floats(t, "center", res.Centre, []float64{0, 0, 0, 0, 0, 5, 5}, 0, 0)
}

// MAD of 1,2,3,4,100 is 1 (median 3, deviations 2,1,0,1,97), so the spread
// is 1/Φ⁻¹(3/4) ≈ 1.4826 and the outlier 100 does not inflate it.
func TestMedianMAD(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 100, 8}
	res, err := Run(context.Background(), xs, Params{Window: 5, MinHistory: 5, K: 3, Method: MedianMAD})
	if err != nil {
		t.Fatal(err)
	}
	fixture.Floats(t, "spread", res.Spread[5:], []float64{1.482602218505602}, 1e-15, 0)
	fixture.Floats(t, "upper", res.Upper[5:], []float64{3 + 3*1.482602218505602}, 1e-15, 0)
	bools(t, "anomaly", res.Anomaly, []bool{false, false, false, false, false, true})
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, make([]float64, 5000), Params{Window: 10, MinHistory: 1, K: 3}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
