package regression

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/kerr"
	"gonum.org/v1/gonum/mat"
)

type regressionInput struct {
	Data         []float64 `json:"data"`
	NSamples     int       `json:"n_samples"`
	NFeatures    int       `json:"n_features"`
	Target       []float64 `json:"target"`
	FitIntercept *bool     `json:"fit_intercept"`
	Alpha        *float64  `json:"alpha"`
}

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

func TestOLSFixtures(t *testing.T) {
	for _, c := range fixture.Kernel(t, "ml", "linear-regression").Cases {
		var in regressionInput
		fixture.Decode(t, c.Input, &in)
		fit := in.FitIntercept == nil || *in.FitIntercept
		res, err := OLS(context.Background(), in.Data, in.NSamples, in.NFeatures, in.Target, fit)
		if c.ErrorField != "" {
			wantFieldError(t, c, err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var want struct {
			Coefficients           []float64 `json:"coefficients"`
			StandardErrors         []float64 `json:"standard_errors"`
			TValues                []float64 `json:"t_values"`
			PValues                []float64 `json:"p_values"`
			Residuals              []float64 `json:"residuals"`
			Intercept              *float64  `json:"intercept"`
			InterceptStandardError *float64  `json:"intercept_standard_error"`
			InterceptTValue        *float64  `json:"intercept_t_value"`
			InterceptPValue        *float64  `json:"intercept_p_value"`
			RSquared               *float64  `json:"r_squared"`
			AdjRSquared            *float64  `json:"adj_r_squared"`
			Scale                  *float64  `json:"scale"`
			DFResid                *float64  `json:"df_resid"`
			Rank                   *float64  `json:"rank"`
		}
		fixture.Decode(t, c.ExpectRaw, &want)
		checkExpected(t, c, expected{
			"coefficients": res.Coefficients, "standard_errors": res.StandardErrors, "t_values": res.TValues,
			"p_values": res.PValues, "residuals": res.Residuals, "intercept": {res.Intercept},
			"intercept_standard_error": {res.InterceptStandardError}, "intercept_t_value": {res.InterceptTValue},
			"intercept_p_value": {res.InterceptPValue}, "r_squared": {res.RSquared}, "adj_r_squared": {res.AdjRSquared},
			"scale": {res.Scale}, "df_resid": {res.DFResid}, "rank": {float64(res.Rank)},
		}, expected{
			"coefficients": want.Coefficients, "standard_errors": want.StandardErrors, "t_values": want.TValues,
			"p_values": want.PValues, "residuals": want.Residuals, "intercept": one(want.Intercept),
			"intercept_standard_error": one(want.InterceptStandardError), "intercept_t_value": one(want.InterceptTValue),
			"intercept_p_value": one(want.InterceptPValue), "r_squared": one(want.RSquared), "adj_r_squared": one(want.AdjRSquared),
			"scale": one(want.Scale), "df_resid": one(want.DFResid), "rank": one(want.Rank),
		})
	}
}

func TestRidgeFixtures(t *testing.T) {
	for _, c := range fixture.Kernel(t, "ml", "ridge-regression").Cases {
		var in regressionInput
		fixture.Decode(t, c.Input, &in)
		fit := in.FitIntercept == nil || *in.FitIntercept
		alpha := 1.0
		if in.Alpha != nil {
			alpha = *in.Alpha
		}
		res, err := Ridge(context.Background(), in.Data, in.NSamples, in.NFeatures, in.Target, alpha, fit)
		if c.ErrorField != "" {
			wantFieldError(t, c, err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var want struct {
			Coefficients []float64 `json:"coefficients"`
			Intercept    *float64  `json:"intercept"`
			RSquared     *float64  `json:"r_squared"`
		}
		fixture.Decode(t, c.ExpectRaw, &want)
		checkExpected(t, c,
			expected{"coefficients": res.Coefficients, "intercept": {res.Intercept}, "r_squared": {res.RSquared}},
			expected{"coefficients": want.Coefficients, "intercept": one(want.Intercept), "r_squared": one(want.RSquared)})
	}
}

// A collinear design gets statsmodels' minimum-norm pinv solution: with
// x₂ = 2·x₁ the fitted coefficients split the slope as (1, 2)/5 of it.
func TestOLSRankDeficient(t *testing.T) {
	x := []float64{}
	y := []float64{}
	for i := range 20 {
		v := float64(i%7) - 3
		x = append(x, v, 2*v)
		y = append(y, 3*v+1)
	}
	res, err := OLS(context.Background(), x, 20, 2, y, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rank != 2 || res.DFResid != 18 {
		t.Fatalf("rank %d, df_resid %v; want 2, 18", res.Rank, res.DFResid)
	}
	want := []float64{3.0 / 5, 6.0 / 5}
	for j, w := range want {
		if math.Abs(res.Coefficients[j]-w) > 1e-10 {
			t.Errorf("coefficient %d = %v, want %v", j, res.Coefficients[j], w)
		}
	}
	if math.Abs(res.Intercept-1) > 1e-10 {
		t.Errorf("intercept = %v, want 1", res.Intercept)
	}
}

func TestRidgeSingularNamesAlpha(t *testing.T) {
	x := []float64{1, 2, 2, 4, 3, 6}
	_, err := Ridge(context.Background(), x, 3, 2, []float64{1, 2, 3}, 0, true)
	if fe, ok := kerr.AsField(err); !ok || fe.Field != "alpha" {
		t.Fatalf("got %v, want a field error on alpha", err)
	}
}

func TestRejectsNonFinite(t *testing.T) {
	_, err := OLS(context.Background(), []float64{1, math.NaN(), 3, 4}, 4, 1, []float64{1, 2, 3, 4}, true)
	if fe, ok := kerr.AsField(err); !ok || fe.Field != "data[1]" {
		t.Fatalf("got %v, want a field error on data[1]", err)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, p := 5000, 3
	x := make([]float64, n*p)
	y := make([]float64, n)
	for i := range x {
		x[i] = float64(i%13) - float64(i%5)
	}
	if _, err := OLS(ctx, x, n, p, y, true); !errors.Is(err, context.Canceled) {
		t.Errorf("OLS: got %v, want context.Canceled", err)
	}
	if _, err := Ridge(ctx, x, n, p, y, 1, true); !errors.Is(err, context.Canceled) {
		t.Errorf("Ridge: got %v, want context.Canceled", err)
	}
}

// On a well-conditioned factor the triangular fast path and the SVD
// pseudo-inverse path agree.
func TestSolvePathsAgree(t *testing.T) {
	r := mat.NewDense(3, 3, []float64{
		2, -1, 0.5,
		0, 3, 1,
		0, 0, 1.5,
	})
	z := []float64{1, -2, 0.25}
	b1, c1, rank1, ok1 := solveTriangular(mat.DenseCopyOf(r), z, 10)
	b2, c2, rank2, ok2 := solvePinv(mat.DenseCopyOf(r), z, 10)
	if !ok1 || !ok2 || rank1 != 3 || rank2 != 3 {
		t.Fatalf("ok %v %v, rank %d %d", ok1, ok2, rank1, rank2)
	}
	for j := range z {
		if math.Abs(b1[j]-b2[j]) > 1e-13 || math.Abs(c1[j]-c2[j]) > 1e-13 {
			t.Errorf("j=%d: beta %v vs %v, cov %v vs %v", j, b1[j], b2[j], c1[j], c2[j])
		}
	}
	// A singular factor is left to the SVD path.
	if _, _, _, ok := solveTriangular(mat.NewDense(2, 2, []float64{1, 1, 0, 0}), []float64{1, 1}, 10); ok {
		t.Error("the triangular path accepted a singular factor")
	}
}
