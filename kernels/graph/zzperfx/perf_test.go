package perfx

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gokernels/gokernels/kernels/graph/community/labelprop"
	"github.com/gokernels/gokernels/kernels/graph/community/louvain"
	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/motif/clique"
	"github.com/gokernels/gokernels/kernels/graph/motif/triad"
	"github.com/gokernels/gokernels/kernels/graph/similarity/neighborhood"
	"github.com/gokernels/gokernels/kernels/graph/structure/cycles"
	"github.com/gokernels/gokernels/kernels/graph/structure/undirected"
)

func TestPerf(t *testing.T) {
	n, m := 200000, 1000000
	rng := rand.New(rand.NewPCG(1, 2))
	src, dst := make([]int32, m), make([]int32, m)
	for i := range src {
		// preferential-ish: endpoints biased to low ids
		a := int32(float64(n) * rng.Float64() * rng.Float64())
		src[i], dst[i] = a, int32(rng.IntN(n))
	}
	g, _ := csr.Build(n, src, dst, nil, false)
	ctx := context.Background()
	tm := func(name string, f func()) { t0 := time.Now(); f(); t.Logf("%s %v", name, time.Since(t0)) }
	tm("louvain", func() { r, _ := louvain.Run(ctx, g, louvain.Options{Resolution: 1, Threshold: 1e-7}); t.Log(r.Modularity, r.NumCommunities) })
	tm("lpa", func() { r, _ := labelprop.Run(ctx, g, 1, 1000); t.Log(r.Iterations, r.NumCommunities) })
	tm("triad", func() { triad.Census(ctx, g) })
	tm("cycles", func() { cycles.Count(ctx, g) })
	tm("topk", func() { neighborhood.TopK(ctx, g, neighborhood.AdamicAdar, 100) })
	u, _ := undirected.Of(ctx, g)
	tm("kclique", func() { c, _, _, _ := clique.Cliques(ctx, u, 4, 1000); t.Log(c) })
	tm("kcomm", func() { c, _ := clique.Communities(ctx, u, 4); t.Log(len(c)) })
}
