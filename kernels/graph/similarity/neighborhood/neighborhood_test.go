package neighborhood

import (
	"cmp"
	"context"
	fixtures "github.com/gokernels/gokernels/internal/fixture"
	"math"
	"slices"
	"testing"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/kerr"
)

type fixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			NumNodes int        `json:"num_nodes"`
			Edges    [][2]int32 `json:"edges"`
			Weights  []float64  `json:"weights"`
			Directed bool       `json:"directed"`
			Pairs    [][2]int32 `json:"pairs"`
			TopK     int        `json:"top_k"`
		} `json:"input"`
		Expect struct {
			Pairs  [][2]int32 `json:"pairs"`
			Scores []float64  `json:"scores"`
		} `json:"expect"`
		Compare    map[string]string `json:"compare"`
		ErrorField string            `json:"error_field"`
	} `json:"cases"`
}

func build(t *testing.T, n int, edges [][2]int32, w []float64, directed bool) *csr.Graph {
	t.Helper()
	src, dst := make([]int32, len(edges)), make([]int32, len(edges))
	for i, e := range edges {
		src[i], dst[i] = e[0], e[1]
	}
	g, err := csr.Build(n, src, dst, w, directed)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func close(a, b float64) bool { return math.Abs(a-b) <= 1e-12+1e-9*math.Abs(b) }

func TestFixtures(t *testing.T) {
	for file, m := range map[string]Measure{
		"jaccard-similarity": Jaccard, "cosine-similarity": Cosine,
		"adamic-adar": AdamicAdar, "common-neighbors": CommonNeighbors,
	} {
		var fx fixture
		fixtures.Read(t, "graph", file, &fx)
		var err error
		for _, c := range fx.Cases {
			t.Run(file+"/"+c.Name, func(t *testing.T) {
				in := c.Input
				g := build(t, in.NumNodes, in.Edges, in.Weights, in.Directed)
				ctx := context.Background()
				var got []float64
				var gotPairs []Pair
				if len(in.Pairs) > 0 {
					pairs := make([]Pair, len(in.Pairs))
					for i, p := range in.Pairs {
						pairs[i] = Pair{p[0], p[1]}
					}
					got, err = Score(ctx, g, m, pairs)
				} else {
					gotPairs, got, err = TopK(ctx, g, m, in.TopK)
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
				if len(got) != len(c.Expect.Scores) {
					t.Fatalf("%d scores, want %d", len(got), len(c.Expect.Scores))
				}
				for i := range got {
					if !close(got[i], c.Expect.Scores[i]) {
						t.Fatalf("score[%d] = %.17g, networkx %.17g", i, got[i], c.Expect.Scores[i])
					}
				}
				if c.Expect.Pairs == nil {
					return
				}
				gp := make([][2]int32, len(gotPairs))
				for i, p := range gotPairs {
					gp[i] = [2]int32{p.U, p.V}
				}
				want := slices.Clone(c.Expect.Pairs)
				if c.Compare["pairs"] == "set" {
					order := func(a, b [2]int32) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) }
					slices.SortFunc(gp, order)
					slices.SortFunc(want, order)
				}
				if !slices.Equal(gp, want) {
					t.Fatalf("pairs %v\nwant  %v", gp, want)
				}
			})
		}
	}
}

// TestTopKMatchesBruteForce ranks every non-adjacent pair with Score and
// checks TopK returns the same head, for each measure.
func TestTopKMatchesBruteForce(t *testing.T) {
	n := 60
	var edges [][2]int32
	seed := uint32(7)
	for u := 0; u < n; u++ {
		for v := u + 1; v < n; v++ {
			seed = seed*1664525 + 1013904223
			if seed>>24 < 20 {
				edges = append(edges, [2]int32{int32(u), int32(v)})
			}
		}
	}
	edges = append(edges, [2]int32{5, 5})
	g := build(t, n, edges, nil, false)
	for _, m := range []Measure{Jaccard, Cosine, AdamicAdar, CommonNeighbors} {
		var cand []Pair
		for u := 0; u < n; u++ {
			for v := u + 1; v < n; v++ {
				if !g.HasEdge(u, v) {
					cand = append(cand, Pair{int32(u), int32(v)})
				}
			}
		}
		scores, err := Score(context.Background(), g, m, cand)
		if err != nil {
			t.Fatal(err)
		}
		var all []scored
		for i, p := range cand {
			if scores[i] > 0 {
				all = append(all, scored{p, scores[i]})
			}
		}
		slices.SortFunc(all, func(a, b scored) int {
			if better(a, b) {
				return -1
			}
			return 1
		})
		pairs, top, err := TopK(context.Background(), g, m, 40)
		if err != nil {
			t.Fatal(err)
		}
		for i := range pairs {
			if !close(top[i], all[i].s) {
				t.Fatalf("measure %d rank %d: %v %.17g, brute force %v %.17g", m, i, pairs[i], top[i], all[i].p, all[i].s)
			}
		}
	}
}

func TestCancelled(t *testing.T) {
	g := build(t, 3, [][2]int32{{0, 1}, {1, 2}}, nil, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := TopK(ctx, g, Jaccard, 5); err != context.Canceled {
		t.Fatalf("TopK err = %v", err)
	}
	if _, err := Score(ctx, g, Jaccard, []Pair{{0, 2}}); err != context.Canceled {
		t.Fatalf("Score err = %v", err)
	}
}
