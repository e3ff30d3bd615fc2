// Package liquidity computes the Basel III liquidity coverage ratio (BCBS
// 238, January 2013, with the Annex 1 caps on Level 2 assets) and the net
// stable funding ratio (BCBS 295, October 2014), and the cheapest set of
// balance-sheet actions that meets both targets as a linear program.
package liquidity

import (
	"context"
	"errors"
	"math"
	"slices"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/treasury/simplex"
)

// Level factors (BCBS 238 ¶49–54).
var levelFactor = map[string]float64{"L1": 1, "L2A": 0.85, "L2B": 0.5, "L2B_RMBS": 0.75}

// OutflowRate is the 30-day run-off rate of a category (BCBS 238 ¶73–131);
// unknown categories run off at 100 %.
var OutflowRate = map[string]float64{
	"RETAIL_STABLE": 0.05, "RETAIL_STABLE_INSURED": 0.03, "RETAIL_LESS_STABLE": 0.10, "OPERATIONAL": 0.25,
	"NONFIN_CORPORATE": 0.40, "FINANCIAL": 1.00, "CF_RETAIL": 0.05, "CF_NONFIN_CREDIT": 0.10,
	"CF_NONFIN_LIQUIDITY": 0.30, "CF_BANK": 0.40, "CF_OTHER_FIN_CREDIT": 0.40, "CF_OTHER_FIN_LIQUIDITY": 1.00,
	"CF_OTHER": 1.00,
}

// ASFFactor is the available-stable-funding factor (BCBS 295 ¶21–25);
// unknown categories 0 %.
var ASFFactor = map[string]float64{
	"CAPITAL": 1, "LIAB_GE_1Y": 1, "RETAIL_STABLE": 0.95, "RETAIL_LESS_STABLE": 0.90,
	"NONFIN_CORP_LT_1Y": 0.5, "SOVEREIGN_LT_1Y": 0.5, "OTHER_6M_1Y": 0.5,
}

// RSFFactor is the required-stable-funding factor (BCBS 295 ¶36–43);
// unknown categories 100 %.
var RSFFactor = map[string]float64{
	"CASH": 0, "CB_RESERVES": 0, "L1": 0.05, "L2A": 0.15, "L2B": 0.50, "MORTGAGE": 0.65, "LOAN_GE_1Y": 0.85,
}

// Asset is an HQLA holding; Factor < 0 means the level's.
type Asset struct {
	Level       string
	MarketValue float64
	Factor      float64
}

// Flow is an amount in a category; Rate < 0 means the category's.
type Flow struct {
	Category string
	Amount   float64
	Rate     float64
}

// LCR is the liquidity coverage ratio.
type LCR struct {
	L1, L2A, L2B, Adj15, Adj40, HQLA, Outflows, Inflows, Capped, NCO, Ratio float64
	Defined                                                                 bool
	Buffer                                                                  float64
}

// ComputeLCR evaluates the ratio from post-haircut levels and 30-day flows.
func ComputeLCR(l1, l2a, l2b, out, in float64) LCR {
	r := LCR{L1: l1, L2A: l2a, L2B: l2b, Outflows: out, Inflows: in}
	r.Adj15 = math.Max(math.Max(l2b-15.0/85*(l1+l2a), l2b-15.0/60*l1), 0)
	r.Adj40 = math.Max(l2a+l2b-r.Adj15-2.0/3*l1, 0)
	r.HQLA = l1 + l2a + l2b - r.Adj15 - r.Adj40
	r.Capped = math.Min(in, 0.75*out)
	r.NCO = out - r.Capped
	if r.NCO > 0 {
		r.Ratio, r.Defined = r.HQLA/r.NCO, true
	}
	r.Buffer = r.HQLA - r.NCO
	return r
}

// Levels sums the post-haircut HQLA values (L2B_RMBS counts as L2B).
func Levels(assets []Asset) (l1, l2a, l2b float64) {
	for _, a := range assets {
		f := a.Factor
		if f < 0 {
			f = levelFactor[a.Level]
		}
		v := a.MarketValue * f
		switch a.Level {
		case "L1":
			l1 += v
		case "L2A":
			l2a += v
		default:
			l2b += v
		}
	}
	return l1, l2a, l2b
}

// Weighted returns Σ amount × rate with the category table as default.
func Weighted(flows []Flow, table map[string]float64, def float64) float64 {
	s := 0.0
	for _, f := range flows {
		s += f.Amount * rate(f, table, def)
	}
	return s
}

func rate(f Flow, table map[string]float64, def float64) float64 {
	if f.Rate >= 0 {
		return f.Rate
	}
	if r, ok := table[f.Category]; ok {
		return r
	}
	return def
}

// NSFR is the net stable funding ratio.
type NSFR struct {
	ASF, RSF   float64
	ByCategory []CategoryRSF
	Ratio      float64
	Defined    bool
}

// CategoryRSF is one category's required stable funding.
type CategoryRSF struct {
	Category string
	RSF      float64
}

