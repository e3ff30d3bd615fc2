// Package collateral allocates collateral by linear programming
// ("cheapest to deliver"), solved lexicographically: phase 1 minimises the
// priority-weighted shortfall, phase 2 holds it and minimises the funding
// cost. Lexicographic phases give the big-M optimum without its
// conditioning problem, and money is scaled to O(1) (per asset and per
// requirement, see model) before solving because simplex tolerances are
// absolute.
package collateral

import (
	"context"
	"math"
	"slices"

	"github.com/gokernels/gokernels/kernels/treasury/simplex"
)

// Asset is an available asset.
type Asset struct {
	ID, Type, Class, Currency  string
	MV, Price, Haircut, CostBP float64
	Pledged                    bool
}

// Requirement is an obligation.
type Requirement struct {
	ID, Currency  string
	Amount        float64
	Priority      int
	EligibleTypes []string
	Limits        map[string]float64 // class → max share of Amount
}

// Options are the global switches; FXHaircut < 0 means "no cross-currency".
type Options struct {
	FXHaircut float64
	Rehyp     bool
}

// Haircut is h_{a,r}, and ok is false when a cannot serve r.
func Haircut(a Asset, r Requirement, o Options) (float64, bool) {
	if a.Pledged && !o.Rehyp || a.MV <= 0 {
		return 0, false
	}
	if len(r.EligibleTypes) > 0 && !slices.Contains(r.EligibleTypes, a.Type) {
		return 0, false
	}
	h := a.Haircut
	if a.Currency != r.Currency {
		if o.FXHaircut < 0 {
			return 0, false
		}
		h = math.Min(1, h+o.FXHaircut)
	}
	return h, h < 1
}

// Alloc is one posting.
type Alloc struct {
	Asset, Req int
	MV, CV     float64
}

// Result is the allocation and the two phase optima (unscaled).
type Result struct {
	Allocs            []Alloc
	Covered           []float64
	WeightedShortfall float64
	Cost              float64
	Pivots            int  // simplex iterations, both phases
	Unique            bool // the allocation is the only optimum (see simplex.Result.Unique)
}

type pair struct {
	a, r int
	h    float64
}

// model is the LP with every row and column scaled to O(1): x_{a,r} is
// counted in units of MV_a (so availability reads Σ_r x ≤ 1), s_r in
// units of R_r, and each requirement's rows are divided by R_r (coverage
// ≥ 1). Scaling by the single largest amount instead left a requirement
// or asset 10⁶ times smaller than the largest with feasibility tolerances
// of the same size as its own values. The objectives stay in money, so
// their optima are the weighted shortfall and the cost themselves.
type model struct {
	prog *simplex.Program
	w, c []float64 // phase objectives per column
	unit []float64 // money per column unit
}

// build lays out columns x_{a,r} for each eligible pair (in pair order),
// then s_r; rows are each requirement's coverage (≥) and concentration
// limits (≤), then each usable asset's availability (≤).
func build(assets []Asset, reqs []Requirement, pairs []pair) model {
	var p simplex.Program
	np := len(pairs)
	big := 1.0
	for _, r := range reqs {
		big = math.Max(big, r.Amount)
	}
	// R_r, the largest amount for R_r = 0, and never below 10⁻¹² of the
	// largest, so that MV/R stays finite for denormal amounts.
	rowUnit := make([]float64, len(reqs))
	cover := make([]int32, len(reqs))
	conc := make([]map[string]int32, len(reqs))
	for r, req := range reqs {
		rowUnit[r] = math.Max(req.Amount, 1e-12*big)
		if req.Amount <= 0 {
			rowUnit[r] = big
		}
		cover[r] = int32(p.AddRow(simplex.GE, req.Amount/rowUnit[r]))
		for class, q := range req.Limits {
			for _, pr := range pairs {
				if pr.r == r && assets[pr.a].Class == class {
					if conc[r] == nil {
						conc[r] = map[string]int32{}
					}
					conc[r][class] = int32(p.AddRow(simplex.LE, q*req.Amount/rowUnit[r]))
					break
				}
			}
		}
	}
	avail := make([]int32, len(assets))
	for a := range avail {
		avail[a] = -1
	}
	for _, pr := range pairs {
		if avail[pr.a] < 0 {
			avail[pr.a] = int32(p.AddRow(simplex.LE, 1))
		}
	}
	m := model{w: make([]float64, np+len(reqs)), c: make([]float64, np+len(reqs)), unit: make([]float64, np+len(reqs))}
	rows, vals := make([]int32, 0, 3), make([]float64, 0, 3)
	for i, pr := range pairs {
		mv := assets[pr.a].MV
		g := (1 - pr.h) * mv / rowUnit[pr.r]
		rows, vals = append(rows[:0], cover[pr.r], avail[pr.a]), append(vals[:0], g, 1)
		if k, ok := conc[pr.r][assets[pr.a].Class]; ok {
			rows, vals = append(rows, k), append(vals, g)
		}
		p.AddCol(rows, vals)
		m.unit[i] = mv
		m.c[i] = assets[pr.a].CostBP / 10_000 * mv
	}
	for r, req := range reqs {
		p.AddCol([]int32{cover[r]}, []float64{1})
		m.unit[np+r] = rowUnit[r]
		m.w[np+r] = float64(1+req.Priority) * rowUnit[r]
	}
	m.prog = &p
	return m
}

// Pairs lists the eligible (asset, requirement) pairs, asset-major.
func Pairs(assets []Asset, reqs []Requirement, o Options) int {
	n := 0
	for a := range assets {
		for r := range reqs {
			if _, ok := Haircut(assets[a], reqs[r], o); ok {
				n++
			}
		}
	}
	return n
}

// Solve runs both phases.
func Solve(ctx context.Context, assets []Asset, reqs []Requirement, o Options) (Result, error) {
	var pairs []pair
	for a := range assets {
		for r := range reqs {
			if h, ok := Haircut(assets[a], reqs[r], o); ok {
				pairs = append(pairs, pair{a, r, h})
			}
		}
	}
	nr := len(reqs)
	m := build(assets, reqs, pairs)
	sol, err := m.prog.Solve(ctx, [][]float64{m.w, m.c})
	if err != nil {
		return Result{}, err
	}
	res := Result{WeightedShortfall: math.Max(sol.Optima[0], 0), Cost: math.Max(sol.Optima[1], 0),
		Covered: make([]float64, nr), Pivots: sol.Pivots, Unique: sol.Unique}
	for i, p := range pairs {
		v := sol.X[i] * m.unit[i]
		if v <= 1e-9*math.Max(1, assets[p.a].MV) {
			continue
		}
		v = math.Min(v, assets[p.a].MV)
		res.Allocs = append(res.Allocs, Alloc{Asset: p.a, Req: p.r, MV: v, CV: (1 - p.h) * v})
		res.Covered[p.r] += (1 - p.h) * v
	}
	return res, nil
}
