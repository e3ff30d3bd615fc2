// Package simplex solves sparse linear programs
//
//	minimise cᵀx  subject to  aᵢx (≤ | ≥ | =) bᵢ,  x ≥ 0
//
// by the revised primal simplex method, lexicographically over a sequence
// of objectives: after each objective's optimum, every nonbasic column
// with a positive reduced cost is fixed at zero — by complementary
// slackness that leaves exactly the optimal face — and the next objective
// is minimised from the same basis (no re-solve, no big-M, no "objective ≤
// optimum + ε" row).
//
// Why not gonum's optimize/convex/lp (used here before): it takes
// Gx ≤ h over free x, converts to a dense standard form (every free
// variable split in two, a slack per row) and pivots the dense tableau with
// Bland's rule, with no way to stop it. treasury/collateral-opt at 200
// assets × 50 requirements has 10,050 columns and 250–300 rows; passed as
// before (x ≥ 0 as rows) that standard form is about 10,350 × 30,450
// dense, 2.5 GB (computed, not run: the old kernel capped the problem at
// 200 pairs for this reason). Here the columns stay sparse (2–3 nonzeros
// each), the basis inverse is an explicit dense m × m matrix updated in
// place (product-form step, O(m · nonzeros of the pivot row)), and ctx is
// checked on every pivot: 200 × 50 takes 700–1,200 pivots and about 0.1
// CPU-second, both phases (make bench-markets compares it with CBC).
//
// Numerics: pricing is Dantzig's rule (most negative reduced cost), the
// ratio test is Harris's two-pass test with a 1e-9 feasibility tolerance,
// long runs of degenerate pivots switch to Bland's rule (smallest index)
// until a pivot makes progress, so the method cannot cycle. The inverse is
// recomputed from the basis (Gauss–Jordan, partial pivoting) every
// refactorEvery pivots and before an optimum is accepted; the optimum is
// then re-priced from the fresh inverse. Callers should scale rows and
// objectives to O(1): the tolerances are absolute.
package simplex

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// Sense is a row's relation.
type Sense int8

// The senses.
const (
	LE Sense = iota // aᵢx ≤ bᵢ
	GE              // aᵢx ≥ bᵢ
	EQ              // aᵢx = bᵢ
)

// ErrInfeasible reports a program without a feasible point.
var ErrInfeasible = errors.New("infeasible")

// ErrUnbounded reports an objective without a finite minimum.
var ErrUnbounded = errors.New("unbounded")

// ErrNumerical reports a basis that lost feasibility beyond the
// tolerances (an ill-conditioned program).
var ErrNumerical = errors.New("numerically unstable basis")

// ErrStalled reports a solve that ran past maxPivots without an optimum:
// Bland's rule cannot cycle in exact arithmetic, so this guards against
// tolerance effects turning into an endless run when ctx has no deadline.
var ErrStalled = errors.New("no optimum within the pivot limit")

// ErrNotFinite reports a NaN or infinite coefficient.
var ErrNotFinite = errors.New("a coefficient is not finite")

// Tolerances (absolute; the caller scales to O(1)).
const (
	tolFeas  = 1e-9  // primal feasibility
	tolDual  = 1e-9  // reduced costs
	tolPivot = 1e-9  // smallest pivot element accepted by the ratio test
	tolLost  = 1e-6  // a basic value below −tolLost after refactoring is a failure
	tolDrop  = 1e-12 // entries of the inverse below this are zeroed
)

// refactorEvery bounds the pivots between recomputations of the inverse.
const refactorEvery = 100

// maxPivots bounds a whole solve: far above the 2–4 pivots per row that
// collateral-opt takes (and the objectives' count times that).
func maxPivots(m, n int) int { return 50*(m+n) + 10_000 }

// degenerateRun is the number of consecutive pivots without progress after
// which Bland's rule takes over.
const degenerateRun = 50