// ComputeNSFR evaluates the ratio.
func ComputeNSFR(funding, assets []Flow) NSFR {
	n := NSFR{ASF: Weighted(funding, ASFFactor, 0)}
	by := map[string]float64{}
	for _, a := range assets {
		by[a.Category] += a.Amount * rate(a, RSFFactor, 1)
	}
	for c, v := range by {
		n.ByCategory = append(n.ByCategory, CategoryRSF{c, v})
		n.RSF += v
	}
	slices.SortFunc(n.ByCategory, func(a, b CategoryRSF) int {
		switch {
		case a.Category < b.Category:
			return -1
		case a.Category > b.Category:
			return 1
		}
		return 0
	})
	return finishNSFR(n)
}

func finishNSFR(n NSFR) NSFR {
	if n.RSF > 0 {
		n.Ratio, n.Defined = n.ASF/n.RSF, true
	}
	return n
}

// Action is a candidate action with linear effects per unit.
type Action struct {
	ID                              string
	Cap, Cost                       float64
	L1, L2A, L2B, Out, In, ASF, RSF float64
}

// Plan is the optimiser's result.
type Plan struct {
	Feasible  bool
	Amounts   []float64 // per action
	Objective float64
	LCR       LCR
	NSFR      NSFR
}

// Optimise minimises Σ cost·x over 0 ≤ x ≤ cap subject to H ≤ each of the
// four HQLA pieces, H ≥ t·(O − I), H ≥ t·0.25·O and ASF ≥ t_N·RSF. The
// pieces are concave and NCO convex, so this LP is exact.
func Optimise(ctx context.Context, base LCR, nsfr NSFR, actions []Action, tLCR, tNSFR float64) (Plan, error) {
	n := len(actions)
	nv := n + 1 // x…, H
	var g [][]float64
	var h []float64
	row := func() []float64 { return make([]float64, nv) }
	for j, a := range actions {
		r := row()
		r[j] = 1
		g, h = append(g, r), append(h, a.Cap)
		r = row()
		r[j] = -1
		g, h = append(g, r), append(h, 0)
	}
	r := row()
	r[n] = -1
	g, h = append(g, r), append(h, 0)
	// H ≤ piece_k: H − Σ d_kj x_j ≤ piece_k(0).
	pieces := []struct {
		w  func(a Action) float64
		p0 float64
	}{
		{func(a Action) float64 { return a.L1 + a.L2A + a.L2B }, base.L1 + base.L2A + base.L2B},
		{func(a Action) float64 { return 100.0 / 85 * (a.L1 + a.L2A) }, 100.0 / 85 * (base.L1 + base.L2A)},
		{func(a Action) float64 { return 1.25*a.L1 + a.L2A }, 1.25*base.L1 + base.L2A},
		{func(a Action) float64 { return 5.0 / 3 * a.L1 }, 5.0 / 3 * base.L1},
	}
	for _, pc := range pieces {
		r := row()
		r[n] = 1
		for j, a := range actions {
			r[j] = -pc.w(a)
		}
		g, h = append(g, r), append(h, pc.p0)
	}
	// −H + t Σ (dO − dI) x ≤ −t (O − I);  −H + 0.25 t Σ dO x ≤ −0.25 t O.
	r = row()
	r[n] = -1
	for j, a := range actions {
		r[j] = tLCR * (a.Out - a.In)
	}
	g, h = append(g, r), append(h, -tLCR*(base.Outflows-base.Inflows))
	r = row()
	r[n] = -1
	for j, a := range actions {
		r[j] = 0.25 * tLCR * a.Out
	}
	g, h = append(g, r), append(h, -0.25*tLCR*base.Outflows)
	// −Σ dASF x + t_N Σ dRSF x ≤ ASF − t_N RSF.
	r = row()
	for j, a := range actions {
		r[j] = -a.ASF + tNSFR*a.RSF
	}
	g, h = append(g, r), append(h, nsfr.ASF-tNSFR*nsfr.RSF)
	c := make([]float64, nv)
	for j, a := range actions {
		c[j] = a.Cost
	}
	_, x, err := simplex.SolveDense(ctx, c, g, h)
	plan := Plan{Amounts: make([]float64, n), LCR: base, NSFR: nsfr}
	if errors.Is(err, simplex.ErrInfeasible) {
		return plan, nil
	}
	if errors.Is(err, simplex.ErrNotFinite) {
		return plan, kerr.Invalid("", "the amounts are too large: the optimisation's coefficients overflow float64; rescale them")
	}
	if err != nil {
		return plan, err
	}
	plan.Feasible = true
	l1, l2a, l2b, out, in := base.L1, base.L2A, base.L2B, base.Outflows, base.Inflows
	asf, rsf := nsfr.ASF, nsfr.RSF
	for j, a := range actions {
		v := math.Min(math.Max(x[j], 0), a.Cap)
		if v <= 1e-9*math.Max(1, a.Cap) {
			v = 0
		}
		plan.Amounts[j] = v
		plan.Objective += v * a.Cost
		l1 += v * a.L1
		l2a += v * a.L2A
		l2b += v * a.L2B
		out += v * a.Out
		in += v * a.In
		asf += v * a.ASF
		rsf += v * a.RSF
	}
	plan.LCR = ComputeLCR(l1, l2a, l2b, out, in)
	plan.NSFR = finishNSFR(NSFR{ASF: asf, RSF: rsf, ByCategory: nsfr.ByCategory})
	return plan, nil
}
