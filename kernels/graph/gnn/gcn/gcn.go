// Package gcn runs the forward pass of a graph convolutional network (Kipf
// and Welling 2017) with weights supplied by the caller:
// H' = act(Â H W + b), Â = D^-1/2 (A + I) D^-1/2.
//
// A is the weighted adjacency matrix in networkx's to_numpy_array
// convention (A[u][v] = weight of u->v), so row u gathers from u's
// out-neighbours; D holds the row sums of A + I. Â is never formed: each
// output row is a weighted sum over the CSR neighbour list, and rows are
// computed in parallel.
package gcn

import (
	"context"
	"fmt"
	"math"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/gnn"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Layer is one graph convolution: Weight is row-major F_in x OutDim, Bias is
// empty or OutDim values, Activation a gnn.Activation name.
type Layer struct {
	OutDim     int
	Weight     []float64
	Bias       []float64
	Activation string
}

// Forward applies layers to the features x (row-major g.N x f) and returns
// the last layer's output (row-major g.N x dim) and dim. Shape mismatches
// are field errors on "features" and "layers[i].weight" / ".bias" /
// ".out_dim" / ".activation"; negative edge weights on "weights".
func Forward(ctx context.Context, g *csr.Graph, x []float64, f int, layers []Layer) ([]float64, int, error) {
	n := g.N
	if f < 1 {
		return nil, 0, kerr.Invalid("num_features", "must be at least 1")
	}
	if len(x) != n*f {
		return nil, 0, kerr.Invalid("features", "has %d values, want num_nodes x num_features = %d", len(x), n*f)
	}
	if err := gnn.CheckFinite("features", x); err != nil {
		return nil, 0, err
	}
	acts := make([]func(float64) float64, len(layers))
	in := f
	for i, l := range layers {
		if err := checkLayer(i, l, in); err != nil {
			return nil, 0, err
		}
		acts[i], _ = gnn.Activation(l.Activation)
		in = l.OutDim
	}
	for _, w := range g.W {
		if w < 0 {
			return nil, 0, kerr.Invalid("weights", "must be non-negative (Â needs positive degrees)")
		}
	}
	dinv := make([]float64, n)
	for u := 0; u < n; u++ {
		d := 1.0 // the identity's diagonal
		if ws := g.Weights(u); ws != nil {
			for _, w := range ws {
				d += w
			}
		} else {
			d += float64(g.OutDegree(u))
		}
		dinv[u] = 1 / math.Sqrt(d)
	}
	h, in := x, f
	for i, l := range layers {
		var err error
		if h, err = layer(ctx, g, dinv, h, in, l, acts[i]); err != nil {
			return nil, 0, err
		}
		in = l.OutDim
	}
	return h, in, nil
}

func checkLayer(i int, l Layer, in int) error {
	field := func(name string) string { return fmt.Sprintf("layers[%d].%s", i, name) }
	if l.OutDim < 1 {
		return kerr.Invalid(field("out_dim"), "must be at least 1")
	}
	if len(l.Weight) != in*l.OutDim {
		return kerr.Invalid(field("weight"), "has %d values, want %d x %d = %d", len(l.Weight), in, l.OutDim, in*l.OutDim)
	}
	if len(l.Bias) != 0 && len(l.Bias) != l.OutDim {
		return kerr.Invalid(field("bias"), "has %d values, want 0 or out_dim = %d", len(l.Bias), l.OutDim)
	}
	if _, ok := gnn.Activation(l.Activation); !ok {
		return kerr.Invalid(field("activation"), "unknown activation %q", l.Activation)
	}
	return nil
}

// layer computes act(Â h W + b). The product is taken in the cheaper order:
// (h W) first when the layer narrows the features, Â h first otherwise.
func layer(ctx context.Context, g *csr.Graph, dinv, h []float64, in int, l Layer, act func(float64) float64) ([]float64, error) {
	n, out := g.N, l.OutDim
	var res []float64
	if out <= in {
		hw, err := gnn.MatMul(ctx, h, n, in, l.Weight, out)
		if err != nil {
			return nil, err
		}
		if res, err = propagate(ctx, g, dinv, hw, out); err != nil {
			return nil, err
		}
	} else {
		ah, err := propagate(ctx, g, dinv, h, in)
		if err != nil {
			return nil, err
		}
		if res, err = gnn.MatMul(ctx, ah, n, in, l.Weight, out); err != nil {
			return nil, err
		}
	}
	err := par.Dynamic(ctx, n, 1024, par.Workers(n), func(_, lo, hi int) error {
		for u := lo; u < hi; u++ {
			row := res[u*out : (u+1)*out]
			for j := range row {
				if len(l.Bias) > 0 {
					row[j] += l.Bias[j]
				}
				row[j] = act(row[j])
			}
		}
		return nil
	})
	return res, err
}

// propagate returns Â z for z row-major n x k.
func propagate(ctx context.Context, g *csr.Graph, dinv, z []float64, k int) ([]float64, error) {
	n := g.N
	res := make([]float64, n*k)
	err := par.Dynamic(ctx, n, 256, par.Workers(n), func(_, lo, hi int) error {
		for u := lo; u < hi; u++ {
			row := res[u*k : (u+1)*k]
			nb, ws := g.Neighbors(u), g.Weights(u)
			self := 1.0 // (A + I)[u][u]: the identity plus any self-loop
			for i, v := range nb {
				a := 1.0
				if ws != nil {
					a = ws[i]
				}
				if int(v) == u {
					self += a
					continue
				}
				c := dinv[u] * a * dinv[v]
				zv := z[int(v)*k : (int(v)+1)*k]
				for j := range row {
					row[j] += c * zv[j]
				}
			}
			c := dinv[u] * self * dinv[u]
			zu := z[u*k : (u+1)*k]
			for j := range row {
				row[j] += c * zu[j]
			}
		}
		return nil
	})
	return res, err
}
