package regression

import (
	"context"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// RidgeResult is a ridge fit.
type RidgeResult struct {
	Coefficients []float64
	Intercept    float64
	RSquared     float64 // coefficient of determination on the training data (Ridge.score)
}

// gramGroups is the fixed number of row groups whose partial Gram matrices
// are summed in order: enough to keep two or more cores busy, few enough that
// the p×p partials stay small, and independent of GOMAXPROCS so the rounding
// is the same on every machine.
const gramGroups = 8

// maxRidgeCond is the largest condition number of XᵀX + alpha·I solved:
// beyond it the Cholesky solution has fewer than 4 correct digits
// (cond·eps > 1e-4), which for alpha 0 means collinear features.
const maxRidgeCond = 1e-4 / 0x1p-52

// Ridge minimises ‖y − Xw − b‖² + alpha·‖w‖² (the intercept b is not
// penalised), exactly as sklearn.linear_model.Ridge(alpha, fit_intercept)
// with its default dense solver: the data are centred when fitting an
// intercept, and (XᵀX + alpha·I)w = Xᵀy is solved by Cholesky.
//
// sklearn falls back to an SVD least-squares solve when XᵀX + alpha·I is
// singular (alpha = 0 with collinear features); this implementation rejects
// that case instead, naming alpha, and also rejects a numerically singular
// matrix (condition number above maxRidgeCond, ≈ 4.5e11).
func Ridge(ctx context.Context, x []float64, n, p int, y []float64, alpha float64, fitIntercept bool) (*RidgeResult, error) {
	if err := checkXY(x, n, p, y); err != nil {
		return nil, err
	}
	if !(alpha >= 0) {
		return nil, kerr.Invalid("alpha", "must be non-negative, got %v", alpha)
	}

	groups := rowGroups(n)
	xMean := make([]float64, p)
	yMean := 0.0
	if fitIntercept {
		// Column means, summed per group and then across groups in order.
		partX := make([][]float64, len(groups))
		partY := make([]float64, len(groups))
		err := par.For(ctx, len(groups), 1, func(g, _, _ int) error {
			sx := make([]float64, p)
			sy := 0.0
			for i := groups[g][0]; i < groups[g][1]; i++ {
				if (i-groups[g][0])%chunkRows == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				for j, v := range x[i*p : (i+1)*p] {
					sx[j] += v
				}
				sy += y[i]
			}
			partX[g], partY[g] = sx, sy
			return nil
		})
		if err != nil {
			return nil, err
		}
		for g := range groups {
			for j := range p {
				xMean[j] += partX[g][j]
			}
			yMean += partY[g]
		}
		for j := range xMean {
			xMean[j] /= float64(n)
		}
		yMean /= float64(n)
	}

	// Gram matrix XcᵀXc (upper triangle) and Xcᵀyc of the centred data.
	partA := make([][]float64, len(groups))
	partB := make([][]float64, len(groups))
	err := par.For(ctx, len(groups), 1, func(g, _, _ int) error {
		a := blas64.Symmetric{N: p, Stride: p, Data: make([]float64, p*p), Uplo: blas.Upper}
		b := make([]float64, p)
		block := make([]float64, chunkRows*p)
		for lo := groups[g][0]; lo < groups[g][1]; lo += chunkRows {
			if err := ctx.Err(); err != nil {
				return err
			}
			hi := min(lo+chunkRows, groups[g][1])
			rows := hi - lo
			for i := lo; i < hi; i++ {
				dst := block[(i-lo)*p : (i-lo+1)*p]
				yc := y[i] - yMean
				for j, v := range x[i*p : (i+1)*p] {
					c := v - xMean[j]
					dst[j] = c
					b[j] += c * yc
				}
			}
			blas64.Syrk(blas.Trans, 1, blas64.General{Rows: rows, Cols: p, Stride: p, Data: block[:rows*p]}, 1, a)
		}
		partA[g], partB[g] = a.Data, b
		return nil
	})
	if err != nil {
		return nil, err
	}
	a := mat.NewSymDense(p, nil)
	rhs := mat.NewVecDense(p, nil)
	for g := range groups {
		for i := range p {
			for j := i; j < p; j++ {
				a.SetSym(i, j, a.At(i, j)+partA[g][i*p+j])
			}
			rhs.SetVec(i, rhs.AtVec(i)+partB[g][i])
		}
	}
	for i := range p {
		a.SetSym(i, i, a.At(i, i)+alpha)
	}
	var chol mat.Cholesky
	if !chol.Factorize(a) {
		return nil, kerr.Invalid("alpha", "XᵀX + alpha·I is singular (collinear or constant features); use a positive alpha")
	}
	// With alpha 0 and collinear columns rounding often leaves XᵀX barely
	// positive definite, so the factorisation succeeds and the solve
	// returns an arbitrary split between the collinear columns (issue 13:
	// 13% of such requests answered 200, unlike scikit-learn). Any matrix
	// whose condition number leaves fewer than 4 correct digits is refused
	// the same way as an exactly singular one.
	if c := chol.Cond(); !(c <= maxRidgeCond) {
		return nil, kerr.Invalid("alpha", "XᵀX + alpha·I is numerically singular (condition number %.3g; collinear or constant features); use a positive alpha", c)
	}
	var w mat.VecDense
	if err := chol.SolveVecTo(&w, rhs); err != nil {
		return nil, kerr.Invalid("alpha", "XᵀX + alpha·I is too ill-conditioned to solve: %v", err)
	}
	res := &RidgeResult{Coefficients: make([]float64, p)}
	for j := range p {
		res.Coefficients[j] = w.AtVec(j)
	}
	if fitIntercept {
		dot := 0.0
		for j := range p {
			dot += xMean[j] * res.Coefficients[j]
		}
		res.Intercept = yMean - dot
	}
	res.RSquared = rSquared(x, n, p, y, res.Coefficients, res.Intercept)
	return res, nil
}

// rowGroups splits n rows into at most gramGroups contiguous ranges.
func rowGroups(n int) [][2]int {
	g := min(gramGroups, max(1, (n+chunkRows-1)/chunkRows))
	out := make([][2]int, g)
	for i := range g {
		out[i] = [2]int{i * n / g, (i + 1) * n / g}
	}
	return out
}

// rSquared is sklearn's r2_score of the fitted values: 1 − SSR/TSS, with 1
// for a perfect fit of a constant target and 0 for an imperfect one.
func rSquared(x []float64, n, p int, y, w []float64, b float64) float64 {
	mean := 0.0
	for _, v := range y {
		mean += v
	}
	mean /= float64(n)
	var ssr, tss float64
	for i := range n {
		f := b
		for j, v := range x[i*p : (i+1)*p] {
			f += v * w[j]
		}
		e := y[i] - f
		ssr += e * e
		d := y[i] - mean
		tss += d * d
	}
	if tss == 0 {
		if ssr == 0 {
			return 1
		}
		return 0
	}
	return 1 - ssr/tss
}
