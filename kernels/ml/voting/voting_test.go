package voting

import (
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
)

type input struct {
	Voting   string    `json:"voting"`
	NModels  int       `json:"n_models"`
	NSamples int       `json:"n_samples"`
	NClasses int       `json:"n_classes"`
	Labels   []int32   `json:"labels"`
	Probs    []float64 `json:"probabilities"`
	Weights  []float64 `json:"weights"`
}

func TestFixtures(t *testing.T) {
	f := fixture.Kernel(t, "ml", "ensemble-voting")
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			var in input
			var want struct {
				Labels []int32   `json:"labels"`
				Scores []float64 `json:"scores"`
			}
			fixture.Decode(t, c.Input, &in)
			fixture.Decode(t, c.ExpectRaw, &want)
			var res Result
			if in.Voting == "soft" {
				res = Soft(in.Probs, in.Weights, in.NModels, in.NSamples, in.NClasses)
			} else {
				res = Hard(in.Labels, in.Weights, in.NModels, in.NSamples, in.NClasses)
			}
			rtol, atol := c.Tolerances()
			fixture.Ints(t, "labels", res.Labels, want.Labels)
			fixture.Floats(t, "scores", res.Scores, want.Scores, rtol, atol)
		})
	}
}

// Hand-checked: votes (0, 1, 1) with weights (3, 1, 1) give class 0 a
// weight of 3 against 2, so 0 wins with score 3/5.
func TestWeightedHard(t *testing.T) {
	res := Hard([]int32{0, 1, 1}, []float64{3, 1, 1}, 3, 1, 2)
	fixture.Ints(t, "labels", res.Labels, []int32{0})
	fixture.Floats(t, "scores", res.Scores, []float64{0.6, 0.4}, 1e-15, 0)
}

// Equal probabilities: the first class wins, like np.argmax.
func TestSoftTieFirstClass(t *testing.T) {
	res := Soft([]float64{0.2, 0.8, 0.8, 0.2}, nil, 2, 1, 2)
	fixture.Ints(t, "labels", res.Labels, []int32{0})
	fixture.Floats(t, "scores", res.Scores, []float64{0.5, 0.5}, 0, 0)
}
