package tcorr

import (
	"math"
	"testing"
)

// BH against a hand computation: p = (0.01, 0.04, 0.03, 0.5), m = 4:
// sorted 0.01·4/1 = 0.04, 0.03·4/2 = 0.06, 0.04·4/3 = 0.0533 → min from
// the right gives 0.0533 for both, 0.5·4/4 = 0.5.
func TestBH(t *testing.T) {
	got := BH([]float64{0.01, 0.04, 0.03, 0.5})
	want := []float64{0.04, 0.16 / 3, 0.16 / 3, 0.5}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Fatalf("BH = %v, want %v", got, want)
		}
	}
	if q := BH([]float64{0.9, 0.95}); q[0] != 0.95 || q[1] != 0.95 {
		t.Fatalf("BH caps and monotone: %v", q)
	}
}

// Pearson's special cases: n < 3 and constant series give (0, 1); a
// perfect line gives |r| = 1 with p = 0; negating y negates r and keeps p.
func TestPearsonSpecialCases(t *testing.T) {
	if r, p := Pearson([]float64{1, 2}, []float64{2, 1}); r != 0 || p != 1 {
		t.Fatalf("n = 2: %v %v", r, p)
	}
	if r, p := Pearson([]float64{1, 2, 3}, []float64{5, 5, 5}); r != 0 || p != 1 {
		t.Fatalf("constant: %v %v", r, p)
	}
	if r, p := Pearson([]float64{1, 2, 3, 4}, []float64{-2, -4, -6, -8}); r != -1 || p != 0 {
		t.Fatalf("line: %v %v", r, p)
	}
	r1, p1 := Pearson([]float64{1, 3, 2, 5, 4}, []float64{2, 1, 4, 3, 6})
	r2, p2 := Pearson([]float64{1, 3, 2, 5, 4}, []float64{-2, -1, -4, -3, -6})
	if r1 != -r2 || p1 != p2 || p1 <= 0 || p1 >= 1 {
		t.Fatalf("sign symmetry: %v %v / %v %v", r1, p1, r2, p2)
	}
}
