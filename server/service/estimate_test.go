package service

import (
	"testing"

	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// TestEstimateSizesTheBlowUps: the inputs that ask for gigabytes with a few
// bytes get an output floor over the default response limit, from their
// size fields alone; inputs over a cap cost nothing (the kernel refuses
// them with a 400) and never overflow; small inputs stay small.
func TestEstimateSizesTheBlowUps(t *testing.T) {
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		id, input       string
		minOut, maxWork int64 // minOut: the floor must be at least this; maxWork: the working set at most
	}{
		{"graph/degree-ratio", `{"num_nodes": 5000000, "edges": [[0, 1]]}`, 5_000_000 * 26, 2 << 30},
		{"ml/embedding-generation", `{"documents": ["a b"], "vectorizer": {"n_features": 20000000}}`, 160_000_000, 1 << 30},
		{"graph/shortest-path", `{"num_nodes": 5000, "edges": [[0, 1]], "all_pairs": true}`, 200_000_000, 1 << 30},
		{"graph/shortest-path", `{"num_nodes": 2147483647, "edges": [[0, 1]], "all_pairs": true}`, 0, 1 << 20},
		{"graph/degree-ratio", `{"num_nodes": 10, "edges": [[0, 1]]}`, 260, 1 << 20},
		{"ml/embedding-generation", `{"documents": ["a b"], "vectorizer": {"n_features": 20000000}, "output": "sparse"}`, 0, 1 << 20},
	}
	for _, c := range cases {
		k, _ := reg.Get(c.id)
		in := k.NewInput()
		if err := jsoninput.Decode([]byte(c.input), in); err != nil {
			t.Fatal(err)
		}
		work, out := estimate(k, in, limits.Default())
		if out < c.minOut || (c.minOut == 0 && out != 0) || work > c.maxWork || work < out || work <= 0 {
			t.Errorf("%s %s: working %d, output floor %d; want floor >= %d, working <= %d", c.id, c.input, work, out, c.minOut, c.maxWork)
		}
	}
}
