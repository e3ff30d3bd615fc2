package treasury

import (
	"context"
	"fmt"
	"math"
	"slices"

	treasuryv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/treasury/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/treasury/collateral"
	"github.com/gokernels/gokernels/kernels/treasury/simplex"
)

// CollateralJob is a validated collateral request.
type CollateralJob struct {
	Assets []collateral.Asset
	Reqs   []collateral.Requirement
	Opts   collateral.Options
}

// MaxCollateralRows bounds the LP's rows: assets + requirements +
// concentration limits. The sparse simplex keeps a dense rows × rows basis
// inverse and takes about 2–4 pivots per row, each pricing every pair and
// updating the inverse, so time grows about as rows³. Measured on tight
// random books (process CPU seconds on the shared machine, 2578ba5): 250
// rows (200 × 50, 6,700 pairs) 0.04 s; 500 rows (400 × 100, 26,000 pairs)
// 0.33 s; 600 rows (450 × 150, 48,000 pairs) 1.05 s. The cap keeps a
// solve near a CPU-second; ctx stops it on every pivot. It also bounds
// pairs (≤ 300² = 90,000) and the inverse (2.9 MB).
const MaxCollateralRows = 600

// CollateralOpt is treasury/collateral-opt.
var CollateralOpt = registry.Def[*treasuryv1.CollateralOptInput, *treasuryv1.CollateralOptOutput, *CollateralJob]{
	Meta: registry.Meta{
		ID: "treasury/collateral-opt", Domain: registry.DomainTreasury,
		Description: "Collateral allocation by a two-phase LP (weighted shortfall, then cost) with haircuts, FX add-ons, " +
			"eligibility and concentration limits (each phase equals pulp + CBC).",
	},
	Prepare: prepareCollateral,
	CPU:     runCollateral,
	Estimate: func(in *treasuryv1.CollateralOptInput) registry.Cost {
		// Every pair counted as eligible: an upper bound.
		m, n := collateralRows(in), len(in.GetAssets())*len(in.GetRequirements())
		out := int64(n+len(in.GetRequirements())) * 96
		return registry.Cost{WorkingBytes: simplex.WorkingBytes(m, n, 3*n) + out, OutputBytes: out,
			Work: simplex.Work(m, n, 3*n, 2)}
	},
}

// collateralRows is the LP's row count bound: coverage and limits per
// requirement, availability per asset.
func collateralRows(in *treasuryv1.CollateralOptInput) int {
	n := len(in.GetAssets()) + len(in.GetRequirements())
	for _, r := range in.GetRequirements() {
		n += len(r.GetConcentration())
	}
	return n
}

func prepareCollateral(_ context.Context, in *treasuryv1.CollateralOptInput) (*CollateralJob, error) {
	if n := collateralRows(in); n > MaxCollateralRows {
		return nil, kerr.Invalid("assets", "assets + requirements + concentration limits = %d exceeds the limit of %d",
			n, MaxCollateralRows)
	}
	job := &CollateralJob{Opts: collateral.Options{FXHaircut: -1, Rehyp: in.GetAllowRehypothecation()}}
	if in.FxHaircut != nil {
		job.Opts.FXHaircut = in.GetFxHaircut()
	}
	seen := map[string]bool{}
	for i, a := range in.GetAssets() {
		if seen[a.GetId()] {
			return nil, kerr.Invalid(fmt.Sprintf("assets[%d].id", i), "duplicate asset id %q", a.GetId())
		}
		seen[a.GetId()] = true
		price := 1.0
		if a.Price != nil {
			price = a.GetPrice()
		}
		if price < 1e-9 {
			return nil, kerr.Invalid(fmt.Sprintf("assets[%d].price", i), "must be ≥ 1e-9, got %g", price)
		}
		job.Assets = append(job.Assets, collateral.Asset{ID: a.GetId(), Type: a.GetType(), Class: a.GetClass(),
			Currency: a.GetCurrency(), MV: a.GetMarketValue(), Price: price, Haircut: a.GetHaircut(), CostBP: a.GetCostBp(),
			Pledged: a.GetPledged()})
	}
	seen = map[string]bool{}
	for i, r := range in.GetRequirements() {
		if seen[r.GetId()] {
			return nil, kerr.Invalid(fmt.Sprintf("requirements[%d].id", i), "duplicate requirement id %q", r.GetId())
		}
		seen[r.GetId()] = true
		req := collateral.Requirement{ID: r.GetId(), Currency: r.GetCurrency(), Amount: r.GetAmount(),
			Priority: int(r.GetPriority()), EligibleTypes: r.GetEligibleTypes(), Limits: map[string]float64{}}
		for j, l := range r.GetConcentration() {
			if _, dup := req.Limits[l.GetClass()]; dup {
				return nil, kerr.Invalid(fmt.Sprintf("requirements[%d].concentration[%d].class", i, j), "duplicate class %q", l.GetClass())
			}
			req.Limits[l.GetClass()] = l.GetMaxShare()
		}
		job.Reqs = append(job.Reqs, req)
	}
	return job, nil
}

func runCollateral(ctx context.Context, job *CollateralJob) (*treasuryv1.CollateralOptOutput, error) {
	res, err := collateral.Solve(ctx, job.Assets, job.Reqs, job.Opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, kerr.Invalid("assets", "the allocation LP could not be solved: %v", err)
	}
	out := &treasuryv1.CollateralOptOutput{Cost: res.Cost, WeightedShortfall: res.WeightedShortfall, Status: "OPTIMAL"}
	maxC, total := 0.0, 0.0
	for _, a := range job.Assets {
		maxC = math.Max(maxC, a.CostBP/10_000)
	}
	for _, r := range job.Reqs {
		total += r.Amount
	}
	out.Objective = res.Cost + 1e6*math.Max(1, maxC)*res.WeightedShortfall
	if res.WeightedShortfall > 1e-9*math.Max(1, total) {
		out.Status = "SHORTFALL"
	}
	allocs := slices.Clone(res.Allocs)
	slices.SortFunc(allocs, func(x, y collateral.Alloc) int {
		ax, ay := job.Assets[x.Asset].ID, job.Assets[y.Asset].ID
		switch {
		case ax != ay:
			if ax < ay {
				return -1
			}
			return 1
		case job.Reqs[x.Req].ID < job.Reqs[y.Req].ID:
			return -1
		case job.Reqs[x.Req].ID > job.Reqs[y.Req].ID:
			return 1
		}
		return 0
	})
	for _, a := range allocs {
		as := job.Assets[a.Asset]
		out.Allocations = append(out.Allocations, &treasuryv1.Allocation{Asset: as.ID, Requirement: job.Reqs[a.Req].ID,
			MarketValue: a.MV, CollateralValue: a.CV, Quantity: a.MV / as.Price})
	}
	for r, req := range job.Reqs {
		cov := res.Covered[r]
		out.Requirements = append(out.Requirements, &treasuryv1.RequirementCoverage{Id: req.ID, Required: req.Amount,
			Covered: cov, Shortfall: math.Max(req.Amount-cov, 0), Excess: math.Max(cov-req.Amount, 0)})
	}
	return out, nil
}
