package treasury

import (
	"context"
	"fmt"
	"math"
	"slices"

	treasuryv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/treasury/v1"
	"github.com/gokernels/gokernels/kernels/clearing/calendar"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/kernels/treasury/irrisk"
)

// IrJob is a validated ir-risk request: each live position's flows, the
// repricing placements and the curve.
type IrJob struct {
	Curve   irrisk.Curve
	IDs     []string
	Flows   [][]irrisk.Flow
	Placed  []placement
	Matured []string
	Shocks  []float64
	Edges   []int // bucket starts in days; the last bucket is open
}

// placement is a notional placed in the repricing gap.
type placement struct {
	days   int
	amount float64
}

// IrRisk is treasury/ir-risk.
var IrRisk = registry.Def[*treasuryv1.IrRiskInput, *treasuryv1.IrRiskOutput, *IrJob]{
	Meta: registry.Meta{
		ID: "treasury/ir-risk", Domain: registry.DomainTreasury,
		Description: "Interest-rate risk of a book with full coupon schedules: PV, Macaulay/modified duration, " +
			"DV01 (PV01), effective duration, convexity, key-rate DV01, repricing gap and ΔEVE (equals numpy/pandas).",
	},
	Prepare: prepareIr,
	CPU:     runIr,
}

// Default gap buckets (upstream's) and the BCBS 368 Annex 2 time buckets
// with months as ⌊k·365/12⌋ days.
var (
	defaultEdges = []int{0, 30, 90, 180, 365, 730, 1825}
	bcbs368Edges = []int{0, 2, 30, 91, 182, 273, 365, 547, 730, 1095, 1460, 1825, 2190, 2555, 2920, 3285, 3650, 5475, 7300}
)

func prepareIr(ctx context.Context, in *treasuryv1.IrRiskInput) (*IrJob, error) {
	if err := limits.Check("positions", len(in.GetPositions()), limits.From(ctx).MaxSamples); err != nil {
		return nil, err
	}
	val, ok := calendar.Parse(in.GetValuationDate())
	if !ok {
		return nil, kerr.Invalid("valuation_date", "must be a calendar date YYYY-MM-DD, got %q", in.GetValuationDate())
	}
	job := &IrJob{Edges: defaultEdges}
	if in.GetBuckets() == "BCBS368" {
		job.Edges = bcbs368Edges
	}
	switch fy, zc := in.GetFlatYield(), in.GetZeroCurve(); {
	case fy != nil && len(zc) > 0:
		return nil, kerr.Invalid("zero_curve", "must be empty when flat_yield is set (exactly one of them)")
	case fy != nil:
		job.Curve = irrisk.Curve{Flat: true, Y: fy.GetYield(), M: float64(registry.Or(fy.Compounding, 2))}
	case len(zc) > 0:
		for i, n := range zc {
			if i > 0 && n.GetT() <= zc[i-1].GetT() {
				return nil, kerr.Invalid(fmt.Sprintf("zero_curve[%d].t", i), "must be greater than zero_curve[%d].t (%g), got %g", i-1, zc[i-1].GetT(), n.GetT())
			}
			job.Curve.Nodes = append(job.Curve.Nodes, n.GetT())
			job.Curve.Rates = append(job.Curve.Rates, n.GetRate())
		}
	default:
		return nil, kerr.Invalid("flat_yield", "is required when zero_curve is empty (exactly one of them)")
	}
	for i, s := range in.GetShocksBp() {
		if c := job.Curve; c.Flat && 1+(c.Y+s*irrisk.BP)/c.M <= 0 {
			return nil, kerr.Invalid(fmt.Sprintf("shocks_bp[%d]", i), "takes the yield to %g, where 1 + y/m ≤ 0", c.Y+s*irrisk.BP)
		}
		job.Shocks = append(job.Shocks, s)
	}
	seen := map[string]bool{}
	for i, p := range in.GetPositions() {
		f := fmt.Sprintf("positions[%d]", i)
		if seen[p.GetId()] {
			return nil, kerr.Invalid(f+".id", "duplicate id %q", p.GetId())
		}
		seen[p.GetId()] = true
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mat, ok := calendar.Parse(p.GetMaturityDate())
		if !ok {
			return nil, kerr.Invalid(f+".maturity_date", "must be a calendar date YYYY-MM-DD, got %q", p.GetMaturityDate())
		}
		if mat > irrisk.AddMonths(val, 1200) {
			return nil, kerr.Invalid(f+".maturity_date", "is more than 100 years after the valuation date")
		}
		typ := p.GetType()
		var reset calendar.Day
		if typ == "FLOATING" || typ == "SWAP" {
			if reset, ok = calendar.Parse(p.GetNextResetDate()); !ok {
				return nil, kerr.Invalid(f+".next_reset_date", "must be a calendar date YYYY-MM-DD for %s, got %q", typ, p.GetNextResetDate())
			}
			if reset > mat {
				return nil, kerr.Invalid(f+".next_reset_date", "%s is after maturity_date %s", reset, mat)
			}
			if p.CurrentRate == nil {
				return nil, kerr.Invalid(f+".current_rate", "is required for %s", typ)
			}
		}
		if mat <= val {
			job.Matured = append(job.Matured, p.GetId())
			continue
		}
		sign := 1.0
		if p.GetSide() == "LIABILITY" {
			sign = -1
		}
		if typ == "SWAP" && p.GetPayFixed() {
			sign = -sign
		}
		n := sign * p.GetNotional()
		m := int(registry.Or(p.Frequency, 2))
		if typ == "FLOATING" {
			m = int(registry.Or(p.Frequency, 4))
		}
		var flows []irrisk.Flow
		add := func(d calendar.Day, a float64) {
			if d > val {
				flows = append(flows, irrisk.Flow{T: irrisk.Years(val, d), Amount: a})
			}
		}
		fixedLeg := func() {
			for _, d := range irrisk.CouponDates(val, mat, m) {
				a := n * p.GetCoupon() / float64(m)
				if d == mat {
					a += n
				}
				add(d, a)
			}
		}
		floatLeg := func(s float64) { add(reset, s*n*(1+p.GetCurrentRate()/float64(m))) }
		switch typ {
		case "FIXED":
			fixedLeg()
			job.Placed = append(job.Placed, placement{int(mat - val), n})
		case "FLOATING":
			floatLeg(1)
			job.Placed = append(job.Placed, placement{max(int(reset-val), 0), n})
		case "DEPOSIT":
			add(mat, n*(1+p.GetCoupon()*irrisk.Years(val, mat)))
			job.Placed = append(job.Placed, placement{int(mat - val), n})
		case "SWAP":
			fixedLeg()
			floatLeg(-1)
			job.Placed = append(job.Placed, placement{int(mat - val), n}, placement{max(int(reset-val), 0), -n})
		}
		job.IDs = append(job.IDs, p.GetId())
		job.Flows = append(job.Flows, flows)
	}
	slices.Sort(job.Matured)
	return job, nil
}

