//go:build cuda || cudaemu

package gpu

import (
	"context"

	"github.com/gokernels/gokernels/cuda"
)

// PageRank implements cuda.Kernels (graph.cu pr_*).
func (d *Device) PageRank(ctx context.Context, j *cuda.PageRankJob) (*cuda.PageRankResult, error) {
	var res *cuda.PageRankResult
	err := d.do(ctx, "pagerank", func() error {
		n := int64(j.N)
		nf := float64(j.N)
		ptr, err := upload(d, j.InPtr)
		if err != nil {
			return err
		}
		idx, err := upload(d, j.InIdx)
		if err != nil {
			return err
		}
		var w dptr
		if j.InW != nil {
			if w, err = upload(d, j.InW); err != nil {
				return err
			}
		}
		inv, err := upload(d, j.Inv)
		if err != nil {
			return err
		}
		x0 := make([]float64, n)
		for i := range x0 {
			x0[i] = 1 / nf
		}
		x, err := upload(d, x0)
		if err != nil {
			return err
		}
		next, err := d.alloc(n * 8)
		if err != nil {
			return err
		}
		y, err := d.alloc(n * 8)
		if err != nil {
			return err
		}
		nd := int64(len(j.Dangling))
		var dang dptr
		if nd > 0 {
			if dang, err = upload(d, j.Dangling); err != nil {
				return err
			}
		}
		grid, dgrid := d.gridFor(n), d.gridFor(nd)
		diffPartial, err := d.alloc(int64(grid) * 8)
		if err != nil {
			return err
		}
		dPartial, err := d.alloc(int64(dgrid) * 8)
		if err != nil {
			return err
		}
		dsum, err := d.zeroed(8)
		if err != nil {
			return err
		}
		diff, err := d.alloc(8)
		if err != nil {
			return err
		}
		teleport := (1 - j.Damping) / nf
		h := make([]float64, 1)
		res = &cuda.PageRankResult{Iterations: j.MaxIter}
		for it := 1; it <= j.MaxIter; it++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := d.launch("pr_scale", grid, tpb, 0, x, inv, y, n); err != nil {
				return err
			}
			if nd > 0 {
				if err := d.launch("pr_dangling", dgrid, tpb, 0, x, dang, nd, dPartial); err != nil {
					return err
				}
				if err := d.launch("reduce_sum", 1, tpb, 0, dPartial, int64(dgrid), dsum); err != nil {
					return err
				}
			}
			if err := d.launch("pr_step", grid, tpb, 0, ptr, idx, w, j.InW != nil, y, x, next, dsum,
				j.Damping, teleport, nf, n, diffPartial); err != nil {
				return err
			}
			if err := d.launch("reduce_sum", 1, tpb, 0, diffPartial, int64(grid), diff); err != nil {
				return err
			}
			if err := download(d, h, diff); err != nil {
				return err
			}
			x, next = next, x
			if h[0] < nf*j.Tol {
				res.Iterations, res.Converged = it, true
				break
			}
		}
		res.Scores = make([]float64, n)
		return download(d, res.Scores, x)
	})
	return res, err
}

// Betweenness implements cuda.Kernels (graph.cu bc_brandes): the sources
// go out in rounds of 8 per block, so a cancelled request stops between
// rounds.
func (d *Device) Betweenness(ctx context.Context, j *cuda.BetweennessJob) ([]float64, error) {
	var bc []float64
	err := d.do(ctx, "betweenness", func() error {
		n := int64(j.N)
		b := cuda.BetweennessBlocks(j.N, d.info)
		ptr, err := upload(d, j.Ptr)
		if err != nil {
			return err
		}
		idx, err := upload(d, j.Idx)
		if err != nil {
			return err
		}
		depth, err := d.alloc(b * n * 4)
		if err != nil {
			return err
		}
		sigma, err := d.alloc(b * n * 8)
		if err != nil {
			return err
		}
		coef, err := d.alloc(b * n * 8)
		if err != nil {
			return err
		}
		order, err := d.alloc(b * n * 4)
		if err != nil {
			return err
		}
		level, err := d.alloc(b * (n + 2) * 4)
		if err != nil {
			return err
		}
		out, err := d.zeroed(n * 8)
		if err != nil {
			return err
		}
		round := b * 8
		for first := int64(0); first < n; first += round {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := d.launch("bc_brandes", int(b), tpb, 0, ptr, idx, n, first, min(n, first+round),
				depth, sigma, coef, order, level, out); err != nil {
				return err
			}
			if err := d.sync("betweenness round"); err != nil {
				return err
			}
		}
		bc = make([]float64, n)
		return download(d, bc, out)
	})
	return bc, err
}

