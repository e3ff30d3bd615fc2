package explain

import (
	"context"
	"math/bits"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
)

// maxExactFeatures bounds the coalition enumeration of probability-space
// SHAP for logistic models: 2^20 coalition values per explained row.
const maxExactFeatures = 20

// ShapResult holds exact SHAP values.
type ShapResult struct {
	Values        []float64 // row-major n×p: Values[i*p+j] is feature j's share of row i
	ExpectedValue float64   // E[f(Z)] over the background rows
	Predictions   []float64 // f(x_i), the explained output per row
}

// Shap returns the exact interventional SHAP values of the explained output
// f for each row of x (n×p) against the background rows (nb×p): the Shapley
// values of the game v(S) = mean_z f(x_S, z_S̄), where features in S take the
// row's values and the others the background row's. They satisfy
// Σ_j φ_ij = f(x_i) − E[f(Z)] (local accuracy).
//
// The explained output is the margin for linear and tree models. For a
// logistic model it is the log-odds (probability false), where
// φ_ij = w_j·(x_ij − mean_z z_j) as in shap.LinearExplainer, or the
// probability (probability true), computed by enumerating all 2^p coalitions
// (p ≤ 20). Tree ensembles use interventional TreeSHAP, exact and linear in
// the size of each tree per (row, background row) pair.
func Shap(ctx context.Context, m *Model, x []float64, n, p int, background []float64, nb int, probability bool) (*ShapResult, error) {
	if p <= 0 {
		return nil, kerr.Invalid("n_features", "must be positive, got %d", p)
	}
	if err := checkMatrix("data", x, n, p, "n_samples"); err != nil {
		return nil, err
	}
	if err := checkMatrix("background", background, nb, p, "n_background"); err != nil {
		return nil, err
	}
	if err := m.Validate(p); err != nil {
		return nil, modelField(err)
	}
	if probability && m.Kind != Logistic {
		return nil, kerr.Invalid("output", "\"probability\" applies to logistic models only")
	}
	if probability && p > maxExactFeatures {
		return nil, kerr.Invalid("n_features", "exact probability-space SHAP enumerates 2^n_features coalitions and allows at most %d features; use output \"margin\"", maxExactFeatures)
	}
	res := &ShapResult{Values: make([]float64, n*p), Predictions: make([]float64, n)}
	explained := m.Margin
	if probability {
		explained = m.Predict
	}
	for k := range nb {
		res.ExpectedValue += explained(background[k*p : (k+1)*p])
	}
	res.ExpectedValue /= float64(nb)

	var err error
	switch {
	case m.Kind == TreeEnsemble:
		err = treeShap(ctx, m, x, n, p, background, nb, res.Values)
	case probability:
		err = logisticProbabilityShap(ctx, m, x, n, p, background, nb, res.Values)
	default:
		linearShap(m, x, n, p, background, nb, res.Values)
	}
	if err != nil {
		return nil, err
	}
	for i := range n {
		res.Predictions[i] = explained(x[i*p : (i+1)*p])
	}
	return res, nil
}

