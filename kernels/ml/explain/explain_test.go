package explain

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// expected compares the fixture fields a case lists (nil = not listed);
// scalars are one-element slices.
type expected map[string][]float64

func checkExpected(t *testing.T, c fixture.Case, got, want expected) {
	t.Helper()
	rtol, atol := c.Tolerances()
	for name, w := range want {
		if w != nil {
			fixture.Floats(t, c.Name+"."+name, got[name], w, rtol, atol)
		}
	}
}

func one(v *float64) []float64 {
	if v == nil {
		return nil
	}
	return []float64{*v}
}

func wantFieldError(t *testing.T, c fixture.Case, err error) {
	t.Helper()
	if fe, ok := kerr.AsField(err); !ok || fe.Field != c.ErrorField {
		t.Fatalf("%s: error %v, want a field error on %s", c.Name, err, c.ErrorField)
	}
}

type treeJSON struct {
	Left      []int     `json:"children_left"`
	Right     []int     `json:"children_right"`
	Feature   []int     `json:"feature"`
	Threshold []float64 `json:"threshold"`
	Value     []float64 `json:"value"`
}

type modelJSON struct {
	Kind            string     `json:"kind"`
	Coefficients    []float64  `json:"coefficients"`
	Intercept       float64    `json:"intercept"`
	Trees           []treeJSON `json:"trees"`
	TreeAggregation string     `json:"tree_aggregation"`
}

func (mj modelJSON) model() *Model {
	m := &Model{Coefficients: mj.Coefficients, Intercept: mj.Intercept, MeanOfTrees: mj.TreeAggregation == "mean"}
	switch mj.Kind {
	case "linear":
		m.Kind = Linear
	case "logistic":
		m.Kind = Logistic
	case "tree_ensemble":
		m.Kind = TreeEnsemble
	}
	for _, t := range mj.Trees {
		m.Trees = append(m.Trees, Tree{Left: t.Left, Right: t.Right, Feature: t.Feature, Threshold: t.Threshold, Value: t.Value})
	}
	return m
}

type explainInput struct {
	Data        []float64 `json:"data"`
	NSamples    int       `json:"n_samples"`
	NFeatures   int       `json:"n_features"`
	Background  []float64 `json:"background"`
	NBackground int       `json:"n_background"`
	Model       modelJSON `json:"model"`
	Output      string    `json:"output"`
	Target      []float64 `json:"target"`
	Scoring     string    `json:"scoring"`
	NRepeats    *int      `json:"n_repeats"`
	Seed        uint32    `json:"seed"`
}

