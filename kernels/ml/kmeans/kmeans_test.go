package kmeans

import (
	"context"
	"errors"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
)

type input struct {
	Data      []float64 `json:"data"`
	NSamples  int       `json:"n_samples"`
	NFeatures int       `json:"n_features"`
	K         int       `json:"k"`
	Init      []float64 `json:"init"`
	MaxIter   *int      `json:"max_iterations"`
	Tol       *float64  `json:"tolerance"`
	Seed      uint64    `json:"seed"`
}

type expect struct {
	Labels     []int32   `json:"labels"`
	Centroids  []float64 `json:"centroids"`
	Inertia    *float64  `json:"inertia"`
	Iterations *int      `json:"iterations"`
}

func params(in input) Params {
	p := Params{K: in.K, MaxIter: 300, Tol: 1e-4, NInit: 10, Seed: in.Seed, Init: in.Init}
	if in.MaxIter != nil {
		p.MaxIter = *in.MaxIter
	}
	if in.Tol != nil {
		p.Tol = *in.Tol
	}
	return p
}

func TestFixtures(t *testing.T) {
	f := fixture.Kernel(t, "ml", "kmeans-cluster")
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			var in input
			var want expect
			fixture.Decode(t, c.Input, &in)
			fixture.Decode(t, c.ExpectRaw, &want)
			m := matrix.Dense{Rows: in.NSamples, Cols: in.NFeatures, Data: in.Data}
			res, err := Run(context.Background(), m, params(in))
			if err != nil {
				t.Fatal(err)
			}
			rtol, atol := c.Tolerances()
			if c.Compare["labels"] == "partition" {
				if !fixture.SamePartition(res.Labels, want.Labels) {
					t.Errorf("labels are not the reference partition")
				}
			} else {
				fixture.Ints(t, "labels", res.Labels, want.Labels)
			}
			if want.Centroids != nil {
				fixture.Floats(t, "centroids", res.Centroids, want.Centroids, rtol, atol)
			}
			if want.Inertia != nil && !fixture.Close(res.Inertia, *want.Inertia, rtol, atol) {
				t.Errorf("inertia = %.17g, want %.17g", res.Inertia, *want.Inertia)
			}
			if want.Iterations != nil && res.Iterations != *want.Iterations {
				t.Errorf("iterations = %d, want %d", res.Iterations, *want.Iterations)
			}
			var q struct {
				InertiaAtMost *float64 `json:"inertia_at_most"`
			}
			fixture.Decode(t, c.Extra["quality"], &q)
			if q.InertiaAtMost != nil && res.Inertia > *q.InertiaAtMost {
				t.Errorf("k-means++ inertia %g above 1.01 × sklearn's best of 10 (%g)", res.Inertia, *q.InertiaAtMost)
			}
		})
	}
}

// Same seed, same answer; the result must not depend on the core count.
func TestDeterministicPerSeed(t *testing.T) {
	m := blobs(3000, 3)
	p := Params{K: 5, MaxIter: 100, Tol: 1e-4, NInit: 3, Seed: 42}
	a, err := Run(context.Background(), m, p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(context.Background(), m, p)
	if err != nil {
		t.Fatal(err)
	}
	if a.Inertia != b.Inertia {
		t.Fatalf("inertia %v vs %v for the same seed", a.Inertia, b.Inertia)
	}
	fixture.Ints(t, "labels", a.Labels, b.Labels)
	fixture.Floats(t, "centroids", a.Centroids, b.Centroids, 0, 0)
}

func TestKEqualsN(t *testing.T) {
	m := matrix.Dense{Rows: 3, Cols: 1, Data: []float64{0, 5, 9}}
	res, err := Run(context.Background(), m, Params{K: 3, MaxIter: 10, Tol: 1e-4, NInit: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Inertia != 0 {
		t.Errorf("inertia = %g, want 0 with one centre per sample", res.Inertia)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, blobs(5000, 4), Params{K: 4, MaxIter: 300, Tol: 1e-4, NInit: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// blobs is a small deterministic data set (no RNG needed for the tests).
func blobs(n, d int) matrix.Dense {
	data := make([]float64, n*d)
	for i := 0; i < n; i++ {
		c := float64(i % 5 * 10)
		for j := 0; j < d; j++ {
			data[i*d+j] = c + float64((i*7+j*13)%17)/17
		}
	}
	return matrix.Dense{Rows: n, Cols: d, Data: data}
}

// naiveLloyd is textbook Lloyd (every sample against every centre each
// iteration) with sklearn's stopping rules, for checking that the bound-based
// assignment step changes nothing.
func naiveLloyd(m matrix.Dense, centres []float64, k, maxIter int, tol float64) ([]int32, []float64, int) {
	n, d := m.Rows, m.Cols
	labels := make([]int32, n)
	old := make([]int32, n)
	for i := range old {
		old[i] = -1
	}
	it := 0
	for it = 0; it < maxIter; it++ {
		sum := make([]float64, k*d)
		cnt := make([]float64, k)
		for i := 0; i < n; i++ {
			labels[i], _ = nearest(m.Row(i), centres, k, d)
			cnt[labels[i]]++
			for j, v := range m.Row(i) {
				sum[int(labels[i])*d+j] += v
			}
		}
		var shift float64
		for c := 0; c < k; c++ {
			for j := 0; j < d; j++ {
				sum[c*d+j] /= cnt[c]
			}
			shift += SqDist(sum[c*d:(c+1)*d], centres[c*d:(c+1)*d])
		}
		centres = sum
		same := true
		for i := range labels {
			same = same && labels[i] == old[i]
		}
		if same || shift <= tol {
			break
		}
		copy(old, labels)
	}
	return labels, centres, min(it+1, maxIter)
}

func TestBoundsChangeNothing(t *testing.T) {
	n, d, k := 4000, 3, 7
	data := make([]float64, n*d)
	x := uint64(1)
	for i := range data { // uniform data: many iterations, many label changes
		x = x*6364136223846793005 + 1442695040888963407
		data[i] = float64(x>>11) / (1 << 53)
	}
	m := matrix.Dense{Rows: n, Cols: d, Data: data}
	init := append([]float64(nil), data[:k*d]...)
	res, err := Run(context.Background(), m, Params{K: k, MaxIter: 500, Tol: 0, Init: init})
	if err != nil {
		t.Fatal(err)
	}
	labels, centres, iters := naiveLloyd(m, append([]float64(nil), init...), k, 500, 0)
	if res.Iterations != iters || res.Iterations < 10 {
		t.Errorf("iterations %d, naive %d", res.Iterations, iters)
	}
	fixture.Ints(t, "labels", res.Labels, labels)
	fixture.Floats(t, "centroids", res.Centroids, centres, 1e-12, 1e-12)
}
