package graph

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

func newExtendedRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	return r
}

// checkLouvain holds the louvain-specific promises: the reported modularity
// is modularity-score's value for the returned labels, and it reaches 0.97 x
// the best of five networkx runs (the case's nx_best_modularity).
func checkLouvain(t *testing.T, r *registry.Registry, c fixture.Case, out map[string]any) {
	t.Helper()
	var in map[string]any
	if err := json.Unmarshal(c.Input, &in); err != nil {
		t.Fatal(err)
	}
	var nxBest float64
	if raw, ok := c.Extra["nx_best_modularity"]; ok {
		if err := json.Unmarshal(raw, &nxBest); err != nil {
			t.Fatal(err)
		}
	}
	q := out["modularity"].(float64)
	if nxBest > 0 && q < 0.97*nxBest {
		t.Errorf("modularity %.6f < 0.97 x networkx best %.6f", q, nxBest)
	}
	if len(in["edges"].([]any)) == 0 {
		return
	}
	in["communities"] = out["labels"]
	delete(in, "seed")
	delete(in, "threshold")
	data, _ := json.Marshal(in)
	k, _ := r.Get("graph/modularity-score")
	msg := k.NewInput()
	if err := jsoninput.Decode(data, msg); err != nil {
		t.Fatal(err)
	}
	res, err := k.Run(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	if want := res.(*graphv1.ModularityScoreOutput).GetModularity(); math.Abs(q-want) > 1e-9 {
		t.Errorf("reported modularity %.15g, modularity of the labels %.15g", q, want)
	}
}

// TestExtendedRejects checks that the server's caps turn oversized requests
// into field errors before any work is done, and that the per-item checks
// made in Go (not by protovalidate) name the offending element.
func TestExtendedRejects(t *testing.T) {
	r := newExtendedRegistry(t)
	ctx := limits.With(context.Background(), limits.Limits{MaxOutputItems: 5, MaxCells: 100, MaxIterations: 50})
	for _, tc := range []struct {
		id, input, field string
	}{
		{"graph/jaccard-similarity", `{"num_nodes": 3, "edges": [[0, 1]], "top_k": 6}`, "top_k"},
		{"graph/adamic-adar", `{"num_nodes": 3, "edges": [[0, 1]], "pairs": [[0,1],[0,2],[1,2],[0,1],[0,2],[1,2]]}`, "pairs"},
		{"graph/label-propagation", `{"num_nodes": 3, "edges": [[0, 1]], "max_iterations": 51}`, "max_iterations"},
		{"graph/gnn-inference", `{"num_nodes": 30, "edges": [], "num_features": 4, "features": [], "layers": [{"out_dim": 1, "weight": [1, 1, 1, 1]}]}`, "features"},
		{"graph/graph-attention", `{"num_nodes": 10, "edges": [], "num_features": 1, "features": [1,2,3,4,5,6,7,8,9,10],
			"layers": [{"heads": 4, "out_dim": 3, "weight": [1,1,1,1,1,1,1,1,1,1,1,1], "attention": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}`, "layers[0].out_dim"},
		{"graph/k-clique", `{"num_nodes": 3, "edges": [[0, 1]], "k": 3, "directed": true}`, "directed"},
		{"graph/louvain-community", `{"num_nodes": 3, "edges": [[0, 1], [1, 2]], "weights": [1, -1]}`, "weights[1]"},
		// Per-item checks done in Go rather than by protovalidate.
		{"graph/label-propagation", `{"num_nodes": 3, "edges": [[0, 1], [1, 2]], "weights": [1, "NaN"]}`, "weights[1]"},
		{"graph/gnn-inference", `{"num_nodes": 2, "edges": [[0, 1]], "weights": [-2], "num_features": 1, "features": [1, 2], "layers": [{"out_dim": 1, "weight": [1]}]}`, "weights[0]"},
		{"graph/gnn-inference", `{"num_nodes": 2, "edges": [[0, 1]], "num_features": 1, "features": [1, "Infinity"], "layers": [{"out_dim": 1, "weight": [1]}]}`, "features[1]"},
		{"graph/value-similarity", `{"p": [1, -1], "q": [1, 1]}`, "p[1]"},
		{"graph/value-similarity", `{"p": [1, 1], "q": [1, 1], "support": [0, "NaN"]}`, "support[1]"},
		{"graph/common-neighbors", `{"num_nodes": 3, "edges": [[0, 1]], "pairs": [[0, 1], [-1, 2]]}`, "pairs[1]"},
	} {
		k, _ := r.Get(tc.id)
		in := k.NewInput()
		if err := jsoninput.Decode([]byte(tc.input), in); err != nil {
			t.Fatalf("%s: %v", tc.id, err)
		}
		_, err := k.Run(ctx, in)
		if got := fixture.ErrorField(err); got != tc.field {
			t.Errorf("%s: error field %q (err %v), want %q", tc.id, got, err, tc.field)
		}
	}
}

// TestKCliqueListCappedByServerLimit: max_cliques above the output limit is
// capped, not rejected, and the count stays complete.
func TestKCliqueListCappedByServerLimit(t *testing.T) {
	r := newExtendedRegistry(t)
	k, _ := r.Get("graph/k-clique")
	in := k.NewInput()
	// K5 has ten triangles.
	if err := jsoninput.Decode([]byte(`{"num_nodes": 5, "edges": [[0,1],[0,2],[0,3],[0,4],[1,2],[1,3],[1,4],[2,3],[2,4],[3,4]], "max_cliques": 100}`), in); err != nil {
		t.Fatal(err)
	}
	ctx := limits.With(context.Background(), limits.Limits{MaxOutputItems: 4})
	out, err := k.Run(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	res := out.(*graphv1.KCliqueOutput)
	if res.GetNumCliques() != 10 || len(res.GetCliques()) != 4 || !res.GetTruncated() {
		t.Fatalf("count %d, listed %d, truncated %v; want 10, 4, true", res.GetNumCliques(), len(res.GetCliques()), res.GetTruncated())
	}
}

// TestExtendedCancelled: a request whose context is already done returns
// the context's error instead of working.
func TestExtendedCancelled(t *testing.T) {
	r := newExtendedRegistry(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, id := range []string{"graph/louvain-community", "graph/motif-detection", "graph/cycle-participation", "graph/k-clique"} {
		k, _ := r.Get(id)
		in := k.NewInput()
		if err := jsoninput.Decode([]byte(`{"num_nodes": 4, "edges": [[0,1],[1,2],[2,0],[2,3]]}`), in); err != nil {
			t.Fatal(err)
		}
		if _, err := k.Run(ctx, in); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", id, err)
		}
	}
}