// Program is a sparse LP under construction: rows first, then columns.
type Program struct {
	sense []Sense
	rhs   []float64
	start []int32 // CSC: column j has entries start[j]..start[j+1]
	idx   []int32
	val   []float64
}

// AddRow appends a row and returns its index.
func (p *Program) AddRow(s Sense, rhs float64) int {
	p.sense = append(p.sense, s)
	p.rhs = append(p.rhs, rhs)
	return len(p.rhs) - 1
}

// AddCol appends a structural column x_j ≥ 0 with the given entries (row
// indices must exist and be distinct) and returns its index.
func (p *Program) AddCol(rows []int32, vals []float64) int {
	if len(p.start) == 0 {
		p.start = append(p.start, 0)
	}
	p.idx = append(p.idx, rows...)
	p.val = append(p.val, vals...)
	p.start = append(p.start, int32(len(p.idx)))
	return len(p.start) - 2
}

// AddRowOver appends a row after the columns exist: coef[j] is its entry in
// column j (zeros skipped). It rebuilds the column storage, O(entries).
func (p *Program) AddRowOver(s Sense, rhs float64, coef []float64) int {
	i := p.AddRow(s, rhs)
	n := p.Cols()
	start := make([]int32, 1, n+1)
	idx := make([]int32, 0, len(p.idx)+n)
	val := make([]float64, 0, len(p.val)+n)
	for j := range n {
		idx = append(idx, p.idx[p.start[j]:p.start[j+1]]...)
		val = append(val, p.val[p.start[j]:p.start[j+1]]...)
		if j < len(coef) && coef[j] != 0 {
			idx, val = append(idx, int32(i)), append(val, coef[j])
		}
		start = append(start, int32(len(idx)))
	}
	p.start, p.idx, p.val = start, idx, val
	return i
}

// Rows is the number of rows.
func (p *Program) Rows() int { return len(p.rhs) }

// Cols is the number of structural columns.
func (p *Program) Cols() int { return max(len(p.start)-1, 0) }

// NonZeros is the number of structural entries.
func (p *Program) NonZeros() int { return len(p.idx) }

// Result is a lexicographic optimum.
type Result struct {
	// Optima[k] is objective k's value cₖᵀx at the returned x.
	Optima []float64
	// X holds the structural columns' values.
	X []float64
	// Duals are the row prices yᵢ of the last objective (∂ optimum / ∂ bᵢ
	// given the earlier objectives' optimal face).
	Duals []float64
	// Pivots counts the simplex iterations, all phases together.
	Pivots int
	// Unique reports that X is the only lexicographic optimum: every
	// nonbasic column still free to move has a reduced cost above the
	// tolerance in the last objective (dual nondegeneracy, sufficient but
	// not necessary). False says only that uniqueness was not shown.
	Unique bool
}

// WorkingBytes is the solver's memory for a program of m rows, n
// structural columns and nnz entries (the dense inverse dominates).
func WorkingBytes(m, n, nnz int) int64 {
	cols := int64(n + 2*m)
	return 8*int64(m)*int64(m) + 12*int64(nnz+2*m) + 40*cols + 64*int64(m)
}

// Work estimates the floating-point operations of a solve: about 2·m
// pivots per objective, each pricing every entry and updating the inverse.
func Work(m, n, nnz, objectives int) float64 {
	return float64(2*m*max(objectives, 1)) * (float64(nnz+n) + float64(m)*float64(m)/2)
}