func runIr(ctx context.Context, job *IrJob) (*treasuryv1.IrRiskOutput, error) {
	c := &job.Curve
	out := &treasuryv1.IrRiskOutput{Matured: job.Matured, Portfolio: &treasuryv1.IrPortfolioRisk{}}
	if out.Matured == nil {
		out.Matured = []string{}
	}
	port := out.Portfolio
	var all []irrisk.Flow
	for i, flows := range job.Flows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r := c.Measure(flows)
		out.Positions = append(out.Positions, &treasuryv1.IrPositionRisk{Id: job.IDs[i], Pv: r.PV, Macaulay: r.Macaulay,
			Modified: r.Modified, EffectiveDuration: r.Effective, Convexity: r.Convexity, Dv01: r.DV01})
		port.Pv += r.PV
		port.Dv01 += r.DV01
		all = append(all, flows...)
	}
	agg := c.Measure(all)
	port.Macaulay, port.Modified = agg.Macaulay, agg.Modified
	for i, k := range c.KeyRateDV01(all) {
		port.KeyRateDv01 = append(port.KeyRateDv01, &treasuryv1.KeyRateDv01{T: c.Nodes[i], Dv01: k})
	}
	for _, s := range job.Shocks {
		d := c.DeltaPV(all, s*irrisk.BP)
		port.Eve = append(port.Eve, &treasuryv1.EveShock{ShockBp: s, DeltaEve: d})
	}
	port.Gap = gapBuckets(job.Edges, job.Placed)
	if !finite(port.Pv, port.Dv01, agg.Convexity) {
		return nil, kerr.Invalid("positions", "values overflow float64 at these rates and notionals")
	}
	return out, nil
}

// gapBuckets sums the placements into [edge_i, edge_{i+1}) day buckets.
func gapBuckets(edges []int, placed []placement) []*treasuryv1.GapBucket {
	out := make([]*treasuryv1.GapBucket, len(edges))
	for i, a := range edges {
		b := &treasuryv1.GapBucket{FromDays: int32(a), Bucket: fmt.Sprintf("%d+", a)}
		if i+1 < len(edges) {
			b.ToDays = int32(edges[i+1])
			b.Bucket = fmt.Sprintf("%d-%d", a, edges[i+1])
		}
		out[i] = b
	}
	for _, p := range placed {
		i, _ := slices.BinarySearch(edges, p.days+1) // the last edge ≤ days
		b := out[i-1]
		if p.amount > 0 {
			b.Assets += p.amount
		} else {
			b.Liabilities -= p.amount
		}
	}
	var cum float64
	for _, b := range out {
		b.Gap = b.Assets - b.Liabilities
		cum += b.Gap
		b.CumulativeGap = cum
	}
	return out
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
