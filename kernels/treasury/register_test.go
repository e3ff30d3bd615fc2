package treasury

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	treasuryv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/treasury/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/treasury/collateral"
	"github.com/gokernels/gokernels/kernels/treasury/fxhedge"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// TestRegisterFixtures runs every treasury fixture case through the registry
// as the server does, with each kernel's own checks below; registered kernels
// and fixture files match one to one.
func TestRegisterFixtures(t *testing.T) {
	fixture.RunDomain(t, Register, "treasury", map[string]fixture.Adjust{
		"treasury/cashflow-forecast": fixture.WithCheck(checkCashflow),
		"treasury/collateral-opt":    fixture.WithCheck(checkCollateral),
		"treasury/ir-risk":           fixture.WithCheck(checkIrRisk),
		"treasury/liquidity-opt":     fixture.WithCheck(checkLiquidity),
	})
}

// liquidity-opt agrees with numpy for the ratios and with CBC for the LP
// objective (1e-6·max(1,|x|)); feasible plans meet both targets.
func checkLiquidity(t *testing.T, c fixture.Case, out map[string]any) {
	in := &treasuryv1.LiquidityOptInput{}
	if err := jsoninput.Decode(c.Input, in); err != nil {
		t.Fatal(err)
	}
	job, err := LiquidityOpt.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	o, err := LiquidityOpt.CPU(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if raw, ok := c.Extra["lp_objective"]; ok {
		var want float64
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if math.Abs(o.GetObjective()-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("objective %.12g, CBC %.12g", o.GetObjective(), want)
		}
	}
	if o.GetFeasible() {
		l, n := o.GetPostLcr(), o.GetPostNsfr()
		tl, tn := in.GetTargetLcr(), in.GetTargetNsfr()
		if in.TargetLcr == nil {
			tl = 1
		}
		if in.TargetNsfr == nil {
			tn = 1
		}
		if l.GetHqla() < tl*l.GetNco()-1e-7*math.Max(1, l.GetHqla()) || n.GetAsf() < tn*n.GetRsf()-1e-7*math.Max(1, n.GetAsf()) {
			t.Errorf("post-action HQLA %g vs %g·NCO %g, ASF %g vs %g·RSF %g", l.GetHqla(), tl, l.GetNco(), n.GetAsf(), tn, n.GetRsf())
		}
		var cost float64
		for _, a := range o.GetActions() {
			cost += a.GetCost()
		}
		if math.Abs(cost-o.GetObjective()) > 1e-9*math.Max(1, cost) {
			t.Errorf("Σ action costs %g ≠ objective %g", cost, o.GetObjective())
		}
	}
}

// Put–call parity C − P = S·e^{−r_f T} − K·e^{−r_d T} to 1e-10, and a
// collar's premiums cancel.
func TestGarmanKohlhagenParity(t *testing.T) {
	for _, m := range []fxhedge.Market{{S: 1.08, Rd: 0.05, Rf: 0.03, Vol: 0.08, T: 0.25}, {S: 150, Rd: -0.001, Rf: 0.05, Vol: 0.2, T: 2}} {
		for _, k := range []float64{0.5 * m.S, m.S, 1.3 * m.S} {
			lhs := m.Call(k) - m.Put(k)
			rhs := m.S*math.Exp(-m.Rf*m.T) - k*math.Exp(-m.Rd*m.T)
			if math.Abs(lhs-rhs) > 1e-10*math.Max(1, m.S) {
				t.Errorf("%+v K=%g: C−P = %.15g, parity %.15g", m, k, lhs, rhs)
			}
		}
		kp := 0.95 * m.S
		kc, err := m.StrikeFor(true, m.Put(kp))
		if err != nil || math.Abs(m.Call(kc)-m.Put(kp)) > 1e-12*m.S {
			t.Errorf("collar strike %g: call %g vs put %g (%v)", kc, m.Call(kc), m.Put(kp), err)
		}
	}
}

// With forward hedges and one ratio h, hedged VaR = (1 − h)·unhedged.
func TestForwardHedgeScalesVaR(t *testing.T) {
	f := fixture.KernelFile(t, fixture.DomainFiles(t, "treasury"), "treasury/fx-hedging")
	for _, c := range f.Cases {
		in := &treasuryv1.FxHedgingInput{}
		if c.ErrorField != "" || jsoninput.Decode(c.Input, in) != nil || in.GetInstrument() != "FORWARD" ||
			len(in.GetHedgeHistory()) > 0 || len(in.GetReturns()) == 0 {
			continue
		}
		for _, h := range []float64{0, 0.5, 0.8, 1} {
			in.TargetRatio = &h
			job, err := FxHedging.Prepare(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := FxHedging.CPU(context.Background(), job)
			if err != nil {
				t.Fatal(err)
			}
			v := out.GetVar()
			if math.Abs(v.GetHedged()-(1-h)*v.GetUnhedged()) > 1e-9*v.GetUnhedged() || v.GetHedged() > v.GetUnhedged()*(1+1e-12) {
				t.Errorf("%s h=%g: hedged %g, unhedged %g", c.Name, h, v.GetHedged(), v.GetUnhedged())
			}
		}
		return
	}
	t.Fatal("no forward case with returns")
}

// collateral-opt: each phase equals CBC's optimum to 1e-6·max(1,|x|), and
// the returned allocation is feasible to 1e-7 relative (availability,
// eligibility, concentration; coverage + shortfall = requirement).
func checkCollateral(t *testing.T, c fixture.Case, _ map[string]any) {
	in := &treasuryv1.CollateralOptInput{}
	if err := jsoninput.Decode(c.Input, in); err != nil {
		t.Fatal(err)
	}
	job, err := CollateralOpt.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := CollateralOpt.CPU(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]float64{"cbc_weighted_shortfall": out.GetWeightedShortfall(), "cbc_cost": out.GetCost()} {
		raw, ok := c.Extra[name]
		if !ok {
			continue
		}
		var want float64
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: %.10g, CBC %.10g", name, got, want)
		}
	}
	assets, reqs := map[string]int{}, map[string]int{}
	for i, a := range job.Assets {
		assets[a.ID] = i
	}
	for i, q := range job.Reqs {
		reqs[q.ID] = i
	}
	checkUniqueAllocation(t, c, job, out)
	used := map[string]float64{}
	class := map[[2]string]float64{}
	for _, a := range out.GetAllocations() {
		as, rq := job.Assets[assets[a.GetAsset()]], job.Reqs[reqs[a.GetRequirement()]]
		h, ok := collateral.Haircut(as, rq, job.Opts)
		if !ok || math.Abs(a.GetCollateralValue()-(1-h)*a.GetMarketValue()) > 1e-9*a.GetMarketValue() {
			t.Errorf("allocation %v is ineligible or mis-haircut", a)
		}
		used[as.ID] += a.GetMarketValue()
		class[[2]string{rq.ID, as.Class}] += a.GetCollateralValue()
	}
	for _, a := range job.Assets {
		if used[a.ID] > a.MV*(1+1e-7) {
			t.Errorf("asset %s posts %g > %g", a.ID, used[a.ID], a.MV)
		}
	}
	for i, q := range out.GetRequirements() {
		if math.Abs(q.GetCovered()+q.GetShortfall()-q.GetExcess()-q.GetRequired()) > 1e-7*math.Max(1, q.GetRequired()) {
			t.Errorf("requirement %v: covered + shortfall − excess ≠ required", q)
		}
		for cl, share := range job.Reqs[i].Limits {
			if v := class[[2]string{q.GetId(), cl}]; v > share*q.GetRequired()*(1+1e-7)+1e-9 {
				t.Errorf("requirement %s class %s: %g > %g", q.GetId(), cl, v, share*q.GetRequired())
			}
		}
	}
}

// checkUniqueAllocation compares the allocation with CBC's phase-2
// allocation where the solver shows the optimum unique (every free
// nonbasic reduced cost positive; elsewhere optimal allocations differ
// legitimately). Values are compared in the solver's scaled money (divided
// by the largest amount or market value) to 1e-6·max(1,|x|), the
// tolerance of the phases, since CBC's solution carries about 8
// significant digits of that scale.
func checkUniqueAllocation(t *testing.T, c fixture.Case, job *CollateralJob, out *treasuryv1.CollateralOptOutput) {
	t.Helper()
	raw, ok := c.Extra["cbc_allocations"]
	if !ok {
		return
	}
	res, err := collateral.Solve(context.Background(), job.Assets, job.Reqs, job.Opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Unique {
		// The unique_ cases have generic data to make this comparison run.
		if strings.HasPrefix(c.Name, "unique_") {
			t.Errorf("%s: generic data, yet the optimum was not shown unique", c.Name)
		}
		return
	}
	var rows [][3]any
	if err := json.Unmarshal(raw, &rows); err != nil {
		t.Fatal(err)
	}
	scale := 1.0
	for _, a := range job.Assets {
		scale = math.Max(scale, a.MV)
	}
	for _, r := range job.Reqs {
		scale = math.Max(scale, r.Amount)
	}
	want := map[[2]string]float64{}
	for _, r := range rows {
		want[[2]string{r[0].(string), r[1].(string)}] = r[2].(float64)
	}
	got := map[[2]string]float64{}
	for _, a := range out.GetAllocations() {
		got[[2]string{a.GetAsset(), a.GetRequirement()}] = a.GetMarketValue()
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			got[k] = 0
		}
	}
	for k, g := range got {
		w := want[k]
		if math.Abs(g-w)/scale > 1e-6*math.Max(1, math.Abs(w)/scale) {
			t.Errorf("%s: unique optimum, but %v posts %.10g, CBC %.10g", c.Name, k, g, w)
		}
	}
}

// cashflow-forecast agrees with pandas/scipy; closing = opening + Σ net,
// Σ inflows − Σ outflows = Σ net, and std never decreases.
func checkCashflow(t *testing.T, c fixture.Case, _ map[string]any) {
	in := &treasuryv1.CashflowForecastInput{}
	if err := jsoninput.Decode(c.Input, in); err != nil {
		t.Fatal(err)
	}
	job, err := CashflowForecast.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := CashflowForecast.CPU(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	tot := out.GetTotals()
	scale := math.Max(1, math.Abs(tot.GetInflows())+math.Abs(tot.GetOutflows())+math.Abs(in.GetOpeningBalance()))
	if math.Abs(tot.GetClosing()-(in.GetOpeningBalance()+tot.GetNet())) > 1e-9*scale ||
		math.Abs(tot.GetInflows()-tot.GetOutflows()-tot.GetNet()) > 1e-9*scale {
		t.Errorf("totals %v do not add up (opening %g)", tot, in.GetOpeningBalance())
	}
	prev := 0.0
	for _, d := range out.GetDays() {
		if d.GetStd() < prev {
			t.Errorf("std decreases on %s", d.GetDate())
		}
		prev = d.GetStd()
	}
}