// Solve minimises the objectives in order (each a vector over the
// structural columns; nil means zero). ctx is checked on every pivot.
func (p *Program) Solve(ctx context.Context, objectives [][]float64) (Result, error) {
	s, err := newSolver(p)
	if err != nil {
		return Result{}, err
	}
	if s.nArt > 0 {
		c := make([]float64, s.n)
		for j := s.firstArt; j < s.n; j++ {
			c[j] = 1
		}
		s.setObjective(c)
		if err := s.optimise(ctx); err != nil {
			return Result{}, err
		}
		inf := 0.0
		for i, j := range s.head {
			if int(j) >= s.firstArt {
				inf += s.xb[i]
			}
		}
		if inf > tolFeas*math.Max(1, s.bNorm) {
			return Result{}, ErrInfeasible
		}
		s.dropArtificials()
	}
	res := Result{Optima: make([]float64, len(objectives))}
	for k, obj := range objectives {
		c := make([]float64, s.n)
		scale := 0.0
		for _, v := range obj {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return Result{}, ErrNotFinite
			}
			scale = math.Max(scale, math.Abs(v))
		}
		if scale == 0 {
			continue
		}
		for j, v := range obj {
			c[j] = v / scale
		}
		s.setObjective(c)
		if err := s.optimise(ctx); err != nil {
			return Result{}, err
		}
		if k < len(objectives)-1 {
			s.fixPositiveReducedCosts()
		}
	}
	res.X = make([]float64, s.nStruct)
	for i, j := range s.head {
		if int(j) < s.nStruct {
			res.X[j] = math.Max(s.xb[i], 0)
		}
	}
	for k, obj := range objectives {
		for j, v := range obj {
			res.Optima[k] += v * res.X[j]
		}
	}
	res.Duals = make([]float64, s.m)
	if len(objectives) > 0 {
		last := objectives[len(objectives)-1]
		scale := 0.0
		for _, v := range last {
			scale = math.Max(scale, math.Abs(v))
		}
		for i := range s.m {
			res.Duals[i] = s.y[i] * scale * s.flip[i]
		}
	}
	res.Pivots = s.pivots
	res.Unique = len(objectives) > 0 && s.dualNondegenerate()
	return res, nil
}

// dualNondegenerate reports that no nonbasic, unfixed column has a reduced
// cost within the tolerance of zero.
func (s *solver) dualNondegenerate() bool {
	if s.c == nil {
		return false
	}
	for j := range s.n {
		if s.pos[j] < 0 && !s.fixed[j] && s.reducedCost(j) <= tolDual {
			return false
		}
	}
	return true
}

// solver is the working form: the program's columns followed by one slack
// per inequality row and one artificial per row the crash could not cover.
type solver struct {
	m, n              int
	nStruct, firstArt int
	nArt              int
	start             []int32
	idx               []int32
	val               []float64
	b                 []float64 // rows flipped so that b ≥ 0
	flip              []float64 // ±1 per row
	bNorm             float64
	c                 []float64
	fixed             []bool  // never enters the basis again
	head              []int32 // basic column per basis position
	pos               []int32 // basis position per column, −1 if nonbasic
	binv              []float64
	xb, y, d, alpha   []float64
	pivots, sinceInv  int
	degenerate        int
	bland             bool
	artZero           bool      // phase I is over: basic artificials stay at zero
	work              []float64 // m × m scratch for refactoring
}

