// Package collateral allocates collateral by linear programming
// ("cheapest to deliver"), solved lexicographically: phase 1 minimises the
// priority-weighted shortfall, phase 2 holds it and minimises the funding
// cost. Lexicographic phases give the big-M optimum without its
// conditioning problem, and money is scaled to O(1) before solving because
// simplex tolerances are absolute.
package collateral

import (
	"context"
	"math"
	"slices"

	"github.com/gokernels/gokernels/kernels/treasury/lp"
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
}

type pair struct {
	a, r int
	h    float64
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
	scale := 1.0
	for _, a := range assets {
		scale = math.Max(scale, a.MV)
	}
	for _, r := range reqs {
		scale = math.Max(scale, r.Amount)
	}
	np, nr := len(pairs), len(reqs)
	nv := np + nr // x per pair (scaled), s per requirement (scaled)
	var g [][]float64
	var h []float64
	add := func(row []float64, rhs float64) { g, h = append(g, row), append(h, rhs) }
	for v := range nv {
		row := make([]float64, nv)
		row[v] = -1
		add(row, 0)
	}
	for r, req := range reqs {
		row := make([]float64, nv)
		for i, p := range pairs {
			if p.r == r {
				row[i] = -(1 - p.h)
			}
		}
		row[np+r] = -1
		add(row, -req.Amount/scale)
		for class, q := range req.Limits {
			row := make([]float64, nv)
			has := false
			for i, p := range pairs {
				if p.r == r && assets[p.a].Class == class {
					row[i] = 1 - p.h
					has = true
				}
			}
			if has {
				add(row, q*req.Amount/scale)
			}
		}
	}
	for a, as := range assets {
		row := make([]float64, nv)
		has := false
		for i, p := range pairs {
			if p.a == a {
				row[i] = 1
				has = true
			}
		}
		if has {
			add(row, as.MV/scale)
		}
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	w := make([]float64, nv)
	for r, req := range reqs {
		w[np+r] = float64(1 + req.Priority)
	}
	ws, _, err := lp.Solve(w, g, h)
	if err != nil {
		return Result{}, err
	}
	ws = math.Max(ws, 0)
	// Phase 2: hold the weighted shortfall at its optimum (plus a relative
	// slack far below the comparison tolerance) and minimise the cost.
	add(w, ws+1e-10*math.Max(1, ws))
	c := make([]float64, nv)
	for i, p := range pairs {
		c[i] = assets[p.a].CostBP / 10_000
	}
	cost, x, err := lp.Solve(c, g, h)
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	res := Result{WeightedShortfall: ws * scale, Cost: math.Max(cost, 0) * scale, Covered: make([]float64, nr)}
	for i, p := range pairs {
		v := x[i] * scale
		if v <= 1e-9*math.Max(1, assets[p.a].MV) {
			continue
		}
		v = math.Min(v, assets[p.a].MV)
		res.Allocs = append(res.Allocs, Alloc{Asset: p.a, Req: p.r, MV: v, CV: (1 - p.h) * v})
		res.Covered[p.r] += (1 - p.h) * v
	}
	return res, nil
}
