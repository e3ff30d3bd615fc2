package collateral

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gokernels/gokernels/kernels/treasury/simplex"
)

// randomCase mirrors scripts/fixtures/markets_collateral.py's generator
// (its own random stream): types, classes, two currencies, haircuts,
// costs, pledges, priorities, eligibility and concentration limits.
func randomCase(rng *rand.Rand, na, nr int, tight bool) ([]Asset, []Requirement, Options) {
	types, classes, ccys := []string{"GOVT", "CORP", "EQUITY", "CASH"}, []string{"A", "B", "C"}, []string{"USD", "EUR"}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	assets := make([]Asset, na)
	total := 0.0
	for i := range assets {
		assets[i] = Asset{ID: string(rune('a' + i%26)), Type: pick(types), Class: pick(classes), Currency: pick(ccys),
			MV: math.Round((1e5+rng.Float64()*4.9e6)*100) / 100, Price: 1,
			Haircut: []float64{0, 0.02, 0.05, 0.15, 0.3}[rng.IntN(5)], CostBP: []float64{0, 5, 12.5, 25, 40}[rng.IntN(5)],
			Pledged: rng.Float64() < .1}
		total += assets[i].MV
	}
	f := 0.5
	if tight {
		f = 1.4
	}
	reqs := make([]Requirement, nr)
	for j := range reqs {
		r := Requirement{Currency: pick(ccys), Amount: math.Round(total/float64(nr)*f*(.5+rng.Float64())*100) / 100,
			Priority: []int{0, 0, 1, 3}[rng.IntN(4)], Limits: map[string]float64{}}
		if rng.Float64() < .5 {
			r.EligibleTypes = []string{pick(types), pick(types)}
		}
		if rng.Float64() < .4 {
			r.Limits[pick(classes)] = []float64{.2, .4}[rng.IntN(2)]
		}
		reqs[j] = r
	}
	return assets, reqs, Options{FXHaircut: 0.08, Rehyp: rng.Float64() < .3}
}

// TestPhasesAreOptimalByDuality solves 200 assets × 50 requirements (and
// smaller cases) and certifies each phase by LP duality on single-objective
// programs built independently of the lexicographic run: phase 1 as is,
// phase 2 with an explicit row holding the weighted shortfall at phase 1's
// optimum. The lexicographic optima must equal both to 1e-6·max(1,|x|),
// and the allocation must be feasible (availability, coverage, limits).
func TestPhasesAreOptimalByDuality(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 50))
	sizes := [][2]int{{200, 50}, {200, 50}, {60, 20}, {30, 30}, {7, 3}}
	if testing.Short() {
		sizes = sizes[2:]
	}
	for k, sz := range sizes {
		assets, reqs, o := randomCase(rng, sz[0], sz[1], k%2 == 0)
		res, err := Solve(context.Background(), assets, reqs, o)
		if err != nil {
			t.Fatalf("%d×%d: %v", sz[0], sz[1], err)
		}
		certifyPhases(t, assets, reqs, o, res)
		checkFeasible(t, assets, reqs, res)
		t.Logf("%d×%d: %d pairs, %d pivots, weighted shortfall %.6g, cost %.6g", sz[0], sz[1], Pairs(assets, reqs, o), res.Pivots,
			res.WeightedShortfall, res.Cost)
	}
}

// TestRandomSmallCasesAreOptimal: 300 small random cases (seeded), each
// phase certified by LP duality as in TestPhasesAreOptimalByDuality, with
// zero amounts, zero limits, all-pledged books and extreme magnitudes
// mixed in.
func TestRandomSmallCasesAreOptimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 22))
	for k := range 300 {
		assets, reqs, o := randomCase(rng, 1+rng.IntN(12), 1+rng.IntN(6), rng.IntN(2) == 0)
		switch k % 6 {
		case 1:
			reqs[0].Amount = 0
		case 2:
			for c := range reqs[0].Limits {
				reqs[0].Limits[c] = 0
			}
		case 3:
			for i := range assets {
				assets[i].Pledged = true
			}
		case 4:
			assets[0].MV *= magnify() // 1e11–5e12 beside 1e5–5e6
		case 5:
			o.FXHaircut = -1
		}
		res, err := Solve(context.Background(), assets, reqs, o)
		if err != nil {
			t.Fatalf("case %d: %v", k, err)
		}
		certifyPhases(t, assets, reqs, o, res)
		checkFeasible(t, assets, reqs, res)
	}
}

