package streamforest

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/ml/iforest"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
)

type input struct {
	Data        []float64 `json:"data"`
	NSamples    int       `json:"n_samples"`
	NFeatures   int       `json:"n_features"`
	Window      *int      `json:"window_size"`
	Refit       *int      `json:"refit_interval"`
	NEstimators *int      `json:"n_estimators"`
	Seed        uint64    `json:"seed"`
}

func params(in input) Params {
	p := Params{Window: 256, Forest: iforest.Params{NEstimators: 100, MaxSamples: 256, Seed: in.Seed}}
	if in.Window != nil {
		p.Window = *in.Window
	}
	p.RefitInterval = p.Window
	if in.Refit != nil {
		p.RefitInterval = *in.Refit
	}
	if in.NEstimators != nil {
		p.Forest.NEstimators = *in.NEstimators
	}
	return p
}

func TestFixtures(t *testing.T) {
	f := fixture.Kernel(t, "ml", "streaming-isolation-forest")
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			var in input
			var want struct {
				Scores      []float64 `json:"scores"`
				ModelStarts []int32   `json:"model_starts"`
			}
			var q struct {
				Spikes  []int `json:"spikes"`
				Shift   []int `json:"shift_rows"`
				Settled []int `json:"settled_rows"`
			}
			fixture.Decode(t, c.Input, &in)
			fixture.Decode(t, c.ExpectRaw, &want)
			fixture.Decode(t, c.Extra["quality"], &q)
			m := matrix.Dense{Rows: in.NSamples, Cols: in.NFeatures, Data: in.Data}
			res, err := Run(context.Background(), m, params(in))
			if err != nil {
				t.Fatal(err)
			}
			fixture.Ints(t, "model_starts", res.ModelStarts, want.ModelStarts)
			if want.Scores != nil {
				rtol, atol := c.Tolerances()
				fixture.Floats(t, "scores", res.Scores, want.Scores, rtol, atol)
			}
			if q.Spikes == nil {
				return
			}
			// Rows right after the level shift are scored by a forest that
			// has only seen the old level: they must stand out against the
			// rows scored once the window has moved to the new level.
			shift := mean(res.Scores[q.Shift[0]:q.Shift[1]])
			settled := mean(res.Scores[q.Settled[0]:q.Settled[1]])
			if shift < settled+0.1 {
				t.Errorf("mean score after the shift %.3f, settled %.3f: the shift does not stand out", shift, settled)
			}
			for _, s := range q.Spikes {
				if res.Scores[s] <= settled+0.1 {
					t.Errorf("spike at %d scores %.3f, settled rows %.3f", s, res.Scores[s], settled)
				}
			}
		})
	}
}

func mean(a []float64) float64 {
	var s float64
	for _, v := range a {
		s += v
	}
	return s / float64(len(a))
}

func data(n, d int) matrix.Dense {
	x := make([]float64, n*d)
	for i := range x {
		x[i] = math.Sin(float64(i)*0.7) + float64(i%13)/13
	}
	return matrix.Dense{Rows: n, Cols: d, Data: x}
}

// Each later row is scored by an isolation forest with seed Seed+j fitted on
// the window that precedes its model's start: recompute that by hand.
func TestWindowRule(t *testing.T) {
	m := data(230, 2)
	p := Params{Window: 60, RefitInterval: 50, Forest: iforest.Params{NEstimators: 15, MaxSamples: 32, Seed: 5}}
	res, err := Run(context.Background(), m, p)
	if err != nil {
		t.Fatal(err)
	}
	fixture.Ints(t, "model_starts", res.ModelStarts, []int32{0, 60, 110, 160, 210})
	rows := func(lo, hi int) matrix.Dense { return matrix.Dense{Rows: hi - lo, Cols: 2, Data: m.Data[lo*2 : hi*2]} }
	check := func(j, trainLo, trainHi, lo, hi int) {
		fp := p.Forest
		fp.Seed += uint64(j)
		f, err := iforest.Fit(context.Background(), rows(trainLo, trainHi), fp)
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.Score(context.Background(), rows(lo, hi))
		if err != nil {
			t.Fatal(err)
		}
		fixture.Floats(t, "scores", res.Scores[lo:hi], s, 0, 0)
	}
	check(0, 0, 60, 0, 60)
	check(1, 0, 60, 60, 110)
	check(2, 50, 110, 110, 160)
	check(4, 150, 210, 210, 230)
}

// A window covering the stream is the batch isolation forest.
func TestLongWindowIsBatch(t *testing.T) {
	m := data(120, 3)
	fp := iforest.Params{NEstimators: 20, MaxSamples: 64, Seed: 8}
	res, err := Run(context.Background(), m, Params{Window: 500, RefitInterval: 500, Forest: fp})
	if err != nil {
		t.Fatal(err)
	}
	f, err := iforest.Fit(context.Background(), m, fp)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.Score(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	fixture.Floats(t, "scores", res.Scores, s, 0, 0)
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, data(1000, 2), Params{Window: 100, RefitInterval: 10, Forest: iforest.Params{NEstimators: 50, MaxSamples: 64}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
