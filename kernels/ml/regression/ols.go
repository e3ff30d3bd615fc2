package regression

import (
	"context"
	"math"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// OLSResult is an ordinary least squares fit with the statistics of
// statsmodels' OLSResults. Per-coefficient slices follow the feature order;
// the intercept's statistics are separate fields (zero without an intercept).
type OLSResult struct {
	Coefficients           []float64
	Intercept              float64
	StandardErrors         []float64 // bse
	InterceptStandardError float64
	TValues                []float64
	InterceptTValue        float64
	PValues                []float64 // two-sided, Student t with DFResid degrees of freedom
	InterceptPValue        float64
	RSquared               float64 // centred with an intercept, uncentred without
	AdjRSquared            float64
	Residuals              []float64 // target − fitted, per sample
	Scale                  float64   // residual variance SSR / DFResid
	DFResid                float64   // n_samples − rank
	Rank                   int       // numerical rank of the design matrix
}

// pinvRcond is statsmodels' pinv_extended cutoff: singular values at or
// below rcond·σmax are treated as zero when forming the pseudo-inverse.
const pinvRcond = 1e-15

// OLS fits target ≈ intercept + data·coefficients by least squares, exactly
// as statsmodels.api.OLS(target, add_constant(data)).fit() (method "pinv";
// without an intercept, OLS(target, data, hasconst=False)).
//
// x is row-major n×p. The fit is numerically stable for ill-conditioned
// designs: [1 X y] is reduced to its R factor by a tall-skinny QR (row blocks
// factorised in parallel, their R factors stacked and factorised again), and
// the k×k factor R gives the fit: by triangular inversion when R is well
// conditioned (then pinv is the inverse), else by statsmodels' pseudo-inverse
// from the SVD of R, whose singular values are the design matrix's, so
// rank-deficient designs get the minimum-norm solution as with statsmodels.
func OLS(ctx context.Context, x []float64, n, p int, y []float64, fitIntercept bool) (*OLSResult, error) {
	if err := checkXY(x, n, p, y); err != nil {
		return nil, err
	}
	k := p
	if fitIntercept {
		k++
	}
	if k > maxParams {
		return nil, kerr.Invalid("n_features", "%d parameters exceed the limit of %d for regression", k, maxParams)
	}
	if n <= k {
		return nil, kerr.Invalid("n_samples", "%d samples cannot estimate %d parameters with a residual variance; need more samples than parameters", n, k)
	}
	cols := k + 1 // design columns plus the target

	// Tall-skinny QR: per-block R factors, then the R of their stack.
	// Blocks of at least 8·cols rows keep the stacked R factors (cols rows
	// per block) to an eighth of the data, so the second QR stays cheap.
	ranges := chunks(n, 8*cols)
	blockR := make([]*mat.Dense, len(ranges))
	err := par.For(ctx, len(ranges), 1, func(c, _, _ int) error {
		lo, hi := ranges[c][0], ranges[c][1]
		block := mat.NewDense(hi-lo, cols, nil)
		for i := lo; i < hi; i++ {
			row := block.RawRowView(i - lo)
			off := 0
			if fitIntercept {
				row[0] = 1 // statsmodels' add_constant prepends the constant
				off = 1
			}
			copy(row[off:off+p], x[i*p:(i+1)*p])
			row[k] = y[i]
		}
		blockR[c] = upperR(block)
		return nil
	})
	if err != nil {
		return nil, err
	}
	r := blockR[0]
	if len(blockR) > 1 {
		stack := mat.NewDense(len(blockR)*cols, cols, nil)
		for c, br := range blockR {
			stack.Slice(c*cols, (c+1)*cols, 0, cols).(*mat.Dense).Copy(br)
		}
		r = upperR(stack)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// X = Q₁R₁₁ and Q₁ᵀy = z, so the coefficients and pinv(XᵀX) follow
	// from the small k×k factor alone.
	r11 := mat.DenseCopyOf(r.Slice(0, k, 0, k))
	z := make([]float64, k)
	for i := range k {
		z[i] = r.At(i, k)
	}
	beta, covDiag, rank, ok := solveTriangular(r11, z, n)
	if !ok {
		if beta, covDiag, rank, ok = solvePinv(r11, z, n); !ok {
			return nil, kerr.Invalid("data", "the singular value decomposition of the design matrix did not converge")
		}
	}

	// Residuals and sums of squares, reduced per block in a fixed order.
	resid := make([]float64, n)
	type sums struct{ y, ssr float64 }
	part := make([]sums, len(ranges))
	err = par.For(ctx, len(ranges), 1, func(c, _, _ int) error {
		lo, hi := ranges[c][0], ranges[c][1]
		var ps sums
		for i := lo; i < hi; i++ {
			fit := 0.0
			off := 0
			if fitIntercept {
				fit = beta[0]
				off = 1
			}
			row := x[i*p : (i+1)*p]
			for j, xv := range row {
				fit += xv * beta[off+j]
			}
			e := y[i] - fit
			resid[i] = e
			ps.y += y[i]
			ps.ssr += e * e
		}
		part[c] = ps
		return nil
	})
	if err != nil {
		return nil, err
	}
	var sumY, ssr float64
	for _, ps := range part {
		sumY += ps.y
		ssr += ps.ssr
	}
	mean := sumY / float64(n)
	var tss float64 // centred with an intercept, uncentred without
	for _, yv := range y {
		d := yv
		if fitIntercept {
			d -= mean
		}
		tss += d * d
	}

	dfResid := float64(n - rank)
	scale := ssr / dfResid
	kConst := 0.0
	if fitIntercept {
		kConst = 1
	}
	r2 := 1 - ssr/tss
	res := &OLSResult{
		Residuals:   resid,
		Scale:       scale,
		DFResid:     dfResid,
		Rank:        rank,
		RSquared:    r2,
		AdjRSquared: 1 - (float64(n)-kConst)/dfResid*(1-r2),
	}
	tdist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: dfResid}
	se := make([]float64, k)
	tv := make([]float64, k)
	pv := make([]float64, k)
	for j := range k {
		se[j] = math.Sqrt(scale * covDiag[j])
		tv[j] = beta[j] / se[j]
		pv[j] = 2 * tdist.Survival(math.Abs(tv[j]))
	}
	off := 0
	if fitIntercept {
		res.Intercept, res.InterceptStandardError, res.InterceptTValue, res.InterceptPValue = beta[0], se[0], tv[0], pv[0]
		off = 1
	}
	res.Coefficients = beta[off:]
	res.StandardErrors = se[off:]
	res.TValues = tv[off:]
	res.PValues = pv[off:]
	return res, nil
}

// upperR returns the cols×cols upper-triangular R of a QR factorisation of
// a (rows ≥ cols).
func upperR(a *mat.Dense) *mat.Dense {
	_, cols := a.Dims()
	var qr mat.QR
	qr.Factorize(a)
	var full mat.Dense
	qr.RTo(&full)
	return mat.DenseCopyOf(full.Slice(0, cols, 0, cols))
}

const eps = 0x1p-52 // float64 machine epsilon, as numpy's finfo(float).eps

// solveTriangular handles the usual, well-conditioned case cheaply: with
// R₁₁ comfortably invertible, pinv is the inverse, so beta = R₁₁⁻¹z and
// diag(pinv(XᵀX)) are the squared row norms of R₁₁⁻¹. It declines (ok false)
// when R₁₁'s estimated reciprocal condition number is small enough that
// statsmodels' pinv cutoff or numpy's rank tolerance could matter; the SVD
// path then decides.
func solveTriangular(r11 *mat.Dense, z []float64, n int) (beta, covDiag []float64, rank int, ok bool) {
	k := len(z)
	data := make([]float64, k*k) // inverted in place; r11 stays for the SVD path
	for i := range k {
		copy(data[i*k:(i+1)*k], r11.RawRowView(i))
	}
	tri := blas64.Triangular{N: k, Stride: k, Data: data, Uplo: blas.Upper, Diag: blas.NonUnit}
	rcond := lapack64.Trcon(lapack.MaxColumnSum, tri, make([]float64, 3*k), make([]int, k))
	// The 1-norm estimate is within a factor √k of the 2-norm one; the margin
	// of 1e3 keeps the smallest singular value far above numpy's rank
	// tolerance σmax·max(n, k)·eps.
	if !(rcond > max(1e-6, 1e3*float64(max(n, k))*eps*math.Sqrt(float64(k)))) {
		return nil, nil, 0, false
	}
	if !lapack64.Trtri(tri) {
		return nil, nil, 0, false
	}
	beta = make([]float64, k)
	covDiag = make([]float64, k)
	for j := range k {
		row := tri.Data[j*k : (j+1)*k]
		var b, c float64
		for l := j; l < k; l++ {
			b += row[l] * z[l]
			c += row[l] * row[l]
		}
		beta[j], covDiag[j] = b, c
	}
	return beta, covDiag, k, true
}

// solvePinv is statsmodels' pinv path on R₁₁ = U·S·Vᵀ (whose singular
// values are the design matrix's): beta = V·S⁺·Uᵀz and
// pinv(X)·pinv(X)ᵀ = V·(S⁺)²·Vᵀ, with singular values at or below
// 1e-15·σmax dropped, and the rank counted with numpy's matrix_rank
// tolerance σmax·max(n, k)·eps.
func solvePinv(r11 *mat.Dense, z []float64, n int) (beta, covDiag []float64, rank int, ok bool) {
	k := len(z)
	var svd mat.SVD
	if !svd.Factorize(r11, mat.SVDThin) {
		return nil, nil, 0, false
	}
	s := svd.Values(nil)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	smax := 0.0
	for _, sv := range s {
		smax = max(smax, sv)
	}
	// A singular value the rank test counts as zero is dropped from the
	// pseudo-inverse too. statsmodels' cutoff alone (1e-15·σmax) is not
	// enough here: R₁₁ comes from a two-level QR over thousands of rows,
	// whose rounding leaves an exactly rank-deficient design's null
	// singular values near 1e-14·σmax instead of numpy's ~1e-16, and
	// inverting that noise gave coefficients of ±1e10 (issue 13) where
	// statsmodels' pinv of X drops it and returns the minimum-norm solution.
	rankTol := smax * float64(max(n, k)) * eps
	cutoff := max(pinvRcond*smax, rankTol)
	sinv := make([]float64, len(s))
	for i, sv := range s {
		if sv > cutoff {
			sinv[i] = 1 / sv
		}
		if sv > rankTol {
			rank++
		}
	}
	utz := make([]float64, len(s))
	for l := range s {
		acc := 0.0
		for i := range k {
			acc += u.At(i, l) * z[i]
		}
		utz[l] = acc * sinv[l]
	}
	beta = make([]float64, k)
	covDiag = make([]float64, k)
	for j := range k {
		var b, c float64
		for l := range s {
			vjl := v.At(j, l)
			b += vjl * utz[l]
			c += vjl * vjl * sinv[l] * sinv[l]
		}
		beta[j], covDiag[j] = b, c
	}
	return beta, covDiag, rank, true
}
