package ml

import (
	"context"
	"errors"
	"math"

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/ml/explain"
	"github.com/gokernels/gokernels/kernels/ml/federated"
	"github.com/gokernels/gokernels/kernels/ml/healthcare/interaction"
	"github.com/gokernels/gokernels/kernels/ml/healthcare/pathway"
	"github.com/gokernels/gokernels/kernels/ml/regression"
	"github.com/gokernels/gokernels/kernels/ml/text"
	"github.com/gokernels/gokernels/kernels/registry"
)

// RegisterB registers the regression, explanation, text, federated and
// healthcare kernels (contracts in proto/gokernels/kernels/ml/v1/
// regression.proto, explain.proto, text.proto, federated.proto and
// healthcare.proto).
func RegisterB(r *registry.Registry) error {
	meta := func(id, desc string) registry.Meta {
		return registry.Meta{ID: id, Domain: registry.DomainML, Description: desc, Modes: []registry.Mode{registry.Batch}}
	}
	return errors.Join(
		registry.Add(r, meta("ml/linear-regression",
			"Ordinary least squares with standard errors, t and p values and R² (equals statsmodels OLS)."), linearRegression),
		registry.Add(r, meta("ml/ridge-regression",
			"Ridge regression (equals sklearn.linear_model.Ridge)."), ridgeRegression),
		registry.Add(r, meta("ml/shap-values",
			"Exact interventional SHAP values for a described linear, logistic or tree-ensemble model."), shapValues),
		registry.Add(r, meta("ml/feature-importance",
			"Permutation importance for a described model (equals sklearn.inspection.permutation_importance)."), featureImportance),
		registry.Add(r, meta("ml/embedding-generation",
			"Hashed bag-of-words / n-gram text embeddings (bit-identical to sklearn HashingVectorizer)."), embeddingGeneration),
		registry.Add(r, meta("ml/semantic-similarity",
			"Cosine similarity between embeddings or texts, with top-k (equals sklearn cosine_similarity)."), semanticSimilarity),
		registry.Add(r, meta("ml/secure-aggregation",
			"Weighted federated averaging under pairwise additive masks that cancel (Bonawitz et al. 2017)."), secureAggregation),
		registry.Add(r, meta("ml/drug-interaction-prediction",
			"Similarity-based drug–drug interaction scoring over known interactions (Vilar et al. 2012)."), drugInteractionPrediction),
		registry.Add(r, meta("ml/clinical-pathway-conformance",
			"Token-replay fitness of patient traces against a Petri-net pathway (Rozinat & van der Aalst 2008)."), clinicalPathwayConformance),
	)
}

// limitSampleMatrix applies the server's sample, feature and cell caps to a
// rows × cols matrix before anything proportional to it is allocated.
func limitSampleMatrix(ctx context.Context, rowsField, cellsField string, rows, cols int32) error {
	l := limits.From(ctx)
	if err := limits.Check(rowsField, int(rows), l.MaxSamples); err != nil {
		return err
	}
	if err := limits.Check("n_features", int(cols), l.MaxFeatures); err != nil {
		return err
	}
	return limits.Check(cellsField, int(rows)*int(cols), l.MaxCells)
}

func linearRegression(ctx context.Context, in *mlv1.LinearRegressionInput) (*mlv1.LinearRegressionOutput, error) {
	if err := limitSampleMatrix(ctx, "n_samples", "data", in.GetNSamples(), in.GetNFeatures()); err != nil {
		return nil, err
	}
	fit := in.FitIntercept == nil || *in.FitIntercept
	res, err := regression.OLS(ctx, in.GetData(), int(in.GetNSamples()), int(in.GetNFeatures()), in.GetTarget(), fit)
	if err != nil {
		return nil, err
	}
	return &mlv1.LinearRegressionOutput{
		Coefficients:           res.Coefficients,
		Intercept:              res.Intercept,
		StandardErrors:         res.StandardErrors,
		InterceptStandardError: res.InterceptStandardError,
		TValues:                res.TValues,
		InterceptTValue:        res.InterceptTValue,
		PValues:                res.PValues,
		InterceptPValue:        res.InterceptPValue,
		RSquared:               res.RSquared,
		AdjRSquared:            res.AdjRSquared,
		Residuals:              res.Residuals,
		Scale:                  res.Scale,
		DfResid:                res.DFResid,
		Rank:                   int32(res.Rank),
	}, nil
}

