package credit

import (
	"context"
	"errors"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"testing"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// creditFixture is the part of testdata/fixtures/risk/credit-scoring.json
// these tests read (scikit-learn predict_proba and numpy formulas).
type creditFixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			Features     []float64 `json:"features"`
			Coefficients []float64 `json:"coefficients"`
			Intercept    float64   `json:"intercept"`
			LGD          []float64 `json:"lgd"`
			EAD          []float64 `json:"ead"`
			PDFloor      float64   `json:"pd_floor"`
			BaseScore    *float64  `json:"base_score"`
			BaseOdds     *float64  `json:"base_odds"`
			PDO          *float64  `json:"points_to_double_odds"`
		} `json:"input"`
		Expect *struct {
			LogOdds      []float64 `json:"log_odds"`
			PD           []float64 `json:"pd"`
			Score        []float64 `json:"score"`
			ExpectedLoss []float64 `json:"expected_loss"`
			TotalEL      float64   `json:"total_expected_loss"`
			TotalEAD     float64   `json:"total_ead"`
			ELRate       float64   `json:"expected_loss_rate"`
			WeightedPD   float64   `json:"ead_weighted_pd"`
		} `json:"expect"`
		RTol float64 `json:"rtol"`
		ATol float64 `json:"atol"`
	} `json:"cases"`
}

func TestScoreMatchesSklearn(t *testing.T) {
	var fx creditFixture
	fixtures.Read(t, "risk", "credit-scoring", &fx)
	ran := 0
	for _, c := range fx.Cases {
		if c.Expect == nil {
			continue
		}
		in := c.Input
		sc := Scale{BaseScore: 600, BaseOdds: 50, PDO: 20}
		if in.BaseScore != nil {
			sc.BaseScore = *in.BaseScore
		}
		if in.BaseOdds != nil {
			sc.BaseOdds = *in.BaseOdds
		}
		if in.PDO != nil {
			sc.PDO = *in.PDO
		}
		res, err := Score(context.Background(), Model{Intercept: in.Intercept, Coefficients: in.Coefficients, PDFloor: in.PDFloor},
			sc, Portfolio{Features: in.Features, LGD: in.LGD, EAD: in.EAD})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		near := func(what string, got, want float64) {
			if math.IsNaN(got) || math.Abs(got-want) > c.ATol+c.RTol*math.Abs(want) {
				t.Errorf("%s: %s = %.17g, want %.17g", c.Name, what, got, want)
			}
		}
		w := c.Expect
		for i := range w.PD {
			near("log_odds", res.LogOdds[i], w.LogOdds[i])
			near("pd", res.PD[i], w.PD[i])
			near("score", res.Points[i], w.Score[i])
			near("expected_loss", res.ExpectedLoss[i], w.ExpectedLoss[i])
		}
		near("total EL", res.TotalEL, w.TotalEL)
		near("total EAD", res.TotalEAD, w.TotalEAD)
		near("EL rate", res.ELRate, w.ELRate)
		near("weighted PD", res.WeightedPD, w.WeightedPD)
		ran++
	}
	if ran < 4 {
		t.Fatalf("only %d fixture cases ran", ran)
	}
}

// A borrower at the base odds scores the base score, and PDO more points
// double the odds.
func TestScorecardScaling(t *testing.T) {
	sc := Scale{BaseScore: 600, BaseOdds: 50, PDO: 20}
	// log-odds of default −ln 50 (odds 50:1) and −ln 100 (odds 100:1).
	res, err := Score(context.Background(), Model{Coefficients: []float64{1}}, sc,
		Portfolio{Features: []float64{-math.Log(50), -math.Log(100)}, LGD: []float64{1, 1}, EAD: []float64{1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Points[0]-600) > 1e-12 || math.Abs(res.Points[1]-620) > 1e-12 {
		t.Fatalf("points %v, want [600 620]", res.Points)
	}
	if want := 1.0 / 51; math.Abs(res.PD[0]-want) > 1e-16 {
		t.Fatalf("PD %v, want %v", res.PD[0], want)
	}
}

func TestScoreRejectsBadInput(t *testing.T) {
	sc := Scale{BaseScore: 600, BaseOdds: 50, PDO: 20}
	m := Model{Coefficients: []float64{1}}
	cases := []struct {
		field string
		m     Model
		sc    Scale
		p     Portfolio
	}{
		{"lgd[1]", m, sc, Portfolio{Features: []float64{0, 0}, LGD: []float64{0.5, 1.5}, EAD: []float64{1, 1}}},
		{"ead[0]", m, sc, Portfolio{Features: []float64{0}, LGD: []float64{0.5}, EAD: []float64{-1}}},
		{"features[0]", m, sc, Portfolio{Features: []float64{math.Inf(1)}, LGD: []float64{0.5}, EAD: []float64{1}}},
		{"features", m, sc, Portfolio{Features: []float64{0, 1}, LGD: []float64{0.5}, EAD: []float64{1}}},
		{"base_odds", m, Scale{BaseScore: 600, PDO: 20}, Portfolio{Features: []float64{0}, LGD: []float64{0.5}, EAD: []float64{1}}},
		{"pd_floor", Model{Coefficients: []float64{1}, PDFloor: 1}, sc, Portfolio{Features: []float64{0}, LGD: []float64{0.5}, EAD: []float64{1}}},
	}
	for _, c := range cases {
		_, err := Score(context.Background(), c.m, c.sc, c.p)
		if fe, ok := kerr.AsField(err); !ok || fe.Field != c.field {
			t.Errorf("err = %v, want field %s", err, c.field)
		}
	}
}

func TestScoreCancelled(t *testing.T) {
	n := 10_000
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Score(ctx, Model{Coefficients: []float64{1}}, Scale{BaseScore: 600, BaseOdds: 50, PDO: 20},
		Portfolio{Features: make([]float64, n), LGD: make([]float64, n), EAD: make([]float64, n)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
