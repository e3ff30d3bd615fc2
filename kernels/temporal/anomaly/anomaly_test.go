package anomaly

import (
	"context"
	"errors"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"slices"
	"testing"
)

type fixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			Values        []float64 `json:"values"`
			Method        string    `json:"method"`
			Threshold     *float64  `json:"threshold"`
			IQRMultiplier *float64  `json:"iqr_multiplier"`
			Alpha         *float64  `json:"alpha"`
			MaxAnomalies  *int      `json:"max_anomalies"`
			Window        int       `json:"window"`
		} `json:"input"`
		Expect *struct {
			Indices    []int     `json:"anomaly_indices"`
			Scores     []float64 `json:"scores"`
			Lower      *float64  `json:"lower_bound"`
			Upper      *float64  `json:"upper_bound"`
			Candidates []int     `json:"esd_candidates"`
			Statistics []float64 `json:"esd_statistics"`
			Critical   []float64 `json:"esd_critical_values"`
			Start      int       `json:"scores_start"`
			Count      int       `json:"anomaly_count"`
		} `json:"expect"`
		Rtol float64 `json:"rtol"`
		Atol float64 `json:"atol"`
	} `json:"cases"`
}

func or[T any](p *T, def T) T {
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
	for i := range got {
		if math.Abs(got[i]-want[i]) > atol+rtol*math.Abs(want[i]) {
			t.Fatalf("%s[%d] = %.12g, want %.12g", name, i, got[i], want[i])
		}
	}
}

func TestFixtures(t *testing.T) {
	var f fixture
	fixtures.Read(t, "temporal", "anomaly-detection", &f)
	var err error
	for _, c := range f.Cases {
		if c.Expect == nil {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			in, e := c.Input, c.Expect
			rtol, atol := c.Rtol, c.Atol
			if rtol == 0 {
				rtol = 1e-9
			}
			if atol == 0 {
				atol = 1e-12
			}
			var res Result
			switch {
			case in.Window > 0:
				// The windowed detector: the trailing scores, their
				// anomalies and the bounds for the next point.
				thr := or(in.Threshold, 3)
				if in.Method == "iqr" {
					thr = or(in.IQRMultiplier, 1.5)
				}
				r := NewRolling(in.Method, in.Window, thr)
				for _, v := range in.Values {
					r.Push(v)
				}
				var start int
				start, res.Scores, res.Indices = r.Trailing()
				res.Lower, res.Upper, _ = r.Bounds()
				if start != e.Start || r.Count != e.Count {
					t.Errorf("scores_start %d anomaly_count %d, want %d %d", start, r.Count, e.Start, e.Count)
				}
			case in.Method == "zscore":
				res = ZScore(in.Values, or(in.Threshold, 3))
			case in.Method == "iqr":
				res = IQR(in.Values, or(in.IQRMultiplier, 1.5))
			case in.Method == "esd":
				r := or(in.MaxAnomalies, max(1, len(in.Values)/10))
				res, err = ESD(context.Background(), in.Values, or(in.Alpha, 0.05), r)
				if err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(res.Indices, e.Indices) && !(len(res.Indices) == 0 && len(e.Indices) == 0) {
				t.Errorf("indices %v, want %v", res.Indices, e.Indices)
			}
			if e.Scores != nil { // the critical-value accuracy cases omit scores
				near(t, "scores", res.Scores, e.Scores, rtol, atol)
			}
			if e.Lower != nil {
				near(t, "bounds", []float64{res.Lower, res.Upper}, []float64{*e.Lower, *e.Upper}, rtol, atol)
			}
			if e.Candidates != nil {
				if !slices.Equal(res.Candidates, e.Candidates) {
					t.Errorf("candidates %v, want %v", res.Candidates, e.Candidates)
				}
				if e.Statistics != nil {
					near(t, "statistics", res.Statistics, e.Statistics, rtol, atol)
				}
				near(t, "critical", res.Critical, e.Critical, rtol, atol)
			}
		})
	}
}

func TestPercentileMatchesNumpy(t *testing.T) {
	// numpy.percentile([1, 2, 3, 4], [25, 75]) = [1.75, 3.25];
	// numpy.percentile([5], 25) = 5.
	s := []float64{1, 2, 3, 4}
	if got := []float64{percentile(s, 25), percentile(s, 75)}; got[0] != 1.75 || got[1] != 3.25 {
		t.Errorf("quartiles %v", got)
	}
	if got := percentile([]float64{5}, 25); got != 5 {
		t.Errorf("single point: %v", got)
	}
}

func TestConstantSeries(t *testing.T) {
	x := []float64{2, 2, 2, 2, 2}
	if r := ZScore(x, 3); len(r.Indices) != 0 || r.Scores[0] != 0 {
		t.Errorf("zscore on constant series: %+v", r)
	}
	// IQR 0: only points off the quartiles are anomalies, scored by distance.
	r := IQR([]float64{1, 1, 1, 1, 1, 4}, 1.5)
	if !slices.Equal(r.Indices, []int{5}) || r.Scores[5] != 3 {
		t.Errorf("iqr with zero spread: %+v", r)
	}
}

func TestESDTiesPickFirstIndex(t *testing.T) {
	// Two equally extreme points: numpy.argmax removes the first one first.
	x := []float64{0, 10, 0.1, -0.1, 0.2, 10, 0, 0.1}
	r, err := ESD(context.Background(), x, 0.05, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Candidates[0] != 1 || r.Candidates[1] != 5 {
		t.Errorf("candidates %v, want [1 5]", r.Candidates)
	}
}

func TestESDCancel(t *testing.T) {
	x := make([]float64, 100000)
	for i := range x {
		x[i] = math.Sin(float64(i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ESD(ctx, x, 0.05, 50000); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
