package distribution

import (
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"testing"

	"github.com/gokernels/gokernels/kernels/kerr"
)

type fixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			P       []float64 `json:"p"`
			Q       []float64 `json:"q"`
			Support []float64 `json:"support"`
			Base    *float64  `json:"base"`
		} `json:"input"`
		Expect struct {
			JS  float64 `json:"jensen_shannon_distance"`
			JSD float64 `json:"jensen_shannon_divergence"`
			W   float64 `json:"wasserstein_distance"`
		} `json:"expect"`
		ErrorField string `json:"error_field"`
	} `json:"cases"`
}

func close(a, b float64) bool { return math.Abs(a-b) <= 1e-12+1e-9*math.Abs(b) }

func TestFixtures(t *testing.T) {
	var fx fixture
	fixtures.Read(t, "graph", "value-similarity", &fx)
	for _, c := range fx.Cases {
		t.Run(c.Name, func(t *testing.T) {
			in := c.Input
			base := 2.0
			if in.Base != nil {
				base = *in.Base
			}
			err := Check(in.P, in.Q, in.Support)
			var js float64
			if err == nil {
				js, err = JensenShannon(in.P, in.Q, base)
			}
			if c.ErrorField != "" {
				if fe, ok := kerr.AsField(err); !ok || fe.Field != c.ErrorField {
					t.Fatalf("err = %v, want a field error on %s", err, c.ErrorField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !close(js, c.Expect.JS) || !close(js*js, c.Expect.JSD) {
				t.Errorf("JS distance %.17g, scipy %.17g", js, c.Expect.JS)
			}
			if w := Wasserstein(in.P, in.Q, in.Support); !close(w, c.Expect.W) {
				t.Errorf("Wasserstein %.17g, scipy %.17g", w, c.Expect.W)
			}
		})
	}
}

func TestNegativeAndNonFinite(t *testing.T) {
	for _, tc := range []struct {
		p, q, s []float64
		field   string
	}{
		{[]float64{1, -1}, []float64{1, 1}, nil, "p[1]"},
		{[]float64{1, 1}, []float64{math.NaN(), 1}, nil, "q[0]"},
		{[]float64{1, 1}, []float64{1, 1}, []float64{0, math.Inf(1)}, "support[1]"},
		{nil, nil, nil, "p"},
	} {
		if fe, ok := kerr.AsField(Check(tc.p, tc.q, tc.s)); !ok || fe.Field != tc.field {
			t.Errorf("Check(%v, %v, %v) = %v, want a field error on %s", tc.p, tc.q, tc.s, fe, tc.field)
		}
	}
}