func newSolver(p *Program) (*solver, error) {
	m, ns := len(p.rhs), p.Cols()
	s := &solver{m: m, nStruct: ns, b: make([]float64, m), flip: make([]float64, m)}
	for i, v := range p.rhs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, ErrNotFinite
		}
		s.flip[i] = 1
		if v < 0 {
			s.flip[i] = -1
		}
		s.b[i] = math.Abs(v)
		s.bNorm = math.Max(s.bNorm, s.b[i])
	}
	for _, v := range p.val {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, ErrNotFinite
		}
	}
	s.start = make([]int32, 0, ns+2*m+1)
	s.idx = make([]int32, 0, len(p.idx)+2*m)
	s.val = make([]float64, 0, len(p.idx)+2*m)
	s.start = append(s.start, 0)
	// Crash: a row whose flipped slack cannot be basic (≥ and = rows, and
	// ≤ rows with b < 0) takes a structural singleton column with a
	// positive coefficient there if one exists (the collateral shortfall
	// s_r), so such programs need no artificial at all.
	basicOf := make([]int32, m)
	for i := range basicOf {
		basicOf[i] = -1
	}
	for j := range ns {
		a, z := p.start[j], p.start[j+1]
		for k := a; k < z; k++ {
			s.idx = append(s.idx, p.idx[k])
			s.val = append(s.val, p.val[k]*s.flip[p.idx[k]])
		}
		s.start = append(s.start, int32(len(s.idx)))
	}
	colValue := func(j int) float64 { return s.val[s.start[j]] }
	// Slacks: +1 for ≤, −1 for ≥, in the flipped row.
	for i, sn := range p.sense {
		if sn == EQ {
			continue
		}
		v := 1.0
		if sn == GE {
			v = -1
		}
		v *= s.flip[i]
		s.idx = append(s.idx, int32(i))
		s.val = append(s.val, v)
		s.start = append(s.start, int32(len(s.idx)))
		if v > 0 {
			basicOf[i] = int32(len(s.start) - 2)
		}
	}
	for j := range ns {
		if s.start[j+1]-s.start[j] != 1 {
			continue
		}
		i := s.idx[s.start[j]]
		if basicOf[i] < 0 && colValue(j) > 0 {
			basicOf[i] = int32(j)
		}
	}
	s.firstArt = len(s.start) - 1
	for i := range m {
		if basicOf[i] >= 0 {
			continue
		}
		s.idx = append(s.idx, int32(i))
		s.val = append(s.val, 1)
		s.start = append(s.start, int32(len(s.idx)))
		basicOf[i] = int32(len(s.start) - 2)
		s.nArt++
	}
	s.n = len(s.start) - 1
	s.fixed = make([]bool, s.n)
	s.pos = make([]int32, s.n)
	for j := range s.pos {
		s.pos[j] = -1
	}
	s.head = basicOf
	for i, j := range s.head {
		s.pos[j] = int32(i)
	}
	s.binv = make([]float64, m*m)
	s.xb = make([]float64, m)
	s.y = make([]float64, m)
	s.d = make([]float64, s.n)
	s.alpha = make([]float64, m)
	if err := s.refactor(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *solver) setObjective(c []float64) {
	s.c = c
	s.computeDuals()
	s.degenerate, s.bland = 0, false
}

// computeDuals sets y = c_Bᵀ B⁻¹ (binv is column-major: column k is
// binv[k·m : (k+1)·m]).
func (s *solver) computeDuals() {
	m := s.m
	cb := make([]float64, m)
	for i, j := range s.head {
		cb[i] = s.c[j]
	}
	for k := range m {
		col := s.binv[k*m : (k+1)*m]
		t := 0.0
		for i, v := range col {
			t += cb[i] * v
		}
		s.y[k] = t
	}
}

func (s *solver) reducedCost(j int) float64 {
	t := s.c[j]
	for k := s.start[j]; k < s.start[j+1]; k++ {
		t -= s.y[s.idx[k]] * s.val[k]
	}
	return t
}

// price picks the entering column: the most negative reduced cost, or the
// lowest-index negative one under Bland's rule; −1 at optimality.
func (s *solver) price() int {
	best, bestD := -1, -tolDual
	for j := range s.n {
		if s.pos[j] >= 0 || s.fixed[j] {
			continue
		}
		d := s.reducedCost(j)
		if d < bestD {
			best, bestD = j, d
			if s.bland {
				return j
			}
		}
	}
	return best
}

// ftran sets alpha = B⁻¹ a_q.
func (s *solver) ftran(q int) {
	m := s.m
	clear(s.alpha)
	for k := s.start[q]; k < s.start[q+1]; k++ {
		v := s.val[k]
		col := s.binv[int(s.idx[k])*m : int(s.idx[k]+1)*m]
		for i, w := range col {
			s.alpha[i] += v * w
		}
	}
}

