package explain

import (
	"context"
	"fmt"
	"math"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Scoring is the score whose drop measures a feature's importance.
type Scoring int

const (
	// ScoreDefault is the model's own score, as sklearn's estimator.score:
	// accuracy for a logistic model, R² otherwise.
	ScoreDefault Scoring = iota
	ScoreR2
	ScoreNegMSE
	ScoreNegMAE
	ScoreAccuracy
	ScoreNegLogLoss
)

// ImportanceResult is permutation importance as
// sklearn.inspection.permutation_importance returns it.
type ImportanceResult struct {
	BaselineScore   float64
	ImportancesMean []float64 // per feature
	ImportancesStd  []float64 // per feature, population standard deviation
	Importances     []float64 // row-major n_features × nRepeats: baseline − permuted score
}

// PermutationImportance measures, for each feature, how much the score drops
// when that feature's column is shuffled, exactly as
// sklearn.inspection.permutation_importance(model, X, y, scoring=...,
// n_repeats=nRepeats, random_state=seed): the same numpy RandomState
// permutations (each feature gets a generator seeded with
// RandomState(seed).randint(2**31), and each repeat shuffles the
// already-shuffled index array and re-permutes the already-permuted column).
//
// Scores follow sklearn's scorers: "predict" scorers (R², errors, accuracy)
// see the predicted class of a logistic model, log loss sees its probability.
// Features are processed in parallel.
func PermutationImportance(ctx context.Context, m *Model, x []float64, n, p int, y []float64, scoring Scoring, nRepeats int, seed uint32) (*ImportanceResult, error) {
	if p <= 0 {
		return nil, kerr.Invalid("n_features", "must be positive, got %d", p)
	}
	if err := checkMatrix("data", x, n, p, "n_samples"); err != nil {
		return nil, err
	}
	if len(y) != n {
		return nil, kerr.Invalid("target", "has %d values, want n_samples = %d", len(y), n)
	}
	for i, v := range y {
		if !finite(v) {
			return nil, kerr.Invalid(fmt.Sprintf("target[%d]", i), "must be finite")
		}
	}
	if err := m.Validate(p); err != nil {
		return nil, modelField(err)
	}
	if nRepeats <= 0 {
		return nil, kerr.Invalid("n_repeats", "must be positive, got %d", nRepeats)
	}
	if scoring == ScoreDefault {
		scoring = ScoreR2
		if m.Kind == Logistic {
			scoring = ScoreAccuracy
		}
	}
	if scoring == ScoreNegLogLoss && m.Kind != Logistic {
		return nil, kerr.Invalid("scoring", "neg_log_loss needs a logistic model")
	}
	if scoring == ScoreAccuracy && m.Kind != Logistic {
		return nil, kerr.Invalid("scoring", "accuracy needs a logistic model")
	}
	if scoring == ScoreAccuracy || scoring == ScoreNegLogLoss {
		for i, v := range y {
			if v != 0 && v != 1 {
				return nil, kerr.Invalid(fmt.Sprintf("target[%d]", i), "class labels must be 0 or 1, got %v", v)
			}
		}
	}
	sc := scorer{kind: scoring, model: m, y: y}

	// Margins of the unpermuted data; linear models update them per column.
	margin := make([]float64, n)
	for i := range n {
		margin[i] = m.Margin(x[i*p : (i+1)*p])
	}
	res := &ImportanceResult{
		BaselineScore:   sc.score(margin),
		ImportancesMean: make([]float64, p),
		ImportancesStd:  make([]float64, p),
		Importances:     make([]float64, p*nRepeats),
	}
	randomSeed := newRandomState(seed).randint31()

	err := par.For(ctx, p, 1, func(j, _, _ int) error {
		rs := newRandomState(randomSeed)
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		col := make([]float64, n)
		next := make([]float64, n)
		for i := range n {
			col[i] = x[i*p+j]
		}
		perm := make([]float64, n)
		row := make([]float64, p)
		for r := range nRepeats {
			if err := ctx.Err(); err != nil {
				return err
			}
			rs.shuffle(idx)
			for i, k := range idx {
				next[i] = col[k]
			}
			col, next = next, col
			for i := range n {
				if m.Kind == TreeEnsemble {
					copy(row, x[i*p:(i+1)*p])
					row[j] = col[i]
					perm[i] = m.Margin(row)
				} else {
					perm[i] = margin[i] + m.Coefficients[j]*(col[i]-x[i*p+j])
				}
			}
			res.Importances[j*nRepeats+r] = res.BaselineScore - sc.score(perm)
		}
		imp := res.Importances[j*nRepeats : (j+1)*nRepeats]
		mean := 0.0
		for _, v := range imp {
			mean += v
		}
		mean /= float64(nRepeats)
		ss := 0.0
		for _, v := range imp {
			ss += (v - mean) * (v - mean)
		}
		res.ImportancesMean[j] = mean
		res.ImportancesStd[j] = math.Sqrt(ss / float64(nRepeats))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

type scorer struct {
	kind  Scoring
	model *Model
	y     []float64
}

// score evaluates sklearn's scorer on model margins.
func (s scorer) score(margin []float64) float64 {
	n := float64(len(s.y))
	pred := func(i int) float64 {
		if s.model.Kind == Logistic {
			if margin[i] > 0 {
				return 1
			}
			return 0
		}
		return margin[i]
	}
	switch s.kind {
	case ScoreNegMSE, ScoreNegMAE:
		acc := 0.0
		for i, yv := range s.y {
			e := yv - pred(i)
			if s.kind == ScoreNegMSE {
				acc += e * e
			} else {
				acc += math.Abs(e)
			}
		}
		return -acc / n
	case ScoreAccuracy:
		hits := 0
		for i, yv := range s.y {
			if pred(i) == yv {
				hits++
			}
		}
		return float64(hits) / n
	case ScoreNegLogLoss:
		// sklearn.metrics.log_loss on predict_proba: both class columns are
		// clipped to [eps, 1−eps] and renormalised.
		const eps = 2.220446049250313e-16
		acc := 0.0
		for i, yv := range s.y {
			p1 := sigmoid(margin[i])
			p0 := min(max(1-p1, eps), 1-eps)
			p1 = min(max(p1, eps), 1-eps)
			py := p0
			if yv == 1 {
				py = p1
			}
			acc -= math.Log(py / (p0 + p1))
		}
		return -acc / n
	default: // R²
		mean := 0.0
		for _, yv := range s.y {
			mean += yv
		}
		mean /= n
		var num, den float64
		for i, yv := range s.y {
			e := yv - pred(i)
			num += e * e
			d := yv - mean
			den += d * d
		}
		if den == 0 {
			if num == 0 {
				return 1
			}
			return 0
		}
		return 1 - num/den
	}
}
