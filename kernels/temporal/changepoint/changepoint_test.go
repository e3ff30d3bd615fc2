package changepoint

import (
	"context"
	"errors"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

type fixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			Values  []float64 `json:"values"`
			Method  string    `json:"method"`
			Cost    string    `json:"cost"`
			Penalty *float64  `json:"penalty"`
			MinSeg  *int      `json:"min_segment"`
			MaxCP   int       `json:"max_changepoints"`
		} `json:"input"`
		Expect *struct {
			ChangePoints []int     `json:"change_points"`
			Means        []float64 `json:"segment_means"`
			Variances    []float64 `json:"segment_variances"`
			Cost         float64   `json:"cost"`
			Penalized    float64   `json:"penalized_cost"`
			Penalty      float64   `json:"penalty"`
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
			t.Fatalf("%s[%d] = %.12g, want %.12g", name, i, got[i], want[i])
		}
	}
}

func TestFixtures(t *testing.T) {
	var f fixture
	fixtures.Read(t, "temporal", "changepoint-detection", &f)
	ctx := context.Background()
	for _, c := range f.Cases {
		if c.Expect == nil {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			in, e := c.Input, c.Expect
			kind := L2
			if in.Cost == "normal" {
				kind = Normal
			}
			pen := DefaultPenalty(in.Values, kind)
			if in.Penalty != nil {
				pen = *in.Penalty
			}
			minSeg := 2
			if in.MinSeg != nil {
				minSeg = *in.MinSeg
			}
			var cps []int
			var err error
			switch in.Method {
			case "pelt":
				cps, err = PELT(ctx, in.Values, kind, pen, minSeg)
			case "binseg":
				cps, err = BinSeg(ctx, in.Values, kind, pen, minSeg, in.MaxCP)
			case "cusum":
				cps, err = CUSUM(ctx, in.Values, pen, minSeg, in.MaxCP)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cps, e.ChangePoints) && len(cps)+len(e.ChangePoints) > 0 {
				t.Fatalf("change points %v, want %v", cps, e.ChangePoints)
			}
			s := Summarize(in.Values, cps, kind, pen)
			near(t, "penalty", []float64{pen}, []float64{e.Penalty}, c.Rtol, c.Atol)
			near(t, "means", s.Means, e.Means, c.Rtol, c.Atol)
			near(t, "variances", s.Variances, e.Variances, c.Rtol, c.Atol)
			near(t, "cost", []float64{s.Cost, s.Penalized}, []float64{e.Cost, e.Penalized}, c.Rtol, c.Atol)
		})
	}
}

// optimalPartitioning is the O(n^2) recursion PELT must equal.
func optimalPartitioning(y []float64, kind Cost, pen float64, minSeg int) []int {
	n := len(y)
	if n < 2*minSeg || constant(y) {
		return nil
	}
	c := newCosts(y, kind)
	f := make([]float64, n+1)
	last := make([]int, n+1)
	f[0] = -pen
	for t := minSeg; t <= n; t++ {
		best, arg := math.Inf(1), -1
		for s := 0; s <= t-minSeg; s++ {
			if s != 0 && s < minSeg {
				continue
			}
			if v := f[s] + c.of(s, t) + pen; v < best {
				best, arg = v, s
			}
		}
		f[t], last[t] = best, arg
	}
	var cps []int
	for t := n; t > 0; t = last[t] {
		if last[t] > 0 {
			cps = append(cps, last[t])
		}
	}
	slices.Sort(cps)
	return cps
}

func TestPELTEqualsOptimalPartitioning(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 60; trial++ {
		n := 20 + rng.IntN(150)
		y := make([]float64, n)
		level := 0.0
		for i := range y {
			if rng.Float64() < 0.05 {
				level += rng.NormFloat64() * 3
			}
			y[i] = level + rng.NormFloat64()*(0.5+float64(i%3))
		}
		kind := Cost(trial % 2)
		minSeg := 1 + rng.IntN(6)
		if kind == Normal && minSeg < 2 {
			minSeg = 2
		}
		pen := rng.Float64() * 10
		got, err := PELT(context.Background(), y, kind, pen, minSeg)
		if err != nil {
			t.Fatal(err)
		}
		want := optimalPartitioning(y, kind, pen, minSeg)
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d (n=%d kind=%d minSeg=%d pen=%.3g): PELT %v, OP %v", trial, n, kind, minSeg, pen, got, want)
		}
	}
}

func TestEdgeCases(t *testing.T) {
	ctx := context.Background()
	for _, y := range [][]float64{{1}, {1, 1, 1, 1, 1, 1}, {1, 2, 3}} {
		for _, fn := range []func() ([]int, error){
			func() ([]int, error) { return PELT(ctx, y, Normal, 1, 2) },
			func() ([]int, error) { return BinSeg(ctx, y, L2, 0, 2, 0) },
			func() ([]int, error) { return CUSUM(ctx, y, 0, 2, 0) },
		} {
			cps, err := fn()
			if err != nil || len(cps) != 0 {
				t.Errorf("%v: cps %v err %v, want none", y, cps, err)
			}
		}
	}
	// A clean step is found by all three methods.
	y := []float64{0, 0, 0, 0, 0, 5, 5, 5, 5, 5}
	for name, fn := range map[string]func() ([]int, error){
		"pelt":   func() ([]int, error) { return PELT(ctx, y, L2, 1, 2) },
		"binseg": func() ([]int, error) { return BinSeg(ctx, y, L2, 1, 2, 0) },
		"cusum":  func() ([]int, error) { return CUSUM(ctx, y, 1, 2, 0) },
	} {
		if cps, err := fn(); err != nil || !slices.Equal(cps, []int{5}) {
			t.Errorf("%s: %v %v, want [5]", name, cps, err)
		}
	}
}

func TestCancel(t *testing.T) {
	y := make([]float64, 50000)
	for i := range y {
		y[i] = math.Sin(float64(i) * 0.37)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := PELT(ctx, y, L2, 0.001, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("PELT: %v", err)
	}
	if _, err := BinSeg(ctx, y, L2, 0.001, 1, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("BinSeg: %v", err)
	}
	if _, err := CUSUM(ctx, y, 0.001, 1, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("CUSUM: %v", err)
	}
}
