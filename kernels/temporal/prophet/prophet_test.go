package prophet

import (
	"context"
	"errors"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gokernels/gokernels/kernels/temporal/series"
)

type fixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			Values           []float64 `json:"values"`
			Timestamps       []float64 `json:"timestamps"`
			Frequency        string    `json:"frequency"`
			NChangepoints    *int      `json:"n_changepoints"`
			ChangepointRange *float64  `json:"changepoint_range"`
			Periods          []float64 `json:"seasonal_periods"`
			Orders           []int     `json:"fourier_orders"`
			Horizon          int       `json:"horizon"`
		} `json:"input"`
		Expect *struct {
			Trend         []float64 `json:"trend"`
			Seasonal      []float64 `json:"seasonal"`
			Residual      []float64 `json:"residual"`
			Forecast      []float64 `json:"forecast"`
			ForecastTrend []float64 `json:"forecast_trend"`
			ForecastTimes []float64 `json:"forecast_timestamps"`
			Changepoints  []float64 `json:"changepoints"`
			Deltas        []float64 `json:"deltas"`
			GrowthRate    float64   `json:"growth_rate"`
			Offset        float64   `json:"offset"`
			Coefficients  []float64 `json:"seasonal_coefficients"`
			RSS           float64   `json:"rss"`
		} `json:"expect"`
		Rtol float64 `json:"rtol"`
		Atol float64 `json:"atol"`
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
	fixtures.Read(t, "temporal", "prophet-decomposition", &f)
	for _, c := range f.Cases {
		if c.Expect == nil {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			in, e := c.Input, c.Expect
			p := Params{NChangepoints: 10, ChangepointRange: 0.8, Horizon: in.Horizon}
			if in.NChangepoints != nil {
				p.NChangepoints = *in.NChangepoints
			}
			if in.ChangepointRange != nil {
				p.ChangepointRange = *in.ChangepointRange
			}
			periods := in.Periods
			if len(periods) == 0 {
				if per, ok := series.PeriodFromFrequency(in.Frequency); ok {
					periods = []float64{float64(per)}
				}
			}
			for i, per := range periods {
				order := 3
				if len(in.Orders) > 0 {
					order = in.Orders[i]
				}
				p.Seasonalities = append(p.Seasonalities, Seasonality{per, order})
			}
			tt := series.Axis(len(in.Values), in.Timestamps)
			r, err := Fit(context.Background(), tt, in.Values, p)
			if err != nil {
				t.Fatal(err)
			}
			rt, at := c.Rtol, c.Atol
			near(t, "trend", r.Trend, e.Trend, rt, at)
			near(t, "seasonal", r.Seasonal, e.Seasonal, rt, at)
			near(t, "residual", r.Residual, e.Residual, rt, at)
			near(t, "forecast", r.Forecast, e.Forecast, rt, at)
			near(t, "forecast_trend", r.ForecastTrend, e.ForecastTrend, rt, at)
			near(t, "forecast_timestamps", r.ForecastTimes, e.ForecastTimes, rt, at)
			near(t, "changepoints", r.Changepoints, e.Changepoints, rt, at)
			near(t, "deltas", r.Deltas, e.Deltas, rt, 1e-6)
			near(t, "scalars", []float64{r.GrowthRate, r.Offset, r.RSS}, []float64{e.GrowthRate, e.Offset, e.RSS}, rt, 1e-6)
			near(t, "coefficients", r.SeasonalCoefficients, e.Coefficients, rt, at)
			for i, v := range in.Values {
				sum := (r.Trend[i] + r.Seasonal[i]) + r.Residual[i]
				scale := math.Max(math.Max(math.Abs(r.Trend[i]), math.Abs(r.Seasonal[i])), math.Abs(v))
				if sum != v && math.Abs(sum-v) > 4.5e-16*scale {
					t.Fatalf("components sum to %.17g, values[%d] = %.17g", sum, i, v)
				}
			}
		})
	}
}

// TestRecoversPlantedModel fits a long noisy series (several row chunks, so
// the parallel QR merge is exercised) and recovers the planted trend and
// seasonality.
func TestRecoversPlantedModel(t *testing.T) {
	n := 3*chunkRows + 123
	rng := rand.New(rand.NewPCG(3, 4))
	tt := make([]float64, n)
	y := make([]float64, n)
	trend := make([]float64, n)
	seas := make([]float64, n)
	p := Params{NChangepoints: 8, ChangepointRange: 0.8,
		Seasonalities: []Seasonality{{7, 2}, {365.25, 3}}}
	rows := changepointRows(n, p)
	kink := float64(rows[3]) / float64(n-1)
	for i := range y {
		tt[i] = float64(i)
		s := float64(i) / float64(n-1)
		trend[i] = 50 + 20*s - 35*math.Max(s-kink, 0)
		seas[i] = 3*math.Sin(2*math.Pi*tt[i]/7) + math.Cos(4*math.Pi*tt[i]/7) + 5*math.Sin(2*math.Pi*tt[i]/365.25)
		y[i] = trend[i] + seas[i] + 0.05*rng.NormFloat64()
	}
	r, err := Fit(context.Background(), tt, y, p)
	if err != nil {
		t.Fatal(err)
	}
	for i := range y {
		if math.Abs(r.Trend[i]-trend[i]) > 0.05 || math.Abs(r.Seasonal[i]-seas[i]) > 0.05 {
			t.Fatalf("point %d: trend %g (planted %g), seasonal %g (planted %g)", i, r.Trend[i], trend[i], r.Seasonal[i], seas[i])
		}
	}
	if math.Abs(r.Deltas[3]*float64(n-1)+35) > 0.5 {
		t.Errorf("slope change at the planted kink: %g per series, want -35", r.Deltas[3]*float64(n-1))
	}
}

func TestRankDeficientDesign(t *testing.T) {
	// Period 2 makes sin(pi t) vanish at integer t: lstsq's minimum-norm
	// answer gives that column a zero coefficient; cos(pi t) = (-1)^t
	// carries the planted alternation.
	n := 40
	tt := series.Axis(n, nil)
	y := make([]float64, n)
	for i := range y {
		y[i] = 1 + 0.1*float64(i) + []float64{1, -1}[i%2]
	}
	r, err := Fit(context.Background(), tt, y, Params{Seasonalities: []Seasonality{{2, 1}}, ChangepointRange: 0.8})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.SeasonalCoefficients[0]) > 1e-9 || math.Abs(r.SeasonalCoefficients[1]-1) > 1e-9 {
		t.Errorf("coefficients %v, want [0 1]", r.SeasonalCoefficients)
	}
	if r.RSS > 1e-18*float64(n) {
		t.Errorf("rss %g", r.RSS)
	}
}

func TestChangepointRows(t *testing.T) {
	// numpy: np.linspace(0, 159, 6).round().astype(int)[1:] = [32, 64, 95, 127, 159]
	got := changepointRows(200, Params{NChangepoints: 5, ChangepointRange: 0.8})
	want := []int{32, 64, 95, 127, 159}
	if len(got) != len(want) {
		t.Fatalf("%v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
}

func TestCancel(t *testing.T) {
	n := 50000
	tt := series.Axis(n, nil)
	y := make([]float64, n)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Fit(ctx, tt, y, Params{NChangepoints: 20, ChangepointRange: 0.8, Seasonalities: []Seasonality{{7, 3}}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
