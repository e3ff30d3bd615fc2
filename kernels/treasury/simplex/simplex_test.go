package simplex

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// dense is a test program kept densely for the certificate checks.
type dense struct {
	a     [][]float64
	sense []Sense
	b     []float64
}

func (d dense) program() *Program {
	var p Program
	for i := range d.a {
		p.AddRow(d.sense[i], d.b[i])
	}
	n := len(d.a[0])
	for j := range n {
		var rows []int32
		var vals []float64
		for i := range d.a {
			if d.a[i][j] != 0 {
				rows, vals = append(rows, int32(i)), append(vals, d.a[i][j])
			}
		}
		p.AddCol(rows, vals)
	}
	return &p
}

// certify checks an optimum by LP duality, independently of the solver's
// internals: x is primal feasible, y is dual feasible (row signs by sense,
// every reduced cost c_j − yᵀa_j ≥ 0) and cᵀx = bᵀy.
func certify(t *testing.T, d dense, c []float64, res Result) {
	t.Helper()
	const tol = 1e-7
	for j, v := range res.X {
		if v < -tol {
			t.Fatalf("x[%d] = %g < 0", j, v)
		}
	}
	by := 0.0
	for i, row := range d.a {
		ax := 0.0
		for j, v := range row {
			ax += v * res.X[j]
		}
		s := math.Max(1, math.Abs(d.b[i]))
		y := res.Duals[i]
		switch d.sense[i] {
		case LE:
			if ax > d.b[i]+tol*s || y > tol {
				t.Fatalf("row %d (≤ %g): ax = %g, y = %g", i, d.b[i], ax, y)
			}
		case GE:
			if ax < d.b[i]-tol*s || y < -tol {
				t.Fatalf("row %d (≥ %g): ax = %g, y = %g", i, d.b[i], ax, y)
			}
		case EQ:
			if math.Abs(ax-d.b[i]) > tol*s {
				t.Fatalf("row %d (= %g): ax = %g", i, d.b[i], ax)
			}
		}
		by += d.b[i] * y
	}
	cx := 0.0
	for j := range c {
		rc := c[j]
		for i := range d.a {
			rc -= res.Duals[i] * d.a[i][j]
		}
		if rc < -tol {
			t.Fatalf("column %d: reduced cost %g < 0 (dual infeasible)", j, rc)
		}
		cx += c[j] * res.X[j]
	}
	if math.Abs(cx-by) > 1e-6*math.Max(1, math.Abs(cx)) {
		t.Fatalf("duality gap: cᵀx = %.12g, bᵀy = %.12g", cx, by)
	}
	if err := d.program().Verify(c, res, 1e-7); err != nil {
		t.Fatalf("Verify refuses a certified optimum: %v", err)
	}
	if math.Abs(cx-res.Optima[len(res.Optima)-1]) > 1e-9*math.Max(1, math.Abs(cx)) {
		t.Fatalf("reported optimum %g, cᵀx %g", res.Optima[len(res.Optima)-1], cx)
	}
}

// randomFeasible builds m rows over n columns, feasible by construction
// (b from a nonnegative point) and bounded (c ≥ 0 plus a ≤ row on Σx).
func randomFeasible(rng *rand.Rand, m, n int, degenerate bool) (dense, []float64) {
	x0 := make([]float64, n)
	for j := range x0 {
		if degenerate && rng.IntN(2) == 0 {
			continue // many zeros in the witness: degenerate vertices
		}
		x0[j] = rng.Float64()
	}
	var d dense
	for i := range m {
		row := make([]float64, n)
		ax := 0.0
		for j := range row {
			if rng.IntN(3) == 0 {
				row[j] = math.Round((rng.Float64()*2-1)*4) / 2 // small integers and halves: ties
				ax += row[j] * x0[j]
			}
		}
		s := Sense(rng.IntN(3))
		b := ax
		if !degenerate {
			switch s {
			case LE:
				b += rng.Float64()
			case GE:
				b -= rng.Float64()
			}
		}
		d.a, d.sense, d.b = append(d.a, row), append(d.sense, s), append(d.b, b)
		_ = i
	}
	sum := make([]float64, n)
	for j := range sum {
		sum[j] = 1
	}
	d.a, d.sense, d.b = append(d.a, sum), append(d.sense, LE), append(d.b, float64(n))
	c := make([]float64, n)
	for j := range c {
		c[j] = math.Round((rng.Float64()*2-1)*8) / 4
	}
	return d, c
}

