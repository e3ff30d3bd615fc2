// Package gnntest runs the GNN packages' Forward functions against the dense
// NumPy reference fixtures (testdata/fixtures/graph/gnn-inference.json and
// graph-attention.json).
package gnntest

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// Input is the part of a case's input besides the graph: the node features
// and the layers, decoded as the package's layer JSON type L.
type Input[L any] struct {
	Features    []float64 `json:"features"`
	NumFeatures int       `json:"num_features"`
	Layers      []L       `json:"layers"`
}

// Forward runs one case's model on its graph and returns the embeddings and
// their dimension.
type Forward[L any] func(ctx context.Context, g *csr.Graph, in Input[L]) ([]float64, int, error)

// Run runs every case of testdata/fixtures/graph/<kernel>.json through
// forward, one subtest per case. A case with error_field must fail with a
// kerr field error on that field; any other must give expect.dim and
// expect.embeddings to 1e-9 relative, 1e-12 absolute.
func Run[L any](t *testing.T, kernel string, forward Forward[L]) {
	for _, c := range fixture.Kernel(t, "graph", kernel).Cases {
		t.Run(c.Name, func(t *testing.T) {
			var in Input[L]
			if err := json.Unmarshal(c.Input, &in); err != nil {
				t.Fatal(err)
			}
			got, dim, err := forward(context.Background(), c.Build(t), in)
			if c.ErrorField != "" {
				if fe, ok := kerr.AsField(err); !ok || fe.Field != c.ErrorField {
					t.Fatalf("err = %v, want a field error on %s", err, c.ErrorField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want []float64
			var wantDim int
			if !c.Want(t, "embeddings", &want) || !c.Want(t, "dim", &wantDim) {
				t.Fatal("case expects no embeddings or dim")
			}
			if dim != wantDim || len(got) != len(want) {
				t.Fatalf("dim %d, %d values; want %d, %d", dim, len(got), wantDim, len(want))
			}
			for i := range want {
				if !(math.Abs(got[i]-want[i]) <= 1e-12+1e-9*math.Abs(want[i])) { // NaN fails
					t.Fatalf("embeddings[%d] = %.17g, NumPy %.17g", i, got[i], want[i])
				}
			}
		})
	}
}
