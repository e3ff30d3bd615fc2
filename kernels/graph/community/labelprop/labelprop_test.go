package labelprop

import (
	"context"
	fixtures "github.com/gokernels/gokernels/internal/fixture"

	"slices"
	"testing"

	"github.com/gokernels/gokernels/kernels/graph/community"
	"github.com/gokernels/gokernels/kernels/graph/csr"
)

type fixture struct {
	Cases []struct {
		Name  string `json:"name"`
		Input struct {
			NumNodes int        `json:"num_nodes"`
			Edges    [][2]int32 `json:"edges"`
			Weights  []float64  `json:"weights"`
			Directed bool       `json:"directed"`
			Seed     int64      `json:"seed"`
		} `json:"input"`
		Expect struct {
			Labels         []int32 `json:"labels"`
			NumCommunities int     `json:"num_communities"`
		} `json:"expect"`
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

// checkStable asserts asyn_lpa's stopping condition independently of the
// implementation: every node with neighbours holds one of the labels of
// largest summed weight among its neighbours (networkx's G[node]).
func checkStable(t *testing.T, g *csr.Graph, labels []int32) {
	t.Helper()
	for u := 0; u < g.N; u++ {
		nb, ws := g.Neighbors(u), g.Weights(u)
		if len(nb) == 0 {
			continue
		}
		freq := map[int32]float64{}
		for i, v := range nb {
			w := 1.0
			if ws != nil {
				w = ws[i]
			}
			freq[labels[v]] += w
		}
		var best float64
		for _, f := range freq {
			best = max(best, f)
		}
		if f := freq[labels[u]]; f < best-1e-12*best {
			t.Fatalf("node %d holds label %d (weight %g) but the best neighbour label has %g", u, labels[u], f, best)
		}
	}
}

func TestFixtures(t *testing.T) {
	var fx fixture
	fixtures.Read(t, "graph", "label-propagation", &fx)
	for _, c := range fx.Cases {
		t.Run(c.Name, func(t *testing.T) {
			in := c.Input
			g := build(t, in.NumNodes, in.Edges, in.Weights, in.Directed)
			res, err := Run(context.Background(), g, in.Seed, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Converged {
				t.Fatalf("not converged after %d rounds", res.Iterations)
			}
			if canon, k := community.Canonical(res.Labels); !slices.Equal(canon, res.Labels) || k != res.NumCommunities {
				t.Errorf("labels not canonical or num_communities %d != %d", res.NumCommunities, k)
			}
			checkStable(t, g, res.Labels)
			if c.Expect.Labels != nil {
				want, k := community.Canonical(c.Expect.Labels)
				if !slices.Equal(res.Labels, want) || res.NumCommunities != k {
					t.Errorf("labels %v, networkx %v", res.Labels, want)
				}
			}
			again, _ := Run(context.Background(), g, in.Seed, 1000)
			if !slices.Equal(again.Labels, res.Labels) {
				t.Errorf("same seed, different labels")
			}
			t.Logf("%d communities in %d rounds", res.NumCommunities, res.Iterations)
		})
	}
}

func TestIsolatedNodesKeepTheirLabel(t *testing.T) {
	g := build(t, 4, [][2]int32{{1, 2}}, nil, false)
	res, err := Run(context.Background(), g, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{0, 1, 1, 2}; !slices.Equal(res.Labels, want) {
		t.Fatalf("labels %v, want %v", res.Labels, want)
	}
}

func TestMaxIterations(t *testing.T) {
	// A long path needs several rounds; one round cannot be the last.
	n := 200
	edges := make([][2]int32, n-1)
	for i := range edges {
		edges[i] = [2]int32{int32(i), int32(i + 1)}
	}
	g := build(t, n, edges, nil, false)
	res, err := Run(context.Background(), g, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Converged || res.Iterations != 1 {
		t.Fatalf("converged=%v after %d rounds, want a capped, unconverged run", res.Converged, res.Iterations)
	}
}

func TestCancelled(t *testing.T) {
	g := build(t, 3, [][2]int32{{0, 1}}, nil, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, g, 0, 10); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