func TestRandomProgramsAreOptimalByDuality(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for k := range 300 {
		m, n := 1+rng.IntN(12), 1+rng.IntN(15)
		d, c := randomFeasible(rng, m, n, k%2 == 0)
		res, err := d.program().Solve(context.Background(), [][]float64{c})
		if err != nil {
			t.Fatalf("case %d (%d×%d): %v", k, m, n, err)
		}
		certify(t, d, c, res)
	}
}

func TestInfeasible(t *testing.T) {
	// x1 + x2 ≤ 1 and x1 + x2 ≥ 2.
	d := dense{a: [][]float64{{1, 1}, {1, 1}}, sense: []Sense{LE, GE}, b: []float64{1, 2}}
	if _, err := d.program().Solve(context.Background(), [][]float64{{1, 1}}); !errors.Is(err, ErrInfeasible) {
		t.Fatalf("got %v, want ErrInfeasible", err)
	}
	// x1 − x2 = −1 with x2 ≤ 0.5: x1 = x2 − 1 < 0.
	d = dense{a: [][]float64{{1, -1}, {0, 1}}, sense: []Sense{EQ, LE}, b: []float64{-1, 0.5}}
	if _, err := d.program().Solve(context.Background(), [][]float64{{1, 0}}); !errors.Is(err, ErrInfeasible) {
		t.Fatalf("got %v, want ErrInfeasible", err)
	}
}

func TestUnbounded(t *testing.T) {
	d := dense{a: [][]float64{{1, -1}}, sense: []Sense{LE}, b: []float64{1}}
	if _, err := d.program().Solve(context.Background(), [][]float64{{-1, -1}}); !errors.Is(err, ErrUnbounded) {
		t.Fatalf("got %v, want ErrUnbounded", err)
	}
}

func TestNotFinite(t *testing.T) {
	d := dense{a: [][]float64{{1, math.Inf(1)}}, sense: []Sense{LE}, b: []float64{1}}
	if _, err := d.program().Solve(context.Background(), [][]float64{{1, 1}}); !errors.Is(err, ErrNotFinite) {
		t.Fatalf("got %v, want ErrNotFinite", err)
	}
}

// TestRedundantEquality keeps an artificial on a redundant row: the second
// equality is twice the first.
func TestRedundantEquality(t *testing.T) {
	d := dense{a: [][]float64{{1, 1, 1}, {2, 2, 2}, {1, 0, 0}}, sense: []Sense{EQ, EQ, LE}, b: []float64{3, 6, 1}}
	c := []float64{-1, 2, 1}
	res, err := d.program().Solve(context.Background(), [][]float64{c})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Optima[0]-1) > 1e-9 { // x = (1, 0, 2): −1 + 2
		t.Fatalf("optimum %g, want 1", res.Optima[0])
	}
}

// TestLexicographic: phase 2 must not give back any of phase 1. Both
// phases are checked against single-objective solves certified by duality;
// phase 2's reference holds phase 1 by an explicit row.
func TestLexicographic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for k := range 100 {
		m, n := 2+rng.IntN(10), 2+rng.IntN(14)
		d, c1 := randomFeasible(rng, m, n, k%2 == 1)
		for j := range c1 {
			c1[j] = math.Abs(c1[j]) * float64(rng.IntN(2)) // many zeros: a large optimal face
		}
		c2 := make([]float64, n)
		for j := range c2 {
			c2[j] = math.Round((rng.Float64()*2-1)*8) / 4
		}
		lex, err := d.program().Solve(context.Background(), [][]float64{c1, c2})
		if err != nil {
			t.Fatalf("case %d: %v", k, err)
		}
		one, err := d.program().Solve(context.Background(), [][]float64{c1})
		if err != nil {
			t.Fatal(err)
		}
		certify(t, d, c1, one)
		held := d
		held.a = append(append([][]float64(nil), d.a...), c1)
		held.sense = append(append([]Sense(nil), d.sense...), LE)
		held.b = append(append([]float64(nil), d.b...), one.Optima[0]+1e-9*math.Max(1, math.Abs(one.Optima[0])))
		two, err := held.program().Solve(context.Background(), [][]float64{c2})
		if err != nil {
			t.Fatal(err)
		}
		certify(t, held, c2, two)
		for p, want := range []float64{one.Optima[0], two.Optima[0]} {
			if math.Abs(lex.Optima[p]-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Fatalf("case %d phase %d: lexicographic %.12g, certified %.12g", k, p+1, lex.Optima[p], want)
			}
		}
	}
}