// Degree implements cuda.Kernels (graph.cu deg_centrality).
func (d *Device) Degree(ctx context.Context, j *cuda.DegreeJob) ([]float64, error) {
	var out []float64
	err := d.do(ctx, "degree", func() error {
		n := int64(j.N)
		ptr, err := upload(d, j.Ptr)
		if err != nil {
			return err
		}
		idx, err := upload(d, j.Idx)
		if err != nil {
			return err
		}
		inptr := ptr
		if j.InPtr != nil {
			if inptr, err = upload(d, j.InPtr); err != nil {
				return err
			}
		}
		o, err := d.alloc(n * 8)
		if err != nil {
			return err
		}
		if err := d.launch("deg_centrality", d.gridFor(n), tpb, 0, ptr, idx, inptr, n, int64(j.Mode), j.Directed, j.Scale, o); err != nil {
			return err
		}
		out = make([]float64, n)
		return download(d, out, o)
	})
	return out, err
}

// WeakComponents implements cuda.Kernels (graph.cu cc_*).
func (d *Device) WeakComponents(ctx context.Context, n int, src, dst []int32) ([]int32, error) {
	var rep []int32
	err := d.do(ctx, "components", func() error {
		nn, m := int64(n), int64(len(src))
		parent, err := d.alloc(nn * 4)
		if err != nil {
			return err
		}
		if err := d.launch("cc_init", d.gridFor(nn), tpb, 0, parent, nn); err != nil {
			return err
		}
		if m > 0 {
			s, err := upload(d, src)
			if err != nil {
				return err
			}
			t, err := upload(d, dst)
			if err != nil {
				return err
			}
			if err := d.launch("cc_hook", d.gridFor(m), tpb, 0, s, t, m, parent); err != nil {
				return err
			}
		}
		if err := d.launch("cc_compress", d.gridFor(nn), tpb, 0, parent, nn); err != nil {
			return err
		}
		rep = make([]int32, n)
		return download(d, rep, parent)
	})
	return rep, err
}

// Triangles implements cuda.Kernels (graph.cu tc_count).
func (d *Device) Triangles(ctx context.Context, optr, oidx []int32) ([]int64, error) {
	var counts []int64
	err := d.do(ctx, "triangles", func() error {
		n, m := int64(len(optr)-1), int64(len(oidx))
		c, err := d.zeroed(n * 8)
		if err != nil {
			return err
		}
		if m > 0 {
			p, err := upload(d, optr)
			if err != nil {
				return err
			}
			q, err := upload(d, oidx)
			if err != nil {
				return err
			}
			if err := d.launch("tc_count", d.gridFor(m), tpb, 0, p, q, n, m, c); err != nil {
				return err
			}
		}
		counts = make([]int64, n)
		return d.dtoh(ptrOf(counts), c, n*8)
	})
	return counts, err
}

// Covariance implements cuda.Kernels (correlation.cu cov_syrk).
func (d *Device) Covariance(ctx context.Context, centred []float64, n, t int) ([]float64, error) {
	var cov []float64
	err := d.do(ctx, "covariance", func() error {
		x, err := upload(d, centred)
		if err != nil {
			return err
		}
		nn := int64(n)
		c, err := d.alloc(nn * nn * 8)
		if err != nil {
			return err
		}
		tiles := int((nn + 15) / 16)
		if err := d.launch2("cov_syrk", tiles, tiles, 16, 16, 0, x, nn, int64(t), c); err != nil {
			return err
		}
		cov = make([]float64, nn*nn)
		return download(d, cov, c)
	})
	return cov, err
}