// certifyPhases checks res's two optima against single-objective solves
// certified by LP duality: phase 1 as is, phase 2 with a row holding the
// weighted shortfall at phase 1's optimum.
func certifyPhases(t *testing.T, assets []Asset, reqs []Requirement, o Options, res Result) {
	t.Helper()
	sz := [2]int{len(assets), len(reqs)}
	var pairs []pair
	for a := range assets {
		for r := range reqs {
			if h, ok := Haircut(assets[a], reqs[r], o); ok {
				pairs = append(pairs, pair{a, r, h})
			}
		}
	}
	// The objectives are normalised to max |coefficient| 1 so that the
	// certificate's tolerances are relative.
	norm := func(v []float64) ([]float64, float64) {
		mx := 0.0
		for _, x := range v {
			mx = math.Max(mx, math.Abs(x))
		}
		if mx == 0 {
			mx = 1
		}
		out := make([]float64, len(v))
		for k, x := range v {
			out[k] = x / mx
		}
		return out, mx
	}
	m1 := build(assets, reqs, pairs)
	w, wScale := norm(m1.w)
	c, cScale := norm(m1.c)
	one, err := m1.prog.Solve(context.Background(), [][]float64{w})
	if err != nil {
		t.Fatal(err)
	}
	if err := m1.prog.Verify(w, one, 1e-8); err != nil {
		t.Fatalf("%d×%d phase 1: %v", sz[0], sz[1], err)
	}
	p2 := build(assets, reqs, pairs).prog
	p2.AddRowOver(simplex.LE, one.Optima[0]*(1+1e-9)+1e-12, w)
	two, err := p2.Solve(context.Background(), [][]float64{c})
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Verify(c, two, 1e-8); err != nil {
		t.Fatalf("%d×%d phase 2: %v", sz[0], sz[1], err)
	}
	for name, pr := range map[string][2]float64{"weighted shortfall": {res.WeightedShortfall, one.Optima[0] * wScale},
		"cost": {res.Cost, two.Optima[0] * cScale}} {
		if math.Abs(pr[0]-pr[1]) > 1e-6*math.Max(1, math.Abs(pr[1])) {
			t.Errorf("%d×%d %s: lexicographic %.10g, certified %.10g", sz[0], sz[1], name, pr[0], pr[1])
		}
	}
}

// magnify is 1e6, or GOKERNELS_COLLATERAL_MAGNIFY to probe wider ranges.
func magnify() float64 {
	if v, err := strconv.ParseFloat(os.Getenv("GOKERNELS_COLLATERAL_MAGNIFY"), 64); err == nil {
		return v
	}
	return 1e6
}

func checkFeasible(t *testing.T, assets []Asset, reqs []Requirement, res Result) {
	t.Helper()
	used := make([]float64, len(assets))
	cov := make([]float64, len(reqs))
	class := map[[2]int]float64{}
	for _, a := range res.Allocs {
		used[a.Asset] += a.MV
		cov[a.Req] += a.CV
		class[[2]int{a.Req, int(assets[a.Asset].Class[0])}] += a.CV
	}
	for a, u := range used {
		if u > assets[a].MV*(1+1e-7) {
			t.Errorf("asset %d: %g posted of %g", a, u, assets[a].MV)
		}
	}
	ws := 0.0
	for r, req := range reqs {
		ws += float64(1+req.Priority) * math.Max(req.Amount-cov[r], 0)
		for cl, q := range req.Limits {
			if v := class[[2]int{r, int(cl[0])}]; v > q*req.Amount*(1+1e-7)+1e-7 {
				t.Errorf("requirement %d class %s: %g over its limit %g", r, cl, v, q*req.Amount)
			}
		}
	}
	if math.Abs(ws-res.WeightedShortfall) > 1e-6*math.Max(1, ws) {
		t.Errorf("the allocation's weighted shortfall is %.10g, reported %.10g", ws, res.WeightedShortfall)
	}
}

// TestDeadlineStopsTheSolve: a 200 × 50 solve (hundreds of pivots) under
// a deadline far shorter than the solve returns the context's error, soon.
func TestDeadlineStopsTheSolve(t *testing.T) {
	assets, reqs, o := randomCase(rand.New(rand.NewPCG(22, 50)), 200, 50, true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Solve(ctx, assets, reqs, o)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("the solve stopped after %v", el)
	}
}

func BenchmarkSolve200x50(b *testing.B) {
	assets, reqs, o := randomCase(rand.New(rand.NewPCG(22, 50)), 200, 50, true)
	for b.Loop() {
		if _, err := Solve(context.Background(), assets, reqs, o); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDenormalAmounts: amounts and values at the edges of float64 (a
// denormal requirement beside a 1e15 asset) solve without overflow.
func TestDenormalAmounts(t *testing.T) {
	assets := []Asset{{ID: "a", Class: "A", MV: 1e15, Price: 1}, {ID: "b", Class: "B", MV: 5e-324, Price: 1, CostBP: 1}}
	reqs := []Requirement{{ID: "r", Amount: 5e-324}, {ID: "s", Amount: 1e15, Priority: 2}}
	res, err := Solve(context.Background(), assets, reqs, Options{FXHaircut: -1})
	if err != nil {
		t.Fatal(err)
	}
	if res.WeightedShortfall > 1e-6*3e15 || len(res.Allocs) == 0 {
		t.Fatalf("%+v", res)
	}
	checkFeasible(t, assets, reqs, res)
}
