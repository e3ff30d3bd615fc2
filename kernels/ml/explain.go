// Explanation kernels (proto/gokernels/kernels/ml/v1/explain.proto).

package ml

import (
	"context"

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/ml/explain"
	"github.com/gokernels/gokernels/kernels/registry"
)

// explainModel converts the request's model description; structural checks
// happen in the explain package, which names fields under "model.".
func explainModel(ctx context.Context, m *mlv1.ExplainModel) (*explain.Model, error) {
	out := &explain.Model{
		Coefficients: m.GetCoefficients(),
		Intercept:    m.GetIntercept(),
		MeanOfTrees:  m.GetTreeAggregation() == "mean",
	}
	switch m.GetKind() {
	case "linear":
		out.Kind = explain.Linear
	case "logistic":
		out.Kind = explain.Logistic
	case "tree_ensemble":
		out.Kind = explain.TreeEnsemble
	}
	nodes := 0
	for _, t := range m.GetTrees() {
		nodes += len(t.GetChildrenLeft())
	}
	if err := limits.Check("model.trees", nodes, limits.From(ctx).MaxNodes); err != nil {
		return nil, err
	}
	ints := func(v []int32) []int {
		out := make([]int, len(v))
		for i, x := range v {
			out[i] = int(x)
		}
		return out
	}
	for _, t := range m.GetTrees() {
		out.Trees = append(out.Trees, explain.Tree{
			Left:      ints(t.GetChildrenLeft()),
			Right:     ints(t.GetChildrenRight()),
			Feature:   ints(t.GetFeature()),
			Threshold: t.GetThreshold(),
			Value:     t.GetValue(),
		})
	}
	return out, nil
}

// ShapValues is ml/shap-values.
var ShapValues = registry.Direct(registry.Meta{ID: "ml/shap-values", Domain: registry.DomainML,
	Description: "Exact interventional SHAP values for a described linear, logistic or tree-ensemble model."}, shapValues)

func shapValues(ctx context.Context, in *mlv1.ShapValuesInput) (*mlv1.ShapValuesOutput, error) {
	if err := limitSampleMatrix(ctx, "n_samples", "data", in.GetNSamples(), in.GetNFeatures()); err != nil {
		return nil, err
	}
	if err := limitSampleMatrix(ctx, "n_background", "background", in.GetNBackground(), in.GetNFeatures()); err != nil {
		return nil, err
	}
	m, err := explainModel(ctx, in.GetModel())
	if err != nil {
		return nil, err
	}
	res, err := explain.Shap(ctx, m, in.GetData(), int(in.GetNSamples()), int(in.GetNFeatures()),
		in.GetBackground(), int(in.GetNBackground()), in.GetOutput() == "probability")
	if err != nil {
		return nil, err
	}
	return &mlv1.ShapValuesOutput{ShapValues: res.Values, ExpectedValue: res.ExpectedValue, Predictions: res.Predictions}, nil
}

var importanceScorings = map[string]explain.Scoring{
	"":                        explain.ScoreDefault,
	"r2":                      explain.ScoreR2,
	"neg_mean_squared_error":  explain.ScoreNegMSE,
	"neg_mean_absolute_error": explain.ScoreNegMAE,
	"accuracy":                explain.ScoreAccuracy,
	"neg_log_loss":            explain.ScoreNegLogLoss,
}

// FeatureImportance is ml/feature-importance.
var FeatureImportance = registry.Direct(registry.Meta{ID: "ml/feature-importance", Domain: registry.DomainML,
	Description: "Permutation importance for a described model (equals sklearn.inspection.permutation_importance)."}, featureImportance)

func featureImportance(ctx context.Context, in *mlv1.FeatureImportanceInput) (*mlv1.FeatureImportanceOutput, error) {
	if err := limitSampleMatrix(ctx, "n_samples", "data", in.GetNSamples(), in.GetNFeatures()); err != nil {
		return nil, err
	}
	repeats := 5
	if in.NRepeats != nil {
		repeats = int(*in.NRepeats)
	}
	l := limits.From(ctx)
	if err := limits.Check("n_repeats", repeats, l.MaxIterations); err != nil {
		return nil, err
	}
	if err := limits.Check("n_repeats", repeats*int(in.GetNFeatures()), l.MaxOutputItems); err != nil {
		return nil, err
	}
	m, err := explainModel(ctx, in.GetModel())
	if err != nil {
		return nil, err
	}
	res, err := explain.PermutationImportance(ctx, m, in.GetData(), int(in.GetNSamples()), int(in.GetNFeatures()),
		in.GetTarget(), importanceScorings[in.GetScoring()], repeats, in.GetSeed())
	if err != nil {
		return nil, err
	}
	return &mlv1.FeatureImportanceOutput{
		BaselineScore:   res.BaselineScore,
		ImportancesMean: res.ImportancesMean,
		ImportancesStd:  res.ImportancesStd,
		Importances:     res.Importances,
		NRepeats:        int32(repeats),
	}, nil
}