// TestDegenerateAssignment: an n × n assignment LP (every vertex highly
// degenerate, all costs equal within a row) must terminate at the
// certified optimum; Bland's rule takes over from long degenerate runs.
func TestDegenerateAssignment(t *testing.T) {
	const n = 12
	var d dense
	for i := range 2 * n {
		row := make([]float64, n*n)
		for k := range n {
			if i < n {
				row[i*n+k] = 1
			} else {
				row[k*n+i-n] = 1
			}
		}
		d.a, d.sense, d.b = append(d.a, row), append(d.sense, EQ), append(d.b, 1)
	}
	c := make([]float64, n*n)
	for i := range n {
		for k := range n {
			c[i*n+k] = float64((i * k) % 3)
		}
	}
	res, err := d.program().Solve(context.Background(), [][]float64{c})
	if err != nil {
		t.Fatal(err)
	}
	certify(t, d, c, res)
}

func TestCancelStopsThePivots(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	d, c := randomFeasible(rng, 150, 400, false)
	p := d.program()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if _, err := p.Solve(ctx, [][]float64{c}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("a cancelled solve took %v", el)
	}
}

// TestVerifyRefuses: the certificate check must catch a suboptimal x, a
// wrong dual sign and an infeasible x.
func TestVerifyRefuses(t *testing.T) {
	// min −x1 − x2 s.t. x1 + 2x2 ≤ 4, 3x1 + x2 ≤ 6: optimum (1.6, 1.2).
	d := dense{a: [][]float64{{1, 2}, {3, 1}}, sense: []Sense{LE, LE}, b: []float64{4, 6}}
	p, c := d.program(), []float64{-1, -1}
	res, err := p.Solve(context.Background(), [][]float64{c})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(c, res, 1e-9); err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.X[0]-1.6) > 1e-12 || math.Abs(res.X[1]-1.2) > 1e-12 || !res.Unique {
		t.Fatalf("x = %v (unique %v), want (1.6, 1.2), unique", res.X, res.Unique)
	}
	bad := res
	bad.X = []float64{1.5, 1.2}
	if p.Verify(c, bad, 1e-9) == nil {
		t.Fatal("a suboptimal x passed")
	}
	bad = res
	bad.X = []float64{2, 2}
	if p.Verify(c, bad, 1e-9) == nil {
		t.Fatal("an infeasible x passed")
	}
	bad = res
	bad.Duals = []float64{-res.Duals[0], res.Duals[1]}
	if p.Verify(c, bad, 1e-9) == nil {
		t.Fatal("a wrong dual passed")
	}
}

// TestUniqueIsNotClaimedOnATie: min x1 + x2 over x1 + x2 ≥ 1 has a whole
// segment of optima; min x1 + 2·x2 has one.
func TestUniqueIsNotClaimedOnATie(t *testing.T) {
	d := dense{a: [][]float64{{1, 1}}, sense: []Sense{GE}, b: []float64{1}}
	for _, tc := range []struct {
		c      []float64
		unique bool
	}{{[]float64{1, 1}, false}, {[]float64{1, 2}, true}} {
		res, err := d.program().Solve(context.Background(), [][]float64{tc.c})
		if err != nil {
			t.Fatal(err)
		}
		if res.Unique != tc.unique || math.Abs(res.Optima[0]-1) > 1e-12 {
			t.Fatalf("c = %v: optimum %g, unique %v; want 1, %v", tc.c, res.Optima[0], res.Unique, tc.unique)
		}
	}
}