func ridgeRegression(ctx context.Context, in *mlv1.RidgeRegressionInput) (*mlv1.RidgeRegressionOutput, error) {
	if err := limitSampleMatrix(ctx, "n_samples", "data", in.GetNSamples(), in.GetNFeatures()); err != nil {
		return nil, err
	}
	alpha := 1.0
	if in.Alpha != nil {
		alpha = *in.Alpha
	}
	fit := in.FitIntercept == nil || *in.FitIntercept
	res, err := regression.Ridge(ctx, in.GetData(), int(in.GetNSamples()), int(in.GetNFeatures()), in.GetTarget(), alpha, fit)
	if err != nil {
		return nil, err
	}
	return &mlv1.RidgeRegressionOutput{Coefficients: res.Coefficients, Intercept: res.Intercept, RSquared: res.RSquared}, nil
}

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

// hashingOptions applies the documented defaults to the vectorizer settings
// and validates them, naming fields under "vectorizer.".
func hashingOptions(v *mlv1.HashingVectorizerOptions) (text.HashingOptions, error) {
	if v == nil {
		v = &mlv1.HashingVectorizerOptions{}
	}
	o := text.HashingOptions{NFeatures: 1024, NgramMin: 1, NgramMax: 1, Lowercase: true, AlternateSign: true, Binary: v.GetBinary()}
	if v.NFeatures != nil {
		o.NFeatures = int(*v.NFeatures)
	}
	if v.NgramMin != nil {
		o.NgramMin = int(*v.NgramMin)
	}
	if v.NgramMax != nil {
		o.NgramMax = int(*v.NgramMax)
	}
	if v.Lowercase != nil {
		o.Lowercase = *v.Lowercase
	}
	if v.AlternateSign != nil {
		o.AlternateSign = *v.AlternateSign
	}
	switch v.GetAnalyzer() {
	case "char":
		o.Analyzer = text.Char
	case "char_wb":
		o.Analyzer = text.CharWB
	}
	switch v.GetNorm() {
	case "l1":
		o.Norm = text.NormL1
	case "none":
		o.Norm = text.NormNone
	}
	return o, o.Validate("vectorizer.")
}

// denseTexts embeds texts as dense rows, within the cell cap.
func denseTexts(ctx context.Context, field string, texts []string, o text.HashingOptions) ([]float64, error) {
	l := limits.From(ctx)
	if err := limits.Check(field, len(texts), l.MaxSamples); err != nil {
		return nil, err
	}
	if err := limits.Check("vectorizer.n_features", len(texts)*o.NFeatures, l.MaxCells); err != nil {
		return nil, err
	}
	vecs, err := text.Hash(ctx, texts, o)
	if err != nil {
		return nil, err
	}
	return text.Dense(vecs, o.NFeatures), nil
}

func embeddingGeneration(ctx context.Context, in *mlv1.EmbeddingGenerationInput) (*mlv1.EmbeddingGenerationOutput, error) {
	o, err := hashingOptions(in.GetVectorizer())
	if err != nil {
		return nil, err
	}
	out := &mlv1.EmbeddingGenerationOutput{Dimension: int32(o.NFeatures)}
	if in.GetOutput() != "sparse" {
		if out.Embeddings, err = denseTexts(ctx, "documents", in.GetDocuments(), o); err != nil {
			return nil, err
		}
		return out, nil
	}
	if err := limits.Check("documents", len(in.GetDocuments()), limits.From(ctx).MaxSamples); err != nil {
		return nil, err
	}
	vecs, err := text.Hash(ctx, in.GetDocuments(), o)
	if err != nil {
		return nil, err
	}
	out.Rows = make([]*mlv1.SparseEmbedding, len(vecs))
	for i, v := range vecs {
		idx := make([]int32, len(v.Indices))
		for k, c := range v.Indices {
			idx[k] = int32(c)
		}
		out.Rows[i] = &mlv1.SparseEmbedding{Indices: idx, Values: v.Values}
	}
	return out, nil
}

