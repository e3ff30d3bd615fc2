package correlation

import (
	"context"
	"errors"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// corrFixture is the part of testdata/fixtures/risk/realtime-correlation.json
// these tests read (numpy.corrcoef).
type corrFixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			Series [][]float64 `json:"series"`
			Window int         `json:"window"`
		} `json:"input"`
		Expect *struct {
			Correlation [][]float64 `json:"correlation"`
			Means       []float64   `json:"means"`
			StdDevs     []float64   `json:"std_devs"`
			Constant    []int       `json:"constant_series"`
		} `json:"expect"`
		RTol float64 `json:"rtol"`
		ATol float64 `json:"atol"`
	} `json:"cases"`
}

func loadFixture(t *testing.T) corrFixture {
	t.Helper()
	var fx corrFixture
	fixtures.Read(t, "risk", "realtime-correlation", &fx)
	// A window keeps the last observations only (the kernel cuts the
	// series before calling Matrix).
	for i := range fx.Cases {
		in := &fx.Cases[i].Input
		if w := in.Window; w >= 2 && len(in.Series) > 0 && len(in.Series[0]) > w {
			for j, s := range in.Series {
				in.Series[j] = s[len(s)-w:]
			}
		}
	}
	return fx
}

// Sliding a window through a long series with Add and Remove gives the
// window's matrix (within 1e-9: removals round), before any rebuild.
func TestAccumulatorRemove(t *testing.T) {
	const n, total, w = 4, 500, 50
	series := make([][]float64, n)
	for i := range series {
		series[i] = make([]float64, total)
		for k := range series[i] {
			series[i][k] = 100 + math.Sin(float64(k*(i+2))*0.21) + 0.1*float64(i)*math.Cos(float64(k)*0.05)
		}
	}
	acc := NewAccumulator(n)
	obs := func(k int) []float64 {
		o := make([]float64, n)
		for i := range o {
			o[i] = series[i][k]
		}
		return o
	}
	for k := range total {
		if err := acc.Add(obs(k)); err != nil {
			t.Fatal(err)
		}
		if k >= w {
			if err := acc.Remove(obs(k - w)); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := acc.Result()
	if err != nil {
		t.Fatal(err)
	}
	win := make([][]float64, n)
	for i := range win {
		win[i] = series[i][total-w:]
	}
	want, err := Matrix(context.Background(), win)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Corr {
		if math.Abs(got.Corr[i]-want.Corr[i]) > 1e-9 {
			t.Fatalf("corr[%d] = %.17g, want %.17g", i, got.Corr[i], want.Corr[i])
		}
	}
	for i := range want.Means {
		if math.Abs(got.Means[i]-want.Means[i]) > 1e-9*math.Abs(want.Means[i]) || math.Abs(got.StdDevs[i]-want.StdDevs[i]) > 1e-9*want.StdDevs[i] {
			t.Fatalf("series %d: mean %g/%g sd %g/%g", i, got.Means[i], want.Means[i], got.StdDevs[i], want.StdDevs[i])
		}
	}
	if err := NewAccumulator(1).Remove([]float64{1}); err == nil {
		t.Fatal("Remove from an empty accumulator")
	}
}

func TestMatrixMatchesNumpy(t *testing.T) {
	ran := 0
	for _, c := range loadFixture(t).Cases {
		if c.Expect == nil {
			continue
		}
		r, err := Matrix(context.Background(), c.Input.Series)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		checkResult(t, c.Name+" (batch)", r, c.Expect.Correlation, c.Expect.Means, c.Expect.StdDevs, c.RTol, c.ATol)
		if !slices.Equal(r.Constant, c.Expect.Constant) && len(r.Constant)+len(c.Expect.Constant) > 0 {
			t.Errorf("%s: constant series %v, want %v", c.Name, r.Constant, c.Expect.Constant)
		}
		ran++
	}
	if ran < 4 {
		t.Fatalf("only %d fixture cases ran", ran)
	}
}

// Feeding the observations one at a time gives the same matrix (the ring
// kernel's incremental path), within the fixture's 1e-12.
func TestAccumulatorMatchesNumpy(t *testing.T) {
	for _, c := range loadFixture(t).Cases {
		if c.Expect == nil {
			continue
		}
		s := c.Input.Series
		acc := NewAccumulator(len(s))
		obs := make([]float64, len(s))
		for k := range s[0] {
			for i := range s {
				obs[i] = s[i][k]
			}
			if err := acc.Add(obs); err != nil {
				t.Fatal(err)
			}
		}
		r, err := acc.Result()
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, c.Name+" (incremental)", r, c.Expect.Correlation, c.Expect.Means, c.Expect.StdDevs, c.RTol, c.ATol)
	}
}

func checkResult(t *testing.T, name string, r *Result, corr [][]float64, means, stds []float64, rtol, atol float64) {
	t.Helper()
	near := func(what string, got, want float64) bool {
		if math.Abs(got-want) > atol+rtol*math.Abs(want) {
			t.Errorf("%s: %s = %.17g, want %.17g", name, what, got, want)
			return false
		}
		return true
	}
	n := r.N
	for i := range n {
		near("mean", r.Means[i], means[i])
		near("std", r.StdDevs[i], stds[i])
		for j := range n {
			if !near("corr", r.Corr[i*n+j], corr[i][j]) {
				return
			}
		}
	}
}

func TestMatrixRejectsBadInput(t *testing.T) {
	cases := []struct {
		field  string
		series [][]float64
	}{
		{"series", nil},
		{"series[0]", [][]float64{{1}}},
		{"series[1]", [][]float64{{1, 2, 3}, {1, 2}}},
		{"series[1].values[0]", [][]float64{{1, 2}, {math.NaN(), 2}}},
	}
	for _, c := range cases {
		_, err := Matrix(context.Background(), c.series)
		if fe, ok := kerr.AsField(err); !ok || fe.Field != c.field {
			t.Errorf("err = %v, want field %s", err, c.field)
		}
	}
}

func TestMatrixCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Matrix(ctx, [][]float64{{1, 2}, {2, 1}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestAccumulatorNeedsTwoObservations(t *testing.T) {
	acc := NewAccumulator(2)
	if _, err := acc.Result(); err == nil {
		t.Fatal("no error for an empty accumulator")
	}
	if err := acc.Add([]float64{1}); err == nil {
		t.Fatal("no error for a short observation")
	}
}

// One worker or several, the matrix is the same bit for bit (n = 11: two
// groups of four rows and a partial one).
func TestMatrixDeterministicAcrossWorkers(t *testing.T) {
	series := make([][]float64, 11)
	for i := range series {
		series[i] = make([]float64, 300)
		for k := range series[i] {
			series[i][k] = math.Sin(float64(k*(i+1))*0.37) + 0.01*float64(i)
		}
	}
	prev := runtime.GOMAXPROCS(1)
	one, err := Matrix(context.Background(), series)
	runtime.GOMAXPROCS(4)
	four, err2 := Matrix(context.Background(), series)
	runtime.GOMAXPROCS(prev)
	if err != nil || err2 != nil {
		t.Fatal(err, err2)
	}
	if !slices.Equal(one.Corr, four.Corr) {
		t.Fatal("the matrix depends on the number of workers")
	}
	for i := range 11 {
		for j := range 11 {
			if one.Corr[i*11+j] != one.Corr[j*11+i] {
				t.Fatalf("not symmetric at %d,%d", i, j)
			}
		}
	}
}
