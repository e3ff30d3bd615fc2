package optim

import (
	"context"
	"errors"
	"math"
	"testing"
)

func TestRosenbrock(t *testing.T) {
	f := func(x []float64) float64 {
		a, b := 1-x[0], x[1]-x[0]*x[0]
		return a*a + 100*b*b
	}
	for _, parallel := range []bool{false, true} {
		r, err := Minimize(context.Background(), f, []float64{-1.2, 1}, Settings{Parallel: parallel})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.X[0]-1) > 1e-5 || math.Abs(r.X[1]-1) > 1e-5 || !r.Converged {
			t.Errorf("parallel=%v: minimum at %v (f %g, converged %v), want (1, 1)", parallel, r.X, r.F, r.Converged)
		}
	}
}

func TestQuadraticIsExact(t *testing.T) {
	// f = sum (i+1) (x_i - i)^2 has its minimum at x_i = i.
	f := func(x []float64) float64 {
		s := 0.0
		for i, v := range x {
			s += float64(i+1) * (v - float64(i)) * (v - float64(i))
		}
		return s
	}
	r, err := Minimize(context.Background(), f, make([]float64, 5), Settings{})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range r.X {
		if math.Abs(v-float64(i)) > 1e-6 {
			t.Errorf("x[%d] = %g, want %d", i, v, i)
		}
	}
}

func TestDomainEdge(t *testing.T) {
	// +Inf outside x > 0: the line search backs off, the optimum is interior.
	f := func(x []float64) float64 {
		if x[0] <= 0 {
			return math.Inf(1)
		}
		return x[0] - math.Log(x[0]) // minimum at 1
	}
	r, err := Minimize(context.Background(), f, []float64{5}, Settings{})
	if err != nil || math.Abs(r.X[0]-1) > 1e-6 {
		t.Errorf("x = %v, err %v", r.X, err)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Minimize(ctx, func(x []float64) float64 { return x[0] * x[0] }, []float64{1}, Settings{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}
