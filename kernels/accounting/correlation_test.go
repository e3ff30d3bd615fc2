package accounting

import (
	"math"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
)

// checkCorrelationLaws: pairs are sorted a < b; |r| ≤ 1; p, q in [0, 1];
// q ≥ p (BH never lowers a p-value); a pair typed significant has
// |r| ≥ min_abs_r; the anomalies' |z| > 2 with the matching sign; the
// stats count the pairs.
func checkCorrelationLaws(t *testing.T, _ fixture.Case, out map[string]any) {
	t.Helper()
	f := func(m map[string]any, k string) float64 {
		if v, ok := m[k].(float64); ok {
			return v
		}
		return 0
	}
	pairs, sig := 0, 0
	prevA, prevB := "", ""
	for _, c := range orEmpty(out["correlations"]).([]any) {
		c := c.(map[string]any)
		a, b := c["a"].(string), c["b"].(string)
		if a >= b || (a < prevA || (a == prevA && b <= prevB)) {
			t.Fatalf("pair (%s, %s) out of order after (%s, %s)", a, b, prevA, prevB)
		}
		prevA, prevB = a, b
		r, p, q := f(c, "r"), f(c, "p"), f(c, "q")
		if math.Abs(r) > 1 || p < 0 || p > 1 || q < 0 || q > 1 || q < p-1e-15 {
			t.Fatalf("pair %v: r, p or q out of range", c)
		}
		if c["type"] != "NONE" {
			sig++
			if (c["type"] == "POSITIVE") != (r > 0) {
				t.Fatalf("pair %v: type does not match the sign of r", c)
			}
		}
		pairs++
	}
	for _, a := range orEmpty(out["anomalies"]).([]any) {
		a := a.(map[string]any)
		z := f(a, "z")
		if math.Abs(z) <= 2 || (a["type"] == "UNEXPECTED_HIGH") != (z > 0) {
			t.Fatalf("anomaly %v: |z| ≤ 2 or type does not match its sign", a)
		}
	}
	st := out["stats"].(map[string]any)
	if int(f(st, "pairs")) != pairs || int(f(st, "significant")) != sig {
		t.Fatalf("stats %v, counted %d pairs %d significant", st, pairs, sig)
	}
}
