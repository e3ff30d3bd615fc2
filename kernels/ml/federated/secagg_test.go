package federated

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/kerr"
)

func wantFieldError(t *testing.T, c fixture.Case, err error) {
	t.Helper()
	if fe, ok := kerr.AsField(err); !ok || fe.Field != c.ErrorField {
		t.Fatalf("%s: error %v, want a field error on %s", c.Name, err, c.ErrorField)
	}
}

type aggInput struct {
	Updates        []float64 `json:"updates"`
	NClients       int       `json:"n_clients"`
	Dimension      int       `json:"dimension"`
	Weights        []float64 `json:"weights"`
	Dropped        []int     `json:"dropped_clients"`
	Seed           uint64    `json:"seed"`
	FractionalBits *int      `json:"fractional_bits"`
}

func (in aggInput) params() Params {
	p := Params{Seed: in.Seed, FractionalBits: 40, MinSurvivors: 2}
	if in.FractionalBits != nil {
		p.FractionalBits = *in.FractionalBits
	}
	return p
}

func TestAggregateFixtures(t *testing.T) {
	for _, c := range fixture.Kernel(t, "ml", "secure-aggregation").Cases {
		var in aggInput
		fixture.Decode(t, c.Input, &in)
		res, err := Aggregate(context.Background(), in.Updates, in.NClients, in.Dimension, in.Weights, in.Dropped, in.params())
		if c.ErrorField != "" {
			wantFieldError(t, c, err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var want struct {
			Aggregate        []float64 `json:"aggregate"`
			SurvivingClients []int     `json:"surviving_clients"`
			TotalWeight      float64   `json:"total_weight"`
		}
		fixture.Decode(t, c.ExpectRaw, &want)
		rtol, atol := c.Tolerances()
		fixture.Floats(t, c.Name+".aggregate", res.Aggregate, want.Aggregate, rtol, atol)
		fixture.Ints(t, c.Name+".surviving_clients", res.Survivors, want.SurvivingClients)
		fixture.Floats(t, c.Name+".total_weight", []float64{res.TotalWeight}, []float64{want.TotalWeight}, rtol, atol)
		checkMasked(t, c.Name, in, res)
	}
}

// checkMasked: every coordinate a survivor sent differs from its unmasked
// share, and masked updates are far from the raw values they hide.
func checkMasked(t *testing.T, name string, in aggInput, res *Result) {
	t.Helper()
	dim := in.Dimension
	if len(res.MaskedUpdates) != len(res.Survivors)*dim {
		t.Fatalf("%s: %d masked values, want %d", name, len(res.MaskedUpdates), len(res.Survivors)*dim)
	}
	same := 0
	for s, i := range res.Survivors {
		for d := range dim {
			if math.Abs(res.MaskedUpdates[s*dim+d]-in.Updates[i*dim+d]) < 1 {
				same++
			}
		}
	}
	// A uniformly random 64-bit mask lands within 1 of the raw value with
	// probability ~2^-22 per coordinate.
	if same > 0 {
		t.Errorf("%s: %d masked coordinates are within 1 of the raw update", name, same)
	}
}

func TestDeterministicPerSeed(t *testing.T) {
	updates := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}
	run := func(seed uint64) *Result {
		res, err := Aggregate(context.Background(), updates, 3, 3, nil, nil, Params{Seed: seed, FractionalBits: 40, MinSurvivors: 2})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b, c := run(1), run(1), run(2)
	for k := range a.MaskedUpdates {
		if a.MaskedUpdates[k] != b.MaskedUpdates[k] {
			t.Fatalf("masked update %d differs between runs with the same seed", k)
		}
	}
	differ := 0
	for k := range a.MaskedUpdates {
		if a.MaskedUpdates[k] != c.MaskedUpdates[k] {
			differ++
		}
	}
	if differ != len(a.MaskedUpdates) {
		t.Errorf("only %d of %d masked values change with the seed", differ, len(a.MaskedUpdates))
	}
	for d := range 3 {
		want := (updates[d] + updates[3+d] + updates[6+d]) / 3
		if math.Abs(a.Aggregate[d]-want) > 1e-12 || a.Aggregate[d] != c.Aggregate[d] {
			t.Errorf("aggregate[%d] = %v (seed 2: %v), want %v", d, a.Aggregate[d], c.Aggregate[d], want)
		}
	}
}

func TestRangeAndThreshold(t *testing.T) {
	ctx := context.Background()
	_, err := Aggregate(ctx, []float64{1, 1 << 30}, 2, 1, nil, nil, Params{FractionalBits: 40, MinSurvivors: 2})
	wantFieldError(t, fixture.Case{Name: "range", ErrorField: "updates[1]"}, err)
	_, err = Aggregate(ctx, []float64{1}, 1, 1, nil, nil, Params{FractionalBits: 40, MinSurvivors: 2})
	wantFieldError(t, fixture.Case{Name: "threshold", ErrorField: "n_clients"}, err)
	_, err = Aggregate(ctx, []float64{1, 2, 3}, 3, 1, nil, []int{2, 2}, Params{FractionalBits: 40, MinSurvivors: 1})
	wantFieldError(t, fixture.Case{Name: "duplicate", ErrorField: "dropped_clients[1]"}, err)
	_, err = Aggregate(ctx, []float64{1, 2}, 2, 1, []float64{1, 0}, nil, Params{FractionalBits: 40, MinSurvivors: 1})
	wantFieldError(t, fixture.Case{Name: "zero weight", ErrorField: "weights[1]"}, err)
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Aggregate(ctx, make([]float64, 400), 20, 20, nil, nil, Params{FractionalBits: 40, MinSurvivors: 2})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
