// Text kernels (proto/gokernels/kernels/ml/v1/text.proto).

package ml

import (
	"context"

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/ml/text"
	"github.com/gokernels/gokernels/kernels/registry"
)

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

// EmbeddingGeneration is ml/embedding-generation.
var EmbeddingGeneration = registry.Direct(registry.Meta{ID: "ml/embedding-generation", Domain: registry.DomainML,
	Description: "Hashed bag-of-words / n-gram text embeddings (bit-identical to sklearn HashingVectorizer)."}, embeddingGeneration)

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

// SemanticSimilarity is ml/semantic-similarity.
var SemanticSimilarity = registry.Direct(registry.Meta{ID: "ml/semantic-similarity", Domain: registry.DomainML,
	Description: "Cosine similarity between embeddings or texts, with top-k (equals sklearn cosine_similarity)."}, semanticSimilarity)

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
