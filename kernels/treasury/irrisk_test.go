package treasury

import (
	"context"
	"math"
	"testing"

	treasuryv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/treasury/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// ir-risk agrees with the numpy/pandas cash-flow engine case by case, and
// every case keeps the invariants of domains.md §8: Σ gaps = assets −
// liabilities, DV01 ≈ P·D_mod·1bp with a flat yield, Σ key-rate DV01 = the
// parallel DV01 within 1e-4.
func checkIrRisk(t *testing.T, c fixture.Case, _ map[string]any) {
	in := &treasuryv1.IrRiskInput{}
	if err := jsoninput.Decode(c.Input, in); err != nil {
		t.Fatal(err)
	}
	job, err := IrRisk.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	o, err := IrRisk.CPU(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	var assets, liab, gaps float64
	for _, b := range o.GetPortfolio().GetGap() {
		assets += b.GetAssets()
		liab += b.GetLiabilities()
		gaps += b.GetGap()
	}
	if math.Abs(gaps-(assets-liab)) > 1e-9*math.Max(1, assets) {
		t.Errorf("Σ gaps %g ≠ assets − liabilities %g", gaps, assets-liab)
	}
	if in.GetFlatYield() != nil {
		for _, p := range o.GetPositions() {
			if want := p.GetPv() * p.GetModified() * 1e-4; math.Abs(p.GetDv01()-want) > 1e-4*math.Abs(want)+1e-9 {
				t.Errorf("%s: DV01 %g vs P·D_mod·1bp %g", p.GetId(), p.GetDv01(), want)
			}
		}
	}
	if kr := o.GetPortfolio().GetKeyRateDv01(); len(kr) > 0 {
		var sum float64
		for _, k := range kr {
			sum += k.GetDv01()
		}
		if d := o.GetPortfolio().GetDv01(); math.Abs(sum-d) > 1e-4*math.Abs(d) {
			t.Errorf("Σ key-rate DV01 %g ≠ DV01 %g", sum, d)
		}
	}
	if c.Name == "zero_coupon_macaulay_is_T" {
		p := o.GetPositions()[0]
		if math.Abs(p.GetMacaulay()-5) > 1e-12 || math.Abs(p.GetPv()-1e6/math.Pow(1.05, 5)) > 1e-6 {
			t.Errorf("zero coupon: D %g (want 5), PV %g", p.GetMacaulay(), p.GetPv())
		}
	}
	if c.Name == "par_bond_on_coupon_date" {
		if pv := o.GetPositions()[0].GetPv(); math.Abs(pv-100) > 1e-3*100 {
			t.Errorf("par bond PV %g, want 100 within 1e-3", pv)
		}
	}
}

// The bond is valued with its coupons (upstream discounted the notional
// only): PV of a 5 % 5-year bond at a 3 % yield is well above par.
func TestIrRiskIncludesCoupons(t *testing.T) {
	in := &treasuryv1.IrRiskInput{ValuationDate: "2025-01-01", FlatYield: &treasuryv1.FlatYield{Yield: 0.03},
		Positions: []*treasuryv1.IrPosition{{Id: "b", Type: "FIXED", Side: "ASSET", Notional: 100, Coupon: 0.05, MaturityDate: "2030-01-01"}}}
	job, err := IrRisk.Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(job.Flows[0]); n != 10 {
		t.Fatalf("%d flows, want 10 semi-annual coupons", n)
	}
	o, err := IrRisk.CPU(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if pv := o.GetPositions()[0].GetPv(); pv < 108 || pv > 111 {
		t.Errorf("PV %g, want ≈ 109.2 (coupons included)", pv)
	}
}
