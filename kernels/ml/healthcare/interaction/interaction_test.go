package interaction

import (
	"context"
	"errors"
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

type ddiInput struct {
	Features   []float64 `json:"features"`
	NDrugs     int       `json:"n_drugs"`
	NFeatures  int       `json:"n_features"`
	Known      [][2]int  `json:"known_interactions"`
	Pairs      [][2]int  `json:"pairs"`
	Similarity string    `json:"similarity"`
	TopK       int       `json:"top_k"`
}

func toPairs(in [][2]int) []Pair {
	if in == nil {
		return nil
	}
	out := make([]Pair, len(in))
	for i, p := range in {
		out[i] = Pair{p[0], p[1]}
	}
	return out
}

func TestScoreFixtures(t *testing.T) {
	for _, c := range fixture.Kernel(t, "ml", "drug-interaction-prediction").Cases {
		var in ddiInput
		fixture.Decode(t, c.Input, &in)
		metric := Tanimoto
		if in.Similarity == "cosine" {
			metric = Cosine
		}
		res, err := Score(context.Background(), in.Features, in.NDrugs, in.NFeatures, toPairs(in.Known), toPairs(in.Pairs), metric, in.TopK)
		if c.ErrorField != "" {
			wantFieldError(t, c, err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var want struct {
			Pairs    [][2]int  `json:"pairs"`
			Scores   []float64 `json:"scores"`
			Evidence []int     `json:"evidence_interactions"`
		}
		fixture.Decode(t, c.ExpectRaw, &want)
		var gotFlat, wantFlat []int
		for _, p := range res.Pairs {
			gotFlat = append(gotFlat, p.A, p.B)
		}
		for _, p := range want.Pairs {
			wantFlat = append(wantFlat, p[0], p[1])
		}
		rtol, atol := c.Tolerances()
		fixture.Ints(t, c.Name+".pairs", gotFlat, wantFlat)
		fixture.Floats(t, c.Name+".scores", res.Scores, want.Scores, rtol, atol)
		fixture.Ints(t, c.Name+".evidence_interactions", res.Evidence, want.Evidence)
	}
}

// A hand-checkable case: drugs 0 and 2 share 2 of 3 bits, and 2 is known to
// interact with 1, so (0, 1) scores 2/3 on the evidence of (2, 1).
func TestScoreByHand(t *testing.T) {
	f := []float64{
		1, 1, 0, 0,
		0, 0, 1, 1,
		1, 1, 1, 0,
	}
	res, err := Score(context.Background(), f, 3, 4, []Pair{{2, 1}}, []Pair{{0, 1}, {1, 0}}, Tanimoto, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if res.Scores[i] != 2.0/3 || res.Evidence[i] != 0 {
			t.Errorf("pair %v: score %v evidence %d, want 2/3 and 0", res.Pairs[i], res.Scores[i], res.Evidence[i])
		}
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := make([]float64, 200)
	if _, err := Score(ctx, f, 100, 2, []Pair{{0, 1}}, nil, Tanimoto, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
