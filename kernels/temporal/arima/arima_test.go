package arima

import (
	"context"
	"errors"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"testing"
	"time"
)

type fixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			Values  []float64 `json:"values"`
			P       int       `json:"p"`
			D       int       `json:"d"`
			Q       int       `json:"q"`
			Horizon int       `json:"horizon"`
		} `json:"input"`
		Expect *struct {
			AR            []float64 `json:"ar"`
			MA            []float64 `json:"ma"`
			Intercept     float64   `json:"intercept"`
			Sigma2        float64   `json:"sigma2"`
			LogLikelihood float64   `json:"log_likelihood"`
			AIC           float64   `json:"aic"`
			BIC           float64   `json:"bic"`
			Forecast      []float64 `json:"forecast"`
			Lower         []float64 `json:"forecast_lower"`
			Upper         []float64 `json:"forecast_upper"`
			SE            []float64 `json:"forecast_se"`
			Fitted        []float64 `json:"fitted"`
			Residuals     []float64 `json:"residuals"`
		} `json:"expect"`
		Rtol float64 `json:"rtol"`
		Atol float64 `json:"atol"`
	} `json:"cases"`
}

func load(t *testing.T) fixture {
	t.Helper()
	var f fixture
	fixtures.Read(t, "temporal", "arima-forecast", &f)
	return f
}

func close(got, want, rtol, atol float64) bool {
	return math.Abs(got-want) <= atol+rtol*math.Abs(want)
}

func checkSlice(t *testing.T, name string, got, want []float64, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: len %d, want %d", name, len(got), len(want))
		return
	}
	worst := 0.0
	for i := range got {
		worst = math.Max(worst, math.Abs(got[i]-want[i]))
		if !close(got[i], want[i], rtol, atol) {
			t.Errorf("%s[%d] = %.10g, want %.10g", name, i, got[i], want[i])
			return
		}
	}
	t.Logf("%s: max abs diff %.3g", name, worst)
}

func TestFixtures(t *testing.T) {
	for _, c := range load(t).Cases {
		if c.Expect == nil {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			in, e := c.Input, c.Expect
			o := Order{P: in.P, D: in.D, Q: in.Q, Mean: in.D == 0}
			m, err := Fit(context.Background(), in.Values, o)
			if err != nil {
				t.Fatal(err)
			}
			mean, se, lo, hi := m.Forecast(in.Horizon, 0.05)
			rt, at := c.Rtol, c.Atol
			checkSlice(t, "ar", m.AR, e.AR, 0, 0.02) // the bound ...
			checkSlice(t, "ar", m.AR, e.AR, rt, at)  // ... and the fixture's
			checkSlice(t, "ma", m.MA, e.MA, 0, 0.02)
			checkSlice(t, "ma", m.MA, e.MA, rt, at)
			checkSlice(t, "intercept", []float64{m.Mu}, []float64{e.Intercept}, rt, at)
			checkSlice(t, "sigma2", []float64{m.Sigma2}, []float64{e.Sigma2}, rt, at)
			checkSlice(t, "loglik", []float64{m.LogLik}, []float64{e.LogLikelihood}, 0, 1e-4)
			checkSlice(t, "aic", []float64{m.AIC()}, []float64{e.AIC}, 0, 2e-4)
			checkSlice(t, "bic", []float64{m.BIC()}, []float64{e.BIC}, 0, 2e-4)
			checkSlice(t, "forecast", mean, e.Forecast, 0.02, 0)
			checkSlice(t, "forecast", mean, e.Forecast, rt, at)
			checkSlice(t, "forecast_se", se, e.SE, rt, at)
			checkSlice(t, "forecast_lower", lo, e.Lower, rt, at)
			checkSlice(t, "forecast_upper", hi, e.Upper, rt, at)
			checkSlice(t, "fitted", m.Fitted, e.Fitted, rt, at)
			checkSlice(t, "residuals", m.Resid, e.Residuals, rt, at)
			if m.LogLik < e.LogLikelihood-1e-6 {
				t.Errorf("log-likelihood %.9g below statsmodels' %.9g", m.LogLik, e.LogLikelihood)
			}
			t.Logf("converged=%v iter=%d ll diff %.3g", m.Converged, m.Iter, m.LogLik-e.LogLikelihood)
		})
	}
}

func TestTransformsRoundTrip(t *testing.T) {
	for _, x := range [][]float64{{0.3}, {-1.2, 0.4}, {2, -0.5, 0.1, 3}} {
		phi := constrainAR(x)
		back, ok := unconstrainAR(phi)
		if !ok {
			t.Fatalf("%v: not stationary", phi)
		}
		for i := range x {
			if !close(back[i], x[i], 1e-10, 1e-12) {
				t.Errorf("round trip %v -> %v -> %v", x, phi, back)
			}
		}
		// Stationary: the stationary covariance exists.
		if _, ok := newSystem(phi, nil).stationaryCov(); !ok {
			t.Errorf("%v has no stationary covariance", phi)
		}
	}
	if _, ok := unconstrainAR([]float64{1.2}); ok {
		t.Error("phi = 1.2 accepted as stationary")
	}
}

func TestStationaryCovAR1(t *testing.T) {
	// Var(x) of AR(1) is 1 / (1 - phi^2); ARMA(1,1): (1 + 2 phi theta + theta^2) / (1 - phi^2).
	p, _ := newSystem([]float64{0.8}, []float64{0.5}).stationaryCov()
	want := (1 + 2*0.8*0.5 + 0.25) / (1 - 0.64)
	if !close(p[0], want, 1e-12, 0) {
		t.Errorf("var = %g, want %g", p[0], want)
	}
}

func TestTooShortAndDegenerate(t *testing.T) {
	if _, err := Fit(context.Background(), []float64{1, 2, 3}, Order{P: 2, D: 1, Q: 1}); !errors.Is(err, ErrTooShort) {
		t.Errorf("err = %v, want ErrTooShort", err)
	}
	if _, err := Fit(context.Background(), []float64{2, 2, 2, 2, 2, 2, 2}, Order{P: 1, Mean: true}); !errors.Is(err, ErrDegenerate) {
		t.Errorf("err = %v, want ErrDegenerate", err)
	}
}

func TestCancel(t *testing.T) {
	y := make([]float64, 200000)
	x := 0.0
	for i := range y {
		x = 0.5*x + math.Sin(float64(i)*1.7)
		y[i] = x
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Fit(ctx, y, Order{P: 2, Q: 2, Mean: true})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("cancellation took %v", el)
	}
}

// BenchmarkFitFixtures fits every fixture series (fit + 12-step forecast),
// the work statsmodels' ARIMA(...).fit() + get_forecast does.
func BenchmarkFitFixtures(b *testing.B) {
	b.StopTimer()
	b.Helper()
	var f fixture
	fixtures.Read(b, "temporal", "arima-forecast", &f)
	b.StartTimer()
	for i := 0; i < b.N; i++ {
		for _, c := range f.Cases {
			if c.Expect == nil {
				continue
			}
			in := c.Input
			m, err := Fit(context.Background(), in.Values, Order{P: in.P, D: in.D, Q: in.Q, Mean: in.D == 0})
			if err != nil {
				b.Fatal(err)
			}
			m.Forecast(in.Horizon, 0.05)
		}
	}
}
