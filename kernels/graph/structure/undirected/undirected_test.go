package undirected

import (
	"context"
	"slices"
	"testing"

	"github.com/gokernels/gokernels/kernels/graph/csr"
)

func TestOf(t *testing.T) {
	// 0->1, 1->0 (one undirected edge), 1->2, a self-loop on 2, 3 isolated.
	src := []int32{0, 1, 1, 2}
	dst := []int32{1, 0, 2, 2}
	for _, directed := range []bool{true, false} {
		g, err := csr.Build(4, src, dst, nil, directed)
		if err != nil {
			t.Fatal(err)
		}
		u, err := Of(context.Background(), g)
		if err != nil {
			t.Fatal(err)
		}
		want := [][]int32{{1}, {0, 2}, {1}, {}}
		for v, w := range want {
			if !slices.Equal(u.Neighbors(v), w) {
				t.Errorf("directed=%v: N(%d) = %v, want %v", directed, v, u.Neighbors(v), w)
			}
		}
		if !u.HasEdge(2, 1) || u.HasEdge(2, 2) || u.Degree(1) != 2 {
			t.Errorf("directed=%v: HasEdge/Degree disagree with the lists", directed)
		}
	}
}

func TestCancelled(t *testing.T) {
	g, _ := csr.Build(2, []int32{0}, []int32{1}, nil, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Of(ctx, g); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
