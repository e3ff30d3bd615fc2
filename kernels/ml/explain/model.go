// Package explain attributes a model's predictions to its input features:
// exact interventional SHAP values and permutation feature importance, for
// models the request describes in full (linear, logistic, tree ensembles).
package explain

import (
	"fmt"
	"math"

	"github.com/gokernels/gokernels/kernels/kerr"
)

// Kind is the family of a described model.
type Kind int

const (
	// Linear: f(x) = intercept + coefficients·x.
	Linear Kind = iota + 1
	// Logistic: margin(x) = intercept + coefficients·x (log-odds),
	// probability f(x) = 1/(1+e^−margin), predicted class 1 when margin > 0.
	Logistic
	// TreeEnsemble: f(x) = intercept + Σ_t tree_t(x) (or the mean over trees).
	TreeEnsemble
)

// Tree is a binary regression tree in scikit-learn's array layout: node 0 is
// the root; a node with Left[i] == -1 is a leaf whose output is Value[i];
// otherwise samples with x[Feature[i]] <= Threshold[i] go to Left[i], the
// others to Right[i].
type Tree struct {
	Left, Right []int
	Feature     []int
	Threshold   []float64
	Value       []float64
}

// Model is a fully described model.
type Model struct {
	Kind         Kind
	Coefficients []float64 // Linear, Logistic
	Intercept    float64
	Trees        []Tree // TreeEnsemble
	MeanOfTrees  bool   // average the trees (random forest) instead of summing (boosting)
}

// Validate checks the model against nFeatures input features and reports the
// first problem with its JSON field name.
func (m *Model) Validate(nFeatures int) error {
	switch m.Kind {
	case Linear, Logistic:
		if len(m.Coefficients) != nFeatures {
			return kerr.Invalid("coefficients", "has %d values, want n_features = %d", len(m.Coefficients), nFeatures)
		}
		for i, c := range m.Coefficients {
			if !finite(c) {
				return kerr.Invalid(fmt.Sprintf("coefficients[%d]", i), "must be finite")
			}
		}
	case TreeEnsemble:
		if len(m.Trees) == 0 {
			return kerr.Invalid("trees", "a tree ensemble needs at least one tree")
		}
		for t := range m.Trees {
			if err := m.Trees[t].validate(fmt.Sprintf("trees[%d]", t), nFeatures); err != nil {
				return err
			}
		}
	default:
		return kerr.Invalid("kind", "unknown model kind")
	}
	if !finite(m.Intercept) {
		return kerr.Invalid("intercept", "must be finite")
	}
	return nil
}

// validate checks that the arrays describe a tree: children come after their
// parent (so every walk terminates) and no node has two parents (so the
// exact SHAP walk, which may follow both children, stays linear in the size
// of the tree).
func (t *Tree) validate(field string, nFeatures int) error {
	n := len(t.Left)
	if n == 0 {
		return kerr.Invalid(field+".children_left", "a tree needs at least one node")
	}
	for _, a := range []struct {
		name string
		len  int
	}{{"children_right", len(t.Right)}, {"feature", len(t.Feature)}, {"threshold", len(t.Threshold)}, {"value", len(t.Value)}} {
		if a.len != n {
			return kerr.Invalid(field+"."+a.name, "has %d values, want len(children_left) = %d", a.len, n)
		}
	}
	hasParent := make([]bool, n)
	for i := range n {
		l, r := t.Left[i], t.Right[i]
		if !finite(t.Value[i]) {
			return kerr.Invalid(fmt.Sprintf("%s.value[%d]", field, i), "must be finite")
		}
		if l == -1 || r == -1 {
			if l != r {
				return kerr.Invalid(fmt.Sprintf("%s.children_right[%d]", field, i), "a leaf has both children -1, an internal node neither")
			}
			continue
		}
		for _, c := range []struct {
			name  string
			child int
		}{{"children_left", l}, {"children_right", r}} {
			if c.child <= i || c.child >= n {
				return kerr.Invalid(fmt.Sprintf("%s.%s[%d]", field, c.name, i), "child %d must be after its parent and below %d", c.child, n)
			}
			if hasParent[c.child] {
				return kerr.Invalid(fmt.Sprintf("%s.%s[%d]", field, c.name, i), "node %d already has a parent", c.child)
			}
			hasParent[c.child] = true
		}
		if f := t.Feature[i]; f < 0 || f >= nFeatures {
			return kerr.Invalid(fmt.Sprintf("%s.feature[%d]", field, i), "feature %d is outside [0, %d)", f, nFeatures)
		}
		if !finite(t.Threshold[i]) {
			return kerr.Invalid(fmt.Sprintf("%s.threshold[%d]", field, i), "must be finite")
		}
	}
	return nil
}

// eval walks the tree for x.
func (t *Tree) eval(x []float64) float64 {
	i := 0
	for t.Left[i] != -1 {
		if x[t.Feature[i]] <= t.Threshold[i] {
			i = t.Left[i]
		} else {
			i = t.Right[i]
		}
	}
	return t.Value[i]
}

// Margin is the model's raw output: the linear predictor (log-odds for a
// logistic model) or the ensemble output.
func (m *Model) Margin(x []float64) float64 {
	if m.Kind == TreeEnsemble {
		s := 0.0
		for t := range m.Trees {
			s += m.Trees[t].eval(x)
		}
		if m.MeanOfTrees {
			s /= float64(len(m.Trees))
		}
		return m.Intercept + s
	}
	s := m.Intercept
	for j, c := range m.Coefficients {
		s += c * x[j]
	}
	return s
}

// Predict is f(x): the probability of class 1 for a logistic model, the
// margin otherwise.
func (m *Model) Predict(x []float64) float64 {
	if m.Kind == Logistic {
		return sigmoid(m.Margin(x))
	}
	return m.Margin(x)
}

func sigmoid(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// checkMatrix validates a row-major matrix field of rows×cols values.
func checkMatrix(field string, data []float64, rows, cols int, rowsField string) error {
	if rows <= 0 {
		return kerr.Invalid(rowsField, "must be positive, got %d", rows)
	}
	if len(data) != rows*cols {
		return kerr.Invalid(field, "has %d values, want %s*n_features = %d", len(data), rowsField, rows*cols)
	}
	for i, v := range data {
		if !finite(v) {
			return kerr.Invalid(fmt.Sprintf("%s[%d]", field, i), "must be finite")
		}
	}
	return nil
}

// modelField prefixes a model validation error with the request field that
// holds the model ("model.coefficients").
func modelField(err error) error {
	if fe, ok := kerr.AsField(err); ok {
		return kerr.Invalid("model."+fe.Field, "%s", fe.Desc)
	}
	return err
}
