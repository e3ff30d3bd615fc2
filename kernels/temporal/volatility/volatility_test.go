package volatility

import (
	"context"
	"errors"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"testing"
)

type fixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			Values  []float64 `json:"values"`
			Method  string    `json:"method"`
			Prices  bool      `json:"values_are_prices"`
			Lambda  *float64  `json:"lambda"`
			Mean    *bool     `json:"include_mean"`
			Horizon int       `json:"horizon"`
		} `json:"input"`
		Expect *struct {
			Returns          []float64 `json:"returns"`
			Variance         []float64 `json:"variance"`
			Volatility       []float64 `json:"volatility"`
			ForecastVariance []float64 `json:"forecast_variance"`
			LogLikelihood    float64   `json:"log_likelihood"`
		} `json:"expect"`
		Reference *struct {
			Mu, Omega, Alpha, Beta float64
		} `json:"reference_params"`
	} `json:"cases"`
}

func near(t *testing.T, name string, got, want []float64, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", name, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > atol+rtol*math.Abs(want[i]) {
			t.Fatalf("%s[%d] = %.15g, want %.15g", name, i, got[i], want[i])
		}
	}
}

func TestFixtures(t *testing.T) {
	var f fixture
	fixtures.Read(t, "temporal", "volatility-analysis", &f)
	for _, c := range f.Cases {
		if c.Expect == nil {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			in, e := c.Input, c.Expect
			r := in.Values
			if in.Prices {
				r = LogReturns(in.Values)
			}
			switch in.Method {
			case "ewma":
				lambda := 0.94
				if in.Lambda != nil {
					lambda = *in.Lambda
				}
				res := EWMA(r, lambda)
				near(t, "returns", r, e.Returns, 1e-12, 0)
				near(t, "variance", res.Variance, e.Variance, 1e-12, 0)
				near(t, "loglik", []float64{res.LogLik}, []float64{e.LogLikelihood}, 1e-12, 0)
			case "garch":
				withMean := in.Mean == nil || *in.Mean
				g, err := GARCH(context.Background(), r, withMean)
				if err != nil {
					t.Fatal(err)
				}
				if g.LogLik < e.LogLikelihood-1e-3 {
					t.Errorf("log-likelihood %.9g below the scipy optimum %.9g - 1e-3", g.LogLik, e.LogLikelihood)
				}
				ref := c.Reference
				t.Logf("ll %.9g (scipy %.9g); omega %.4g/%.4g alpha %.4f/%.4f beta %.4f/%.4f mu %.3g/%.3g",
					g.LogLik, e.LogLikelihood, g.Omega, ref.Omega, g.Alpha, ref.Alpha, g.Beta, ref.Beta, g.Mu, ref.Mu)
				if math.Abs(g.Alpha-ref.Alpha) > 0.02 || math.Abs(g.Beta-ref.Beta) > 0.02 {
					t.Errorf("alpha, beta = %g, %g; scipy %g, %g", g.Alpha, g.Beta, ref.Alpha, ref.Beta)
				}
				if g.Alpha < 0 || g.Beta < 0 || g.Alpha+g.Beta >= 1 || g.Omega <= 0 {
					t.Errorf("parameters outside the model: %+v", g)
				}
				fc := g.Forecast(r, 3)
				if want := g.Omega + (g.Alpha+g.Beta)*fc[0]; math.Abs(fc[1]-want) > 1e-15*want {
					t.Errorf("forecast recursion: %v", fc)
				}
			}
		})
	}
}

func TestNoVariation(t *testing.T) {
	if _, err := GARCH(context.Background(), []float64{0.01, 0.01, 0.01}, true); !errors.Is(err, ErrNoVariation) {
		t.Errorf("err = %v", err)
	}
}

func TestCancel(t *testing.T) {
	r := make([]float64, 100000)
	for i := range r {
		r[i] = 0.01 * math.Sin(float64(i)*1.3)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := GARCH(ctx, r, true); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