func semanticSimilarity(ctx context.Context, in *mlv1.SemanticSimilarityInput) (*mlv1.SemanticSimilarityOutput, error) {
	var (
		queries, corpus []float64
		nq, nc, dim     int
		err             error
	)
	l := limits.From(ctx)
	switch {
	case len(in.GetQueryTexts()) > 0:
		if len(in.GetQueries()) > 0 || len(in.GetCorpus()) > 0 || in.GetNQueries() != 0 || in.GetNCorpus() != 0 || in.GetDimension() != 0 {
			return nil, kerr.Invalid("query_texts", "give either vectors (queries, corpus) or texts (query_texts, corpus_texts), not both")
		}
		o, err := hashingOptions(in.GetVectorizer())
		if err != nil {
			return nil, err
		}
		if queries, err = denseTexts(ctx, "query_texts", in.GetQueryTexts(), o); err != nil {
			return nil, err
		}
		nq, dim = len(in.GetQueryTexts()), o.NFeatures
		if len(in.GetCorpusTexts()) > 0 {
			if corpus, err = denseTexts(ctx, "corpus_texts", in.GetCorpusTexts(), o); err != nil {
				return nil, err
			}
			nc = len(in.GetCorpusTexts())
		}
	case len(in.GetCorpusTexts()) > 0:
		return nil, kerr.Invalid("corpus_texts", "needs query_texts")
	default:
		nq, nc, dim = int(in.GetNQueries()), int(in.GetNCorpus()), int(in.GetDimension())
		if err := limits.Check("n_queries", nq, l.MaxSamples); err != nil {
			return nil, err
		}
		if err := limits.Check("n_corpus", nc, l.MaxSamples); err != nil {
			return nil, err
		}
		if err := limits.Check("queries", nq*dim, l.MaxCells); err != nil {
			return nil, err
		}
		if err := limits.Check("corpus", nc*dim, l.MaxCells); err != nil {
			return nil, err
		}
		queries = in.GetQueries()
		if nc > 0 || len(in.GetCorpus()) > 0 {
			corpus = in.GetCorpus()
			if len(corpus) != nc*dim {
				return nil, kerr.Invalid("corpus", "has %d values, want n_corpus*dimension = %d", len(corpus), nc*dim)
			}
		}
	}
	candidates := nc
	if corpus == nil {
		candidates = nq
	}
	k := int(in.GetTopK())
	if k == 0 && nq*candidates > l.MaxOutputItems {
		return nil, kerr.Invalid("top_k", "the full %d×%d similarity matrix exceeds the server limit of %d values; set top_k", nq, candidates, l.MaxOutputItems)
	}
	if err := limits.Check("top_k", nq*min(k, candidates), l.MaxOutputItems); err != nil {
		return nil, err
	}
	res, err := text.Cosine(ctx, queries, nq, corpus, nc, dim, k)
	if err != nil {
		return nil, err
	}
	out := &mlv1.SemanticSimilarityOutput{Similarities: res.Matrix, TopScores: res.TopScores, K: int32(res.K)}
	out.TopIndices = make([]int32, len(res.TopIndices))
	for i, v := range res.TopIndices {
		out.TopIndices[i] = int32(v)
	}
	return out, nil
}

func secureAggregation(ctx context.Context, in *mlv1.SecureAggregationInput) (*mlv1.SecureAggregationOutput, error) {
	l := limits.From(ctx)
	if err := limits.Check("n_clients", int(in.GetNClients()), l.MaxSamples); err != nil {
		return nil, err
	}
	if err := limits.Check("updates", int(in.GetNClients())*int(in.GetDimension()), l.MaxCells); err != nil {
		return nil, err
	}
	prm := federated.Params{Seed: in.GetSeed(), FractionalBits: 40, MinSurvivors: 2}
	if in.FractionalBits != nil {
		prm.FractionalBits = int(*in.FractionalBits)
	}
	if in.MinSurvivingClients != nil {
		prm.MinSurvivors = int(*in.MinSurvivingClients)
	}
	dropped := make([]int, len(in.GetDroppedClients()))
	for i, c := range in.GetDroppedClients() {
		dropped[i] = int(c)
	}
	res, err := federated.Aggregate(ctx, in.GetUpdates(), int(in.GetNClients()), int(in.GetDimension()), in.GetWeights(), dropped, prm)
	if err != nil {
		return nil, err
	}
	surv := make([]int32, len(res.Survivors))
	for i, s := range res.Survivors {
		surv[i] = int32(s)
	}
	return &mlv1.SecureAggregationOutput{
		Aggregate:        res.Aggregate,
		SurvivingClients: surv,
		MaskedUpdates:    res.MaskedUpdates,
		TotalWeight:      res.TotalWeight,
		QuantizationStep: math.Ldexp(1, -prm.FractionalBits),
	}, nil
}

func drugPairs(in []*mlv1.DrugPair) []interaction.Pair {
	if len(in) == 0 {
		return nil
	}
	out := make([]interaction.Pair, len(in))
	for i, p := range in {
		out[i] = interaction.Pair{A: int(p.GetDrugA()), B: int(p.GetDrugB())}
	}
	return out
}

