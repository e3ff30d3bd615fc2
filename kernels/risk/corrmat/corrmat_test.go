package corrmat

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/gokernels/gokernels/kernels/kerr"
)

func TestFlattenErrors(t *testing.T) {
	cases := []struct {
		name  string
		rows  [][]float64
		n     int
		field string
	}{
		{"row count", [][]float64{{1}}, 2, "correlation"},
		{"row length", [][]float64{{1, 0}, {0}}, 2, "correlation[1]"},
		{"diagonal", [][]float64{{1, 0}, {0, 0.9}}, 2, "correlation[1].values[1]"},
		{"range", [][]float64{{1, 1.5}, {1.5, 1}}, 2, "correlation[0].values[1]"},
		{"asymmetric", [][]float64{{1, 0.5}, {0.4, 1}}, 2, "correlation[0].values[1]"},
		{"nan", [][]float64{{1, math.NaN()}, {0, 1}}, 2, "correlation[0].values[1]"},
	}
	for _, c := range cases {
		_, err := Flatten("correlation", c.rows, c.n)
		fe, ok := kerr.AsField(err)
		if !ok || fe.Field != c.field {
			t.Errorf("%s: err = %v, want field %s", c.name, err, c.field)
		}
	}
	if _, err := Flatten("correlation", [][]float64{{1, 0.3}, {0.3, 1}}, 2); err != nil {
		t.Fatalf("valid matrix rejected: %v", err)
	}
}

// The factor must reproduce the matrix, and one entry is checked by hand:
// L[2][1] = (c21 − L20·L10)/L11 = (0.3 − 0.2·0.5)/√0.75.
func TestCholeskyReconstructs(t *testing.T) {
	c := []float64{1, 0.5, 0.2, 0.5, 1, 0.3, 0.2, 0.3, 1}
	l, err := Cholesky(context.Background(), c, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.2 / math.Sqrt(0.75); math.Abs(l[7]-want) > 1e-15 {
		t.Errorf("L[2][1] = %v, want %v", l[7], want)
	}
	assertReconstructs(t, c, l, 3)
}

func TestCholeskySemiDefinite(t *testing.T) {
	// Assets 0 and 1 perfectly correlated, asset 2 perfectly anti-correlated.
	c := []float64{1, 1, -1, 1, 1, -1, -1, -1, 1}
	l, err := Cholesky(context.Background(), c, 3)
	if err != nil {
		t.Fatalf("PSD singular matrix rejected: %v", err)
	}
	assertReconstructs(t, c, l, 3)
}

func TestCholeskyRejectsIndefinite(t *testing.T) {
	c := []float64{1, 0.9, -0.9, 0.9, 1, 0.9, -0.9, 0.9, 1} // eigenvalue -0.8
	_, err := Cholesky(context.Background(), c, 3)
	var np *NotPSDError
	if !errors.As(err, &np) {
		t.Fatalf("err = %v, want NotPSDError", err)
	}
}

// A large equicorrelated matrix exercises the parallel path; its factor must
// match the serial one bit for bit.
func TestCholeskyParallelDeterministic(t *testing.T) {
	n := 300
	c := make([]float64, n*n)
	for i := range n {
		for j := range n {
			c[i*n+j] = 0.3
		}
		c[i*n+i] = 1
	}
	l, err := Cholesky(context.Background(), c, n)
	if err != nil {
		t.Fatal(err)
	}
	assertReconstructs(t, c, l, n)
	serial := make([]float64, n*n)
	for j := range n {
		d := c[j*n+j] - dot(serial[j*n:j*n+j], serial[j*n:j*n+j])
		serial[j*n+j] = math.Sqrt(d)
		for i := j + 1; i < n; i++ {
			serial[i*n+j] = (c[i*n+j] - dot(serial[i*n:i*n+j], serial[j*n:j*n+j])) / serial[j*n+j]
		}
	}
	for k := range l {
		if l[k] != serial[k] {
			t.Fatalf("parallel factor differs at %d: %v vs %v", k, l[k], serial[k])
		}
	}
}

func TestCholeskyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Cholesky(ctx, []float64{1}, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func assertReconstructs(t *testing.T, c, l []float64, n int) {
	t.Helper()
	for i := range n {
		for j := range n {
			var s float64
			for k := range n {
				s += l[i*n+k] * l[j*n+k]
			}
			if math.Abs(s-c[i*n+j]) > 1e-12 {
				t.Fatalf("(L·Lᵀ)[%d][%d] = %v, want %v", i, j, s, c[i*n+j])
			}
		}
	}
}
