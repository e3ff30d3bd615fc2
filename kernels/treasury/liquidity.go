package treasury

import (
	"context"
	"fmt"

	treasuryv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/treasury/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/treasury/liquidity"
)

// LiquidityJob is a validated liquidity request.
type LiquidityJob struct {
	LCR         liquidity.LCR
	NSFR        liquidity.NSFR
	Actions     []liquidity.Action
	IDs         []string
	TLCR, TNSFR float64
}

// LiquidityOpt is treasury/liquidity-opt.
var LiquidityOpt = registry.Def[*treasuryv1.LiquidityOptInput, *treasuryv1.LiquidityOptOutput, *LiquidityJob]{
	Meta: registry.Meta{
		ID: "treasury/liquidity-opt", Domain: registry.DomainTreasury,
		Description: "Basel III LCR (BCBS 238 with the Annex 1 15 %/40 % caps) and NSFR (BCBS 295), and the cheapest " +
			"actions meeting both targets (LP, equals pulp + CBC).",
	},
	Prepare: prepareLiquidity,
	CPU: func(ctx context.Context, job *LiquidityJob) (*treasuryv1.LiquidityOptOutput, error) {
		plan, err := liquidity.Optimise(ctx, job.LCR, job.NSFR, job.Actions, job.TLCR, job.TNSFR)
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			// The simplex failed numerically (degenerate or badly scaled
			// effects): the request's actions are the cause.
			return nil, kerr.Invalid("actions", "the action LP could not be solved: %v", err)
		}
		out := &treasuryv1.LiquidityOptOutput{Lcr: lcrProto(job.LCR), Nsfr: nsfrProto(job.NSFR),
			Objective: plan.Objective, PostLcr: lcrProto(plan.LCR), PostNsfr: nsfrProto(plan.NSFR), Feasible: plan.Feasible}
		for j, v := range plan.Amounts {
			if v > 0 {
				out.Actions = append(out.Actions, &treasuryv1.ActionAmount{Id: job.IDs[j], Amount: v, Cost: v * job.Actions[j].Cost})
			}
		}
		return out, ctx.Err()
	},
}

func flows(vs []*treasuryv1.CategoryAmount) []liquidity.Flow {
	out := make([]liquidity.Flow, len(vs))
	for i, v := range vs {
		out[i] = liquidity.Flow{Category: v.GetCategory(), Amount: v.GetAmount(), Rate: -1}
		if v.Rate != nil {
			out[i].Rate = v.GetRate()
		}
	}
	return out
}

func prepareLiquidity(ctx context.Context, in *treasuryv1.LiquidityOptInput) (*LiquidityJob, error) {
	lim := limits.From(ctx).MaxSamples
	n := len(in.GetHqla()) + len(in.GetOutflows()) + len(in.GetInflows()) + len(in.GetFunding()) + len(in.GetAssets())
	if err := limits.Check("hqla", n, lim); err != nil {
		return nil, err
	}
	// The dense simplex is O(rows × columns) per pivot: keep it small.
	if err := limits.Check("actions", len(in.GetActions()), 500); err != nil {
		return nil, err
	}
	for i, a := range in.GetHqla() {
		if err := bounded(fmt.Sprintf("hqla[%d].market_value", i), a.GetMarketValue(), maxMoney); err != nil {
			return nil, err
		}
	}
	for _, l := range []struct {
		field string
		vs    []*treasuryv1.CategoryAmount
	}{{"outflows", in.GetOutflows()}, {"inflows", in.GetInflows()}, {"funding", in.GetFunding()}, {"assets", in.GetAssets()}} {
		for i, v := range l.vs {
			if err := bounded(fmt.Sprintf("%s[%d].amount", l.field, i), v.GetAmount(), maxMoney); err != nil {
				return nil, err
			}
		}
	}
	for i, a := range in.GetActions() {
		e := a.GetEffects()
		for _, v := range []float64{a.GetCap(), a.GetCost(), e.GetL1(), e.GetL2A(), e.GetL2B(), e.GetOutflows(), e.GetInflows(), e.GetAsf(), e.GetRsf()} {
			if err := bounded(fmt.Sprintf("actions[%d]", i), v, maxMoney); err != nil {
				return nil, err
			}
		}
	}
	assets := make([]liquidity.Asset, len(in.GetHqla()))
	for i, a := range in.GetHqla() {
		assets[i] = liquidity.Asset{Level: a.GetLevel(), MarketValue: a.GetMarketValue(), Factor: -1}
		if a.Factor != nil {
			assets[i].Factor = a.GetFactor()
		}
	}
	l1, l2a, l2b := liquidity.Levels(assets)
	inflows := flows(in.GetInflows())
	for i := range inflows {
		if inflows[i].Rate < 0 {
			inflows[i].Rate = 1
		}
	}
	job := &LiquidityJob{
		LCR: liquidity.ComputeLCR(l1, l2a, l2b, liquidity.Weighted(flows(in.GetOutflows()), liquidity.OutflowRate, 1),
			liquidity.Weighted(inflows, nil, 1)),
		NSFR: liquidity.ComputeNSFR(flows(in.GetFunding()), flows(in.GetAssets())),
		TLCR: registry.Or(in.TargetLcr, 1), TNSFR: registry.Or(in.TargetNsfr, 1),
	}
	seen := map[string]bool{}
	for i, a := range in.GetActions() {
		if seen[a.GetId()] {
			return nil, kerr.Invalid(fmt.Sprintf("actions[%d].id", i), "duplicate action id %q", a.GetId())
		}
		seen[a.GetId()] = true
		e := a.GetEffects()
		job.Actions = append(job.Actions, liquidity.Action{ID: a.GetId(), Cap: a.GetCap(), Cost: a.GetCost(),
			L1: e.GetL1(), L2A: e.GetL2A(), L2B: e.GetL2B(), Out: e.GetOutflows(), In: e.GetInflows(), ASF: e.GetAsf(), RSF: e.GetRsf()})
		job.IDs = append(job.IDs, a.GetId())
	}
	return job, nil
}

func lcrProto(l liquidity.LCR) *treasuryv1.Lcr {
	return &treasuryv1.Lcr{L1: l.L1, L2A: l.L2A, L2B: l.L2B, Adj15: l.Adj15, Adj40: l.Adj40, Hqla: l.HQLA,
		Outflows: l.Outflows, Inflows: l.Inflows, CappedInflows: l.Capped, Nco: l.NCO, Ratio: l.Ratio,
		RatioDefined: l.Defined, Buffer: l.Buffer}
}

func nsfrProto(n liquidity.NSFR) *treasuryv1.Nsfr {
	out := &treasuryv1.Nsfr{Asf: n.ASF, Rsf: n.RSF, Ratio: n.Ratio, RatioDefined: n.Defined}
	for _, c := range n.ByCategory {
		out.RsfByCategory = append(out.RsfByCategory, &treasuryv1.RsfCategory{Category: c.Category, Rsf: c.RSF})
	}
	return out
}
