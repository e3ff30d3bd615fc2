// Package gat runs the forward pass of a multi-head graph attention network
// (Veličković et al. 2018) with weights supplied by the caller.
//
// For each head, z = h W; node i attends over j in N(i) ∪ {i} with
// e_ij = LeakyReLU(a_self·z_i + a_nbr·z_j) and alpha = softmax_j(e_ij), and
// outputs sum_j alpha_ij z_j. Heads are concatenated or averaged, then the
// bias and activation are applied. N(i) are i's out-neighbours (row i of
// networkx's adjacency matrix), the same convention as package gcn; edge
// weights are not used. Nodes are processed in parallel.
package gat

import (
	"context"
	"fmt"
	"math"

	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/gnn"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Layer is one attention layer. Weight holds Heads blocks of F_in x OutDim
// (row-major), Attention Heads blocks of 2*OutDim (a_self then a_nbr), Bias
// is empty or one value per merged column. Mean averages the heads instead
// of concatenating them.
type Layer struct {
	Heads         int
	OutDim        int
	Weight        []float64
	Attention     []float64
	Bias          []float64
	Activation    string
	Mean          bool
	NegativeSlope float64
}

// Width is the layer's output width.
func (l Layer) Width() int {
	if l.Mean {
		return l.OutDim
	}
	return l.Heads * l.OutDim
}

// Forward applies layers to the features x (row-major g.N x f) and returns
// the last layer's output (row-major g.N x dim) and dim. Shape mismatches
// are field errors on "features" and "layers[i].<field>".
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
	in := f
	for i, l := range layers {
		if err := checkLayer(i, l, in); err != nil {
			return nil, 0, err
		}
		in = l.Width()
	}
	// The attention neighbourhood of every node: its out-neighbours plus
	// itself once (a self-loop does not count twice), ascending.
	nbrPtr := make([]int, n+1)
	for u := 0; u < n; u++ {
		extra := 1
		if g.HasSelfLoop(u) {
			extra = 0
		}
		nbrPtr[u+1] = nbrPtr[u] + g.OutDegree(u) + extra
	}
	nbr := make([]int32, nbrPtr[n])
	for u := 0; u < n; u++ {
		k := nbrPtr[u]
		placed := false
		for _, v := range g.Neighbors(u) {
			if !placed && int(v) >= u {
				if int(v) > u {
					nbr[k] = int32(u)
					k++
				}
				placed = true
			}
			nbr[k] = v
			k++
		}
		if !placed {
			nbr[k] = int32(u)
		}
	}
	h, in := x, f
	for _, l := range layers {
		var err error
		if h, err = layer(ctx, n, nbrPtr, nbr, h, in, l); err != nil {
			return nil, 0, err
		}
		in = l.Width()
	}
	return h, in, nil
}

func checkLayer(i int, l Layer, in int) error {
	field := func(name string) string { return fmt.Sprintf("layers[%d].%s", i, name) }
	if l.Heads < 1 {
		return kerr.Invalid(field("heads"), "must be at least 1")
	}
	if l.OutDim < 1 {
		return kerr.Invalid(field("out_dim"), "must be at least 1")
	}
	if want := l.Heads * in * l.OutDim; len(l.Weight) != want {
		return kerr.Invalid(field("weight"), "has %d values, want heads x F_in x out_dim = %d", len(l.Weight), want)
	}
	if want := l.Heads * 2 * l.OutDim; len(l.Attention) != want {
		return kerr.Invalid(field("attention"), "has %d values, want heads x 2 x out_dim = %d", len(l.Attention), want)
	}
	if len(l.Bias) != 0 && len(l.Bias) != l.Width() {
		return kerr.Invalid(field("bias"), "has %d values, want 0 or %d", len(l.Bias), l.Width())
	}
	if _, ok := gnn.Activation(l.Activation); !ok {
		return kerr.Invalid(field("activation"), "unknown activation %q", l.Activation)
	}
	if l.NegativeSlope < 0 || math.IsNaN(l.NegativeSlope) || math.IsInf(l.NegativeSlope, 0) {
		return kerr.Invalid(field("negative_slope"), "must be finite and non-negative")
	}
	return nil
}

// layer runs one attention layer on h (row-major n x in).
func layer(ctx context.Context, n int, nbrPtr []int, nbr []int32, h []float64, in int, l Layer) ([]float64, error) {
	fp, heads, width := l.OutDim, l.Heads, l.Width()
	act, _ := gnn.Activation(l.Activation)
	z := make([][]float64, heads)  // z[k]: n x fp
	es := make([][]float64, heads) // a_self · z_i
	en := make([][]float64, heads) // a_nbr · z_j
	for k := 0; k < heads; k++ {
		var err error
		z[k], err = gnn.MatMul(ctx, h, n, in, l.Weight[k*in*fp:(k+1)*in*fp], fp)
		if err != nil {
			return nil, err
		}
		a := l.Attention[k*2*fp : (k+1)*2*fp]
		es[k], en[k] = make([]float64, n), make([]float64, n)
		for i := 0; i < n; i++ {
			zi := z[k][i*fp : (i+1)*fp]
			var s, t float64
			for j, v := range zi {
				s += a[j] * v
				t += a[fp+j] * v
			}
			es[k][i], en[k][i] = s, t
		}
	}
	out := make([]float64, n*width)
	err := par.Dynamic(ctx, n, 256, par.Workers(n), func(_, lo, hi int) error {
		var alpha []float64
		acc := make([]float64, fp)
		for i := lo; i < hi; i++ {
			js := nbr[nbrPtr[i]:nbrPtr[i+1]]
			row := out[i*width : (i+1)*width]
			for k := 0; k < heads; k++ {
				// Softmax over the neighbourhood, shifted by the maximum
				// logit so exp never overflows.
				alpha = alpha[:0]
				m := math.Inf(-1)
				for _, j := range js {
					e := es[k][i] + en[k][j]
					if e < 0 {
						e *= l.NegativeSlope
					}
					alpha = append(alpha, e)
					m = max(m, e)
				}
				var sum float64
				for t := range alpha {
					alpha[t] = math.Exp(alpha[t] - m)
					sum += alpha[t]
				}
				clear(acc)
				for t, j := range js {
					c := alpha[t] / sum
					zj := z[k][int(j)*fp : (int(j)+1)*fp]
					for d := range acc {
						acc[d] += c * zj[d]
					}
				}
				if l.Mean {
					for d := range acc {
						row[d] += acc[d]
					}
				} else {
					copy(row[k*fp:(k+1)*fp], acc)
				}
			}
			for d := range row {
				if l.Mean {
					row[d] /= float64(heads)
				}
				if len(l.Bias) > 0 {
					row[d] += l.Bias[d]
				}
				row[d] = act(row[d])
			}
		}
		return nil
	})
	return out, err
}