// linearShap: for an additive model the game is additive, so feature j's
// Shapley value is its own term's deviation from the background mean.
func linearShap(m *Model, x []float64, n, p int, background []float64, nb int, out []float64) {
	mean := make([]float64, p)
	for k := range nb {
		for j, v := range background[k*p : (k+1)*p] {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(nb)
	}
	for i := range n {
		for j := range p {
			out[i*p+j] = m.Coefficients[j] * (x[i*p+j] - mean[j])
		}
	}
}

// logisticProbabilityShap evaluates v(S) for every coalition S (the mean
// over background rows of σ(intercept + w·(x_S, z_S̄))) and sums the
// Shapley-weighted marginal contributions directly.
func logisticProbabilityShap(ctx context.Context, m *Model, x []float64, n, p int, background []float64, nb int, out []float64) error {
	size := 1 << p
	// weight[s] = s!(p−s−1)!/p! = 1/(p·C(p−1, s)).
	weight := make([]float64, p)
	binom := 1.0
	for s := range p {
		weight[s] = 1 / (float64(p) * binom)
		binom = binom * float64(p-1-s) / float64(s+1)
	}
	return par.For(ctx, n, 1, func(i, _, _ int) error {
		xi := x[i*p : (i+1)*p]
		v := make([]float64, size)
		sums := make([]float64, size)
		d := make([]float64, p)
		for k := range nb {
			if err := ctx.Err(); err != nil {
				return err
			}
			z := background[k*p : (k+1)*p]
			base := m.Intercept
			for j, c := range m.Coefficients {
				base += c * z[j]
				d[j] = c * (xi[j] - z[j])
			}
			sums[0] = base
			v[0] += sigmoid(base)
			for s := 1; s < size; s++ {
				low := bits.TrailingZeros(uint(s))
				sums[s] = sums[s&(s-1)] + d[low]
				v[s] += sigmoid(sums[s])
			}
		}
		for s := range v {
			v[s] /= float64(nb)
		}
		phi := out[i*p : (i+1)*p]
		for j := range p {
			bit := 1 << j
			acc := 0.0
			for s := range size {
				if s&bit == 0 {
					acc += weight[bits.OnesCount(uint(s))] * (v[s|bit] - v[s])
				}
			}
			phi[j] = acc
		}
		return nil
	})
}

// treeShap accumulates, for every (row, background row, tree), the exact
// Shapley values of v(S) = tree(x_S, z_S̄).
//
// Walking the tree with x and z together, a node where they go the same way
// has one successor; where they part, the walk follows both: the x side puts
// the split feature in S (set A), the z side keeps it out (set B). A feature
// met again on the same path must go the way its first split decided. Each
// leaf reached is worth value·[A ⊆ S, B ∩ S = ∅], whose Shapley value is
// value·(|A|−1)!|B|!/(|A|+|B|)! for each feature of A and
// −value·|A|!(|B|−1)!/(|A|+|B|)! for each feature of B.
func treeShap(ctx context.Context, m *Model, x []float64, n, p int, background []float64, nb int, out []float64) error {
	scale := 1 / float64(nb)
	if m.MeanOfTrees {
		scale /= float64(len(m.Trees))
	}
	return par.For(ctx, n, 1, func(i, _, _ int) error {
		w := &treeWalker{
			x:     x[i*p : (i+1)*p],
			phi:   out[i*p : (i+1)*p],
			state: make([]int8, p),
		}
		for k := range nb {
			if err := ctx.Err(); err != nil {
				return err
			}
			w.z = background[k*p : (k+1)*p]
			for t := range m.Trees {
				w.tree = &m.Trees[t]
				w.scale = scale
				w.walk(0, 0, 0)
			}
		}
		return nil
	})
}

const (
	inNone int8 = iota
	inA         // feature follows x: in the coalition
	inB         // feature follows z: outside the coalition
)

type treeWalker struct {
	tree  *Tree
	x, z  []float64
	phi   []float64
	scale float64
	state []int8 // per feature: inNone, inA, inB on the current path
	path  []int  // features with a state, in the order they were set
}

func (w *treeWalker) walk(node, nA, nB int) {
	t := w.tree
	for t.Left[node] != -1 {
		f := t.Feature[node]
		xLeft := w.x[f] <= t.Threshold[node]
		zLeft := w.z[f] <= t.Threshold[node]
		switch {
		case xLeft == zLeft:
			node = child(t, node, xLeft)
		case w.state[f] == inA:
			node = child(t, node, xLeft)
		case w.state[f] == inB:
			node = child(t, node, zLeft)
		default:
			w.state[f] = inA
			w.path = append(w.path, f)
			w.walk(child(t, node, xLeft), nA+1, nB)
			w.state[f] = inB
			w.walk(child(t, node, zLeft), nA, nB+1)
			w.state[f] = inNone
			w.path = w.path[:len(w.path)-1]
			return
		}
	}
	if nA+nB == 0 {
		return // x and z reach the same leaf: no feature matters
	}
	v := t.Value[node] * w.scale
	var plus, minus float64
	if nA > 0 {
		plus = v * orderWeight(nA-1, nB)
	}
	if nB > 0 {
		minus = v * orderWeight(nA, nB-1)
	}
	for _, f := range w.path {
		if w.state[f] == inA {
			w.phi[f] += plus
		} else {
			w.phi[f] -= minus
		}
	}
}

func child(t *Tree, node int, left bool) int {
	if left {
		return t.Left[node]
	}
	return t.Right[node]
}

// orderWeight is a!·b!/(a+b+1)!: the probability that, in a uniformly random
// order of a+b+1 players, a given player comes after a fixed set of a others
// and before a fixed set of b others.
func orderWeight(a, b int) float64 {
	if a < b {
		a, b = b, a
	}
	r := 1.0
	for k := 1; k <= b; k++ {
		r *= float64(k) / float64(a+k)
	}
	return r / float64(a+b+1)
}