// ratio is the leaving position, or −1 when the column is unbounded.
// Harris's two passes: the largest step that keeps every basic value above
// −tolFeas, then among the rows that block within it the largest pivot.
// Under Bland's rule: the exact minimum ratio, ties to the lowest column.
// A basic artificial (kept at zero after phase I) blocks any movement.
func (s *solver) ratio() (int, float64) {
	r := -1
	if s.bland {
		best := math.Inf(1)
		for i, a := range s.alpha {
			if a <= tolPivot && !(s.isArt(i) && a < -tolPivot) {
				continue
			}
			t := math.Max(s.xb[i], 0) / math.Abs(a)
			if s.isArt(i) {
				t = 0
			}
			if t < best-1e-12 || t <= best+1e-12 && r >= 0 && s.head[i] < s.head[r] {
				r, best = i, t
			}
		}
		return r, best
	}
	bound := math.Inf(1)
	for i, a := range s.alpha {
		switch {
		case s.isArt(i) && math.Abs(a) > tolPivot:
			bound = 0
		case a > tolPivot:
			bound = math.Min(bound, (math.Max(s.xb[i], 0)+tolFeas)/a)
		}
	}
	if math.IsInf(bound, 1) {
		return -1, 0
	}
	bestA := 0.0
	for i, a := range s.alpha {
		if s.isArt(i) && math.Abs(a) > tolPivot {
			if math.Abs(a) > bestA {
				r, bestA = i, math.Abs(a)
			}
			continue
		}
		if a > tolPivot && math.Max(s.xb[i], 0)/a <= bound && a > bestA {
			r, bestA = i, a
		}
	}
	if s.isArt(r) {
		return r, 0
	}
	return r, math.Max(s.xb[r], 0) / s.alpha[r]
}

// isArt reports a basic artificial after phase I (held at zero).
func (s *solver) isArt(i int) bool { return s.artZero && i >= 0 && int(s.head[i]) >= s.firstArt }

// pivot brings q into the basis at position r with step theta.
func (s *solver) pivot(q, r int, theta float64) {
	m := s.m
	for i, a := range s.alpha {
		if a != 0 {
			s.xb[i] -= theta * a
		}
	}
	s.xb[r] = theta
	// Dual update y += (d_q / α_r) · (row r of B⁻¹), before B⁻¹ changes.
	ar := s.alpha[r]
	dq := s.reducedCost(q)
	f := dq / ar
	for k := range m {
		if w := s.binv[k*m+r]; w != 0 {
			s.y[k] += f * w
		}
	}
	// Product-form update of the explicit inverse, column by column:
	// row r is divided by α_r, the other rows lose α_i times it.
	for k := range m {
		col := s.binv[k*m : (k+1)*m]
		w := col[r]
		if w == 0 {
			continue
		}
		w /= ar
		for i, a := range s.alpha {
			if a != 0 {
				v := col[i] - a*w
				if math.Abs(v) < tolDrop {
					v = 0
				}
				col[i] = v
			}
		}
		col[r] = w
	}
	old := s.head[r]
	s.pos[old] = -1
	s.head[r] = int32(q)
	s.pos[q] = int32(r)
	s.pivots++
	s.sinceInv++
}

// optimise runs primal simplex on the current objective from the current
// (feasible) basis.
func (s *solver) optimise(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.pivots > maxPivots(s.m, s.n) {
			return ErrStalled
		}
		if s.sinceInv >= refactorEvery {
			if err := s.refactor(); err != nil {
				return err
			}
			s.computeDuals()
		}
		q := s.price()
		if q < 0 {
			if s.sinceInv == 0 {
				return nil
			}
			// Accept an optimum only from a fresh inverse.
			if err := s.refactor(); err != nil {
				return err
			}
			s.computeDuals()
			if q = s.price(); q < 0 {
				return nil
			}
		}
		s.ftran(q)
		r, theta := s.ratio()
		if r < 0 {
			return ErrUnbounded
		}
		dq := s.reducedCost(q)
		if theta*-dq <= 1e-14 {
			s.degenerate++
			if s.degenerate > degenerateRun {
				s.bland = true
			}
		} else {
			s.degenerate, s.bland = 0, false
		}
		s.pivot(q, r, theta)
	}
}

