package gnn

import (
	"context"
	"math"
	"slices"
	"testing"
)

func TestActivation(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in, out float64
	}{
		{"", -2, -2}, {"none", 3, 3},
		{"relu", -1, 0}, {"relu", 2.5, 2.5},
		{"tanh", 0.5, math.Tanh(0.5)},
		{"sigmoid", 0, 0.5}, {"sigmoid", -800, 0}, // no NaN when e^800 overflows
		{"elu", 1.5, 1.5}, {"elu", -1, math.Exp(-1) - 1},
	} {
		f, ok := Activation(tc.name)
		if !ok {
			t.Fatalf("%q not known", tc.name)
		}
		if got := f(tc.in); math.Abs(got-tc.out) > 1e-15 {
			t.Errorf("%s(%v) = %v, want %v", tc.name, tc.in, got, tc.out)
		}
	}
	if _, ok := Activation("softmax"); ok {
		t.Error("unknown activation accepted")
	}
}

func TestMatMul(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5, 6} // 2 x 3
	b := []float64{1, 0, 0, 1, 1, 1} // 3 x 2
	want := []float64{4, 5, 10, 11}  // 2 x 2
	got, err := MatMul(context.Background(), a, 2, 3, b, 2)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("MatMul = %v, %v; want %v", got, err, want)
	}
}

func TestCheckFinite(t *testing.T) {
	if err := CheckFinite("features", []float64{1, 2}); err != nil {
		t.Fatal(err)
	}
	err := CheckFinite("features", []float64{1, math.Inf(-1)})
	if err == nil || err.Error() != "features[1]: must be finite" {
		t.Fatalf("err = %v, want a field error on features[1]", err)
	}
}