func drugInteractionPrediction(ctx context.Context, in *mlv1.DrugInteractionPredictionInput) (*mlv1.DrugInteractionPredictionOutput, error) {
	if err := limitSampleMatrix(ctx, "n_drugs", "features", in.GetNDrugs(), in.GetNFeatures()); err != nil {
		return nil, err
	}
	l := limits.From(ctx)
	if err := limits.Check("known_interactions", len(in.GetKnownInteractions()), l.MaxEdges); err != nil {
		return nil, err
	}
	if err := limits.Check("pairs", len(in.GetPairs()), l.MaxOutputItems); err != nil {
		return nil, err
	}
	if n := int(in.GetNDrugs()); len(in.GetPairs()) == 0 && n*(n-1)/2 > l.MaxOutputItems {
		return nil, kerr.Invalid("pairs", "scoring all %d pairs of %d drugs exceeds the server limit of %d; list the pairs to score", n*(n-1)/2, n, l.MaxOutputItems)
	}
	metric := interaction.Tanimoto
	if in.GetSimilarity() == "cosine" {
		metric = interaction.Cosine
	}
	res, err := interaction.Score(ctx, in.GetFeatures(), int(in.GetNDrugs()), int(in.GetNFeatures()),
		drugPairs(in.GetKnownInteractions()), drugPairs(in.GetPairs()), metric, int(in.GetTopK()))
	if err != nil {
		return nil, err
	}
	out := &mlv1.DrugInteractionPredictionOutput{
		Pairs:                make([]*mlv1.DrugPair, len(res.Pairs)),
		Scores:               res.Scores,
		EvidenceInteractions: make([]int32, len(res.Evidence)),
	}
	for i, p := range res.Pairs {
		out.Pairs[i] = &mlv1.DrugPair{DrugA: int32(p.A), DrugB: int32(p.B)}
		out.EvidenceInteractions[i] = int32(res.Evidence[i])
	}
	return out, nil
}

func clinicalPathwayConformance(ctx context.Context, in *mlv1.ClinicalPathwayConformanceInput) (*mlv1.ClinicalPathwayConformanceOutput, error) {
	l := limits.From(ctx)
	events := 0
	for _, t := range in.GetTraces() {
		events += len(t.GetActivities())
	}
	for _, c := range []struct {
		field    string
		value, n int
	}{
		{"num_places", int(in.GetNumPlaces()), l.MaxNodes},
		{"transitions", len(in.GetTransitions()), l.MaxNodes},
		{"input_arcs", len(in.GetInputArcs()), l.MaxEdges},
		{"output_arcs", len(in.GetOutputArcs()), l.MaxEdges},
		{"traces", len(in.GetTraces()), l.MaxSamples},
		{"traces", events, l.MaxCells},
	} {
		if err := limits.Check(c.field, c.value, c.n); err != nil {
			return nil, err
		}
	}
	net := &pathway.Net{
		NumPlaces:  int(in.GetNumPlaces()),
		Labels:     in.GetTransitions(),
		InputArcs:  make([][2]int, len(in.GetInputArcs())),
		OutputArcs: make([][2]int, len(in.GetOutputArcs())),
		Initial:    make([]int, len(in.GetInitialMarking())),
		Final:      make([]int, len(in.GetFinalMarking())),
	}
	for i, a := range in.GetInputArcs() {
		net.InputArcs[i] = [2]int{int(a.GetPlace()), int(a.GetTransition())}
	}
	for i, a := range in.GetOutputArcs() {
		net.OutputArcs[i] = [2]int{int(a.GetTransition()), int(a.GetPlace())}
	}
	for i, v := range in.GetInitialMarking() {
		net.Initial[i] = int(v)
	}
	for i, v := range in.GetFinalMarking() {
		net.Final[i] = int(v)
	}
	traces := make([][]string, len(in.GetTraces()))
	for i, t := range in.GetTraces() {
		traces[i] = t.GetActivities()
	}
	res, err := pathway.Replay(ctx, net, traces)
	if err != nil {
		return nil, err
	}
	n := len(res.Traces)
	out := &mlv1.ClinicalPathwayConformanceOutput{
		TraceFitness:        make([]float64, n),
		Missing:             make([]int64, n),
		Consumed:            make([]int64, n),
		Remaining:           make([]int64, n),
		Produced:            make([]int64, n),
		UnknownEvents:       make([]int32, n),
		Fits:                make([]bool, n),
		LogFitness:          res.LogFitness,
		AverageTraceFitness: res.AverageTraceFitness,
		FittingTraces:       res.FittingTraces,
	}
	for i, t := range res.Traces {
		out.TraceFitness[i] = t.Fitness
		out.Missing[i] = int64(t.Missing)
		out.Consumed[i] = int64(t.Consumed)
		out.Remaining[i] = int64(t.Remaining)
		out.Produced[i] = int64(t.Produced)
		out.UnknownEvents[i] = int32(t.UnknownEvents)
		out.Fits[i] = t.Fits
	}
	return out, nil
}