// refactor recomputes B⁻¹ by Gauss–Jordan elimination with partial
// pivoting and the basic values from it.
func (s *solver) refactor() error {
	m := s.m
	if s.work == nil {
		s.work = make([]float64, m*m)
	}
	// a is B, row-major; inv starts as I, row-major.
	a := s.work
	clear(a)
	for i, j := range s.head {
		for k := s.start[j]; k < s.start[j+1]; k++ {
			a[int(s.idx[k])*m+i] = s.val[k]
		}
	}
	inv := s.binv // reused as row-major scratch, transposed at the end
	clear(inv)
	for i := range m {
		inv[i*m+i] = 1
	}
	for col := range m {
		p, best := -1, 0.0
		for i := col; i < m; i++ {
			if v := math.Abs(a[i*m+col]); v > best {
				p, best = i, v
			}
		}
		if best < 1e-12 {
			return ErrNumerical
		}
		if p != col {
			swapRows(a, m, p, col)
			swapRows(inv, m, p, col)
		}
		pv := a[col*m+col]
		arow, irow := a[col*m:(col+1)*m], inv[col*m:(col+1)*m]
		for k := range m {
			arow[k] /= pv
			irow[k] /= pv
		}
		for i := range m {
			if i == col {
				continue
			}
			f := a[i*m+col]
			if f == 0 {
				continue
			}
			ai, ii := a[i*m:(i+1)*m], inv[i*m:(i+1)*m]
			for k := col; k < m; k++ {
				if arow[k] != 0 {
					ai[k] -= f * arow[k]
				}
			}
			for k, v := range irow {
				if v != 0 {
					ii[k] -= f * v
				}
			}
		}
	}
	// inv is B⁻¹ row-major; the solver keeps it column-major.
	for i := range m {
		for k := i + 1; k < m; k++ {
			inv[i*m+k], inv[k*m+i] = inv[k*m+i], inv[i*m+k]
		}
	}
	for i := range m {
		t := 0.0
		for k := range m {
			t += inv[k*m+i] * s.b[k]
		}
		if t < -tolLost*math.Max(1, s.bNorm) {
			return ErrNumerical
		}
		s.xb[i] = math.Max(t, 0)
	}
	s.sinceInv = 0
	return nil
}

func swapRows(a []float64, m, i, j int) {
	ri, rj := a[i*m:(i+1)*m], a[j*m:(j+1)*m]
	for k := range m {
		ri[k], rj[k] = rj[k], ri[k]
	}
}

// fixPositiveReducedCosts keeps the current objective at its optimum for
// the objectives that follow: a nonbasic column with a positive reduced
// cost stays at zero from now on.
func (s *solver) fixPositiveReducedCosts() {
	for j := range s.n {
		if s.pos[j] < 0 && !s.fixed[j] && s.reducedCost(j) > tolDual {
			s.fixed[j] = true
		}
	}
}

// dropArtificials ends phase I: nonbasic artificials are fixed at zero and
// basic ones (at zero) are pivoted out where a non-artificial column has a
// nonzero entry in their row of B⁻¹A; the others sit on redundant rows and
// stay, blocking any pivot that would move them.
func (s *solver) dropArtificials() {
	m := s.m
	s.artZero = true
	for j := s.firstArt; j < s.n; j++ {
		if s.pos[j] < 0 {
			s.fixed[j] = true
		}
	}
	for r := range m {
		if int(s.head[r]) < s.firstArt {
			continue
		}
		for j := range s.firstArt {
			if s.pos[j] >= 0 || s.fixed[j] {
				continue
			}
			t := 0.0
			for k := s.start[j]; k < s.start[j+1]; k++ {
				t += s.binv[int(s.idx[k])*m+r] * s.val[k]
			}
			if math.Abs(t) > 1e-7 {
				s.ftran(j)
				art := s.head[r]
				s.pivot(j, r, 0)
				s.fixed[art] = true
				break
			}
		}
	}
}

