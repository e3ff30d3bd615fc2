package hierarchical

import (
	"context"
	"errors"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/ml/distance"
	"github.com/gokernels/gokernels/kernels/ml/matrix"
)

type input struct {
	Data      []float64 `json:"data"`
	NSamples  int       `json:"n_samples"`
	NFeatures int       `json:"n_features"`
	NClusters int       `json:"n_clusters"`
	Linkage   string    `json:"linkage"`
	Metric    string    `json:"metric"`
}

type expect struct {
	Labels []int32      `json:"labels"`
	Merges [][4]float64 `json:"merges"`
}

func TestFixtures(t *testing.T) {
	f := fixture.Kernel(t, "ml", "hierarchical-cluster")
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			var in input
			var want expect
			fixture.Decode(t, c.Input, &in)
			fixture.Decode(t, c.ExpectRaw, &want)
			method, err := ParseLinkage(in.Linkage)
			if err != nil {
				t.Fatal(err)
			}
			metric, err := distance.Parse(in.Metric)
			if err != nil {
				t.Fatal(err)
			}
			m := matrix.Dense{Rows: in.NSamples, Cols: in.NFeatures, Data: in.Data}
			z, err := Tree(context.Background(), m, method, metric)
			if err != nil {
				t.Fatal(err)
			}
			if len(z) != len(want.Merges) {
				t.Fatalf("%d merges, want %d", len(z), len(want.Merges))
			}
			rtol, atol := c.Tolerances()
			for i, w := range want.Merges {
				g := z[i]
				if float64(g.Left) != w[0] || float64(g.Right) != w[1] || float64(g.Size) != w[3] ||
					!fixture.Close(g.Distance, w[2], rtol, atol) {
					t.Errorf("merge %d = %+v, want %v", i, g, w)
				}
			}
			labels := Cut(z, in.NSamples, in.NClusters)
			if !fixture.SamePartition(labels, want.Labels) {
				t.Errorf("labels %v are not the partition %v", labels, want.Labels)
			}
		})
	}
}

// Hand-checked: points 0, 1, 3, 7 on a line. Single linkage merges {0,1} at
// 1, then {0,1,3} at 2, then everything at 4; ids follow scipy (n+i for the
// i-th merge).
func TestSingleLinkageLine(t *testing.T) {
	m := matrix.Dense{Rows: 4, Cols: 1, Data: []float64{0, 1, 3, 7}}
	z, err := Tree(context.Background(), m, Single, distance.Euclidean)
	if err != nil {
		t.Fatal(err)
	}
	want := []Merge{{0, 1, 1, 2}, {2, 4, 2, 3}, {3, 5, 4, 4}}
	for i := range want {
		if z[i] != want[i] {
			t.Errorf("merge %d = %+v, want %+v", i, z[i], want[i])
		}
	}
	fixture.Ints(t, "cut 2", Cut(z, 4, 2), []int32{0, 0, 0, 1})
	fixture.Ints(t, "cut 4", Cut(z, 4, 4), []int32{0, 1, 2, 3})
}

func TestWardNeedsEuclidean(t *testing.T) {
	m := matrix.Dense{Rows: 3, Cols: 1, Data: []float64{0, 1, 2}}
	if _, err := Tree(context.Background(), m, Ward, distance.Manhattan); err == nil {
		t.Fatal("ward with manhattan accepted")
	}
}

func TestCancelled(t *testing.T) {
	n := 1500
	data := make([]float64, 2*n)
	for i := range data {
		data[i] = float64((i * 7919) % 1009)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Tree(ctx, matrix.Dense{Rows: n, Cols: 2, Data: data}, Average, distance.Euclidean)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestInfiniteDistances: with 1e308 and -1e308 every Euclidean distance to
// the far points is +Inf. nn_chain used to find no neighbour below +Inf and
// index chain[-1] (issue 13); both sweeps must still build a full tree that
// joins the finite points first and the infinite ones last.
func TestInfiniteDistances(t *testing.T) {
	m := matrix.Dense{Rows: 4, Cols: 1, Data: []float64{1e308, 0, 1, -1e308}}
	for _, method := range []Linkage{Single, Complete, Average, Ward} {
		z, err := Tree(context.Background(), m, method, distance.Euclidean)
		if err != nil {
			t.Fatalf("linkage %d: %v", method, err)
		}
		if len(z) != 3 {
			t.Fatalf("linkage %d: %d merges, want 3", method, len(z))
		}
		if z[0].Left != 1 || z[0].Right != 2 || z[0].Distance != 1 {
			t.Errorf("linkage %d: first merge %+v, want samples 1 and 2 at distance 1", method, z[0])
		}
		if z[2].Size != 4 {
			t.Errorf("linkage %d: last merge %+v does not join all 4 samples", method, z[2])
		}
		seen := map[int32]bool{}
		for _, g := range z {
			if g.Left == g.Right || seen[g.Left] || seen[g.Right] {
				t.Errorf("linkage %d: merge %+v reuses a cluster", method, g)
			}
			seen[g.Left], seen[g.Right] = true, true
		}
	}
}