func TestShapFixtures(t *testing.T) {
	for _, c := range fixture.Kernel(t, "ml", "shap-values").Cases {
		var in explainInput
		fixture.Decode(t, c.Input, &in)
		res, err := Shap(context.Background(), in.Model.model(), in.Data, in.NSamples, in.NFeatures, in.Background, in.NBackground, in.Output == "probability")
		if c.ErrorField != "" {
			wantFieldError(t, c, err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var want struct {
			ShapValues    []float64 `json:"shap_values"`
			ExpectedValue *float64  `json:"expected_value"`
			Predictions   []float64 `json:"predictions"`
		}
		fixture.Decode(t, c.ExpectRaw, &want)
		checkExpected(t, c,
			expected{"shap_values": res.Values, "expected_value": {res.ExpectedValue}, "predictions": res.Predictions},
			expected{"shap_values": want.ShapValues, "expected_value": one(want.ExpectedValue), "predictions": want.Predictions})
		checkLocalAccuracy(t, c.Name, res, in.NFeatures)
	}
}

// checkLocalAccuracy: each row's values sum to f(x) − E[f(Z)].
func checkLocalAccuracy(t *testing.T, name string, res *ShapResult, p int) {
	t.Helper()
	for i, f := range res.Predictions {
		sum := 0.0
		for _, v := range res.Values[i*p : (i+1)*p] {
			sum += v
		}
		if d := math.Abs(sum - (f - res.ExpectedValue)); d > 1e-9 {
			t.Errorf("%s row %d: Σφ = %v, f(x) − E[f] = %v", name, i, sum, f-res.ExpectedValue)
		}
	}
}

var scorings = map[string]Scoring{
	"": ScoreDefault, "r2": ScoreR2, "neg_mean_squared_error": ScoreNegMSE,
	"neg_mean_absolute_error": ScoreNegMAE, "accuracy": ScoreAccuracy, "neg_log_loss": ScoreNegLogLoss,
}

func TestPermutationImportanceFixtures(t *testing.T) {
	for _, c := range fixture.Kernel(t, "ml", "feature-importance").Cases {
		var in explainInput
		fixture.Decode(t, c.Input, &in)
		repeats := 5
		if in.NRepeats != nil {
			repeats = *in.NRepeats
		}
		res, err := PermutationImportance(context.Background(), in.Model.model(), in.Data, in.NSamples, in.NFeatures, in.Target, scorings[in.Scoring], repeats, in.Seed)
		if c.ErrorField != "" {
			wantFieldError(t, c, err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var want struct {
			BaselineScore   *float64  `json:"baseline_score"`
			ImportancesMean []float64 `json:"importances_mean"`
			ImportancesStd  []float64 `json:"importances_std"`
			Importances     []float64 `json:"importances"`
		}
		fixture.Decode(t, c.ExpectRaw, &want)
		checkExpected(t, c, expected{
			"baseline_score": {res.BaselineScore}, "importances_mean": res.ImportancesMean,
			"importances_std": res.ImportancesStd, "importances": res.Importances,
		}, expected{
			"baseline_score": one(want.BaselineScore), "importances_mean": want.ImportancesMean,
			"importances_std": want.ImportancesStd, "importances": want.Importances,
		})
	}
}

// bruteForceShap computes Shapley values of v(S) = mean_z f(x_S, z_S̄) by
// enumerating coalitions — the definition, independent of TreeSHAP.
func bruteForceShap(f func([]float64) float64, x, background []float64, p int) []float64 {
	nb := len(background) / p
	v := make([]float64, 1<<p)
	h := make([]float64, p)
	for mask := range v {
		for k := range nb {
			for j := range p {
				if mask>>j&1 == 1 {
					h[j] = x[j]
				} else {
					h[j] = background[k*p+j]
				}
			}
			v[mask] += f(h)
		}
		v[mask] /= float64(nb)
	}
	fact := func(n int) float64 { return math.Gamma(float64(n) + 1) }
	phi := make([]float64, p)
	for j := range p {
		for mask := range v {
			if mask>>j&1 == 0 {
				s := 0
				for b := mask; b != 0; b &= b - 1 {
					s++
				}
				phi[j] += fact(s) * fact(p-s-1) / fact(p) * (v[mask|1<<j] - v[mask])
			}
		}
	}
	return phi
}

// randomTree builds a random tree over p features with dyadic thresholds,
// so ties between data and thresholds happen.
func randomTree(rng *rand.Rand, p, depth int) Tree {
	var t Tree
	var grow func(d int) int
	grow = func(d int) int {
		id := len(t.Left)
		t.Left = append(t.Left, -1)
		t.Right = append(t.Right, -1)
		t.Feature = append(t.Feature, 0)
		t.Threshold = append(t.Threshold, 0)
		t.Value = append(t.Value, float64(rng.IntN(21)-10)/4)
		if d < depth && rng.IntN(5) > 0 {
			t.Feature[id] = rng.IntN(p)
			t.Threshold[id] = float64(rng.IntN(9)-4) / 4
			l := grow(d + 1)
			r := grow(d + 1)
			t.Left[id], t.Right[id] = l, r
		}
		return id
	}
	grow(0)
	return t
}

func TestTreeShapMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 30 {
		p := 1 + rng.IntN(5)
		m := &Model{Kind: TreeEnsemble, Intercept: 0.5, MeanOfTrees: trial%2 == 0}
		for range 1 + rng.IntN(3) {
			m.Trees = append(m.Trees, randomTree(rng, p, 5))
		}
		n, nb := 3, 1+rng.IntN(4)
		x := make([]float64, n*p)
		bg := make([]float64, nb*p)
		for i := range x {
			x[i] = float64(rng.IntN(9)-4) / 4
		}
		for i := range bg {
			bg[i] = float64(rng.IntN(9)-4) / 4
		}
		res, err := Shap(context.Background(), m, x, n, p, bg, nb, false)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			want := bruteForceShap(m.Margin, x[i*p:(i+1)*p], bg, p)
			for j := range p {
				if d := math.Abs(res.Values[i*p+j] - want[j]); d > 1e-12 {
					t.Fatalf("trial %d row %d feature %d: %v, brute force %v", trial, i, j, res.Values[i*p+j], want[j])
				}
			}
		}
		checkLocalAccuracy(t, "random tree", res, p)
	}
}

func TestLogisticProbabilityMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	p, n, nb := 6, 2, 3
	m := &Model{Kind: Logistic, Intercept: -0.3, Coefficients: make([]float64, p)}
	for j := range p {
		m.Coefficients[j] = rng.NormFloat64()
	}
	x := make([]float64, n*p)
	bg := make([]float64, nb*p)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	for i := range bg {
		bg[i] = rng.NormFloat64()
	}
	res, err := Shap(context.Background(), m, x, n, p, bg, nb, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		want := bruteForceShap(m.Predict, x[i*p:(i+1)*p], bg, p)
		for j := range p {
			if d := math.Abs(res.Values[i*p+j] - want[j]); d > 1e-13 {
				t.Fatalf("row %d feature %d: %v, brute force %v", i, j, res.Values[i*p+j], want[j])
			}
		}
	}
	checkLocalAccuracy(t, "logistic", res, p)
}

func TestProbabilityOutputNeedsLogistic(t *testing.T) {
	m := &Model{Kind: Linear, Coefficients: []float64{1}}
	_, err := Shap(context.Background(), m, []float64{1}, 1, 1, []float64{0}, 1, true)
	wantFieldError(t, fixture.Case{Name: "probability", ErrorField: "output"}, err)
}

func TestTreeWithTwoParentsRejected(t *testing.T) {
	m := &Model{Kind: TreeEnsemble, Trees: []Tree{{
		Left: []int{1, 3, 3, -1}, Right: []int{2, 3, 3, -1}, Feature: []int{0, 0, 0, 0},
		Threshold: []float64{0, 0, 0, 0}, Value: []float64{0, 0, 0, 1},
	}}}
	_, err := Shap(context.Background(), m, []float64{1}, 1, 1, []float64{0}, 1, false)
	wantFieldError(t, fixture.Case{Name: "two parents", ErrorField: "model.trees[0].children_right[1]"}, err)
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rng := rand.New(rand.NewPCG(5, 6))
	m := &Model{Kind: TreeEnsemble, Trees: []Tree{randomTree(rng, 3, 6)}}
	x := make([]float64, 300)
	if _, err := Shap(ctx, m, x, 100, 3, x, 100, false); !errors.Is(err, context.Canceled) {
		t.Errorf("Shap: got %v, want context.Canceled", err)
	}
	if _, err := PermutationImportance(ctx, m, x, 100, 3, make([]float64, 100), ScoreR2, 3, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("PermutationImportance: got %v, want context.Canceled", err)
	}
}