// Verify checks res as an optimum of min cᵀx over p by LP duality,
// independently of how it was found: x is feasible, the duals have the
// signs their rows' senses require, every reduced cost c_j − yᵀa_j is
// nonnegative and cᵀx = bᵀy, each to tol (relative to max(1, |·|)).
func (p *Program) Verify(c []float64, res Result, tol float64) error {
	m, n := p.Rows(), p.Cols()
	if len(res.X) != n || len(res.Duals) != m {
		return fmt.Errorf("result has %d columns and %d duals, want %d and %d", len(res.X), len(res.Duals), n, m)
	}
	ax := make([]float64, m)
	cx, by := 0.0, 0.0
	for j := range n {
		if res.X[j] < -tol {
			return fmt.Errorf("x[%d] = %g < 0", j, res.X[j])
		}
		rc := 0.0
		if j < len(c) {
			rc = c[j]
			cx += c[j] * res.X[j]
		}
		for k := p.start[j]; k < p.start[j+1]; k++ {
			ax[p.idx[k]] += p.val[k] * res.X[j]
			rc -= res.Duals[p.idx[k]] * p.val[k]
		}
		if rc < -tol {
			return fmt.Errorf("column %d: reduced cost %g < 0 (the duals are infeasible)", j, rc)
		}
	}
	for i := range m {
		b, y, s := p.rhs[i], res.Duals[i], tol*math.Max(1, math.Abs(p.rhs[i]))
		switch p.sense[i] {
		case LE:
			if ax[i] > b+s || y > tol {
				return fmt.Errorf("row %d (≤ %g): aᵀx = %g, y = %g", i, b, ax[i], y)
			}
		case GE:
			if ax[i] < b-s || y < -tol {
				return fmt.Errorf("row %d (≥ %g): aᵀx = %g, y = %g", i, b, ax[i], y)
			}
		case EQ:
			if math.Abs(ax[i]-b) > s {
				return fmt.Errorf("row %d (= %g): aᵀx = %g", i, b, ax[i])
			}
		}
		by += b * y
	}
	if math.Abs(cx-by) > tol*math.Max(1, math.Abs(cx)) {
		return fmt.Errorf("duality gap: cᵀx = %.12g, bᵀy = %.12g", cx, by)
	}
	return nil
}

// SolveDense minimises cᵀx subject to Gx ≤ h and x ≥ 0, for small programs
// written as dense rows. Each row is scaled to unit max-norm (rhs
// included) first, as the tolerances are absolute; rows that only restate
// x_j ≥ 0 (one negative entry, rhs 0) are dropped.
func SolveDense(ctx context.Context, c []float64, g [][]float64, h []float64) (float64, []float64, error) {
	var p Program
	n := len(c)
	cols := make([][]int32, n)
	vals := make([][]float64, n)
	for i, row := range g {
		s, nz, neg := math.Abs(h[i]), 0, false
		for _, v := range row {
			s = math.Max(s, math.Abs(v))
			if v != 0 {
				nz++
				neg = v < 0
			}
		}
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return 0, nil, ErrNotFinite
		}
		if nz == 0 && h[i] >= 0 || nz == 1 && neg && h[i] == 0 {
			continue
		}
		if s == 0 {
			s = 1
		}
		k := int32(p.AddRow(LE, h[i]/s))
		for j, v := range row {
			if v != 0 {
				cols[j], vals[j] = append(cols[j], k), append(vals[j], v/s)
			}
		}
	}
	for j := range n {
		p.AddCol(cols[j], vals[j])
	}
	if p.Rows() == 0 {
		return 0, make([]float64, n), nil
	}
	res, err := p.Solve(ctx, [][]float64{c})
	if err != nil {
		return 0, nil, err
	}
	return res.Optima[0], res.X, nil
}
