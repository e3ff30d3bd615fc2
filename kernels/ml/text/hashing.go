// Package text turns documents into vectors without downloaded weights —
// the hashing trick exactly as scikit-learn's HashingVectorizer computes it —
// and compares vectors by cosine similarity.
package text

import (
	"context"
	"math"
	"slices"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Norm is the per-document normalisation.
type Norm int

const (
	NormL2 Norm = iota
	NormL1
	NormNone
)

// HashingOptions mirror HashingVectorizer's parameters.
type HashingOptions struct {
	NFeatures          int // output dimension
	Analyzer           Analyzer
	NgramMin, NgramMax int
	Lowercase          bool
	AlternateSign      bool
	Norm               Norm
	Binary             bool
}

// Validate checks the options, naming the request fields under prefix
// ("vectorizer.").
func (o HashingOptions) Validate(prefix string) error {
	if o.NFeatures <= 0 {
		return kerr.Invalid(prefix+"n_features", "must be positive, got %d", o.NFeatures)
	}
	if o.NgramMin <= 0 {
		return kerr.Invalid(prefix+"ngram_min", "must be positive, got %d", o.NgramMin)
	}
	if o.NgramMax < o.NgramMin {
		return kerr.Invalid(prefix+"ngram_max", "must be at least ngram_min = %d, got %d", o.NgramMin, o.NgramMax)
	}
	return nil
}

// SparseVector is one document's vector: strictly increasing indices and
// their non-zero values.
type SparseVector struct {
	Indices []int
	Values  []float64
}

// Hash vectorises each document exactly as
// sklearn.feature_extraction.text.HashingVectorizer(n_features, analyzer,
// ngram_range, lowercase, alternate_sign, norm, binary).transform(docs):
// each token or n-gram is hashed with MurmurHash3 (seed 0) of its UTF-8
// bytes, its column is |h| mod n_features and, with alternate_sign, it adds
// −1 when h < 0 and +1 otherwise. binary sets every touched column to 1 (even
// one whose signed counts cancelled, as scikit-learn does); the norm then
// divides by the row's L2 or L1 norm, summed in column order. Documents are
// processed in parallel.
func Hash(ctx context.Context, docs []string, o HashingOptions) ([]SparseVector, error) {
	if err := o.Validate(""); err != nil {
		return nil, err
	}
	out := make([]SparseVector, len(docs))
	err := par.For(ctx, len(docs), 1, func(i, _, _ int) error {
		out[i] = hashDocument(docs[i], o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func hashDocument(doc string, o HashingOptions) SparseVector {
	if o.Lowercase {
		doc = pythonLower(doc)
	}
	counts := map[int]float64{}
	nf := int64(o.NFeatures)
	emit := func(tok string) {
		h := murmur3([]byte(tok), 0)
		var idx int64
		if h == math.MinInt32 {
			idx = (math.MaxInt32 - (nf - 1)) % nf
		} else {
			idx = int64(h)
			if idx < 0 {
				idx = -idx
			}
			idx %= nf
		}
		v := 1.0
		if o.AlternateSign && h < 0 {
			v = -1
		}
		counts[int(idx)] += v
	}
	switch o.Analyzer {
	case Char:
		charNgrams([]rune(doc), o.NgramMin, o.NgramMax, emit)
	case CharWB:
		charWBNgrams([]rune(doc), o.NgramMin, o.NgramMax, emit)
	default:
		wordNgrams(wordTokens(doc), o.NgramMin, o.NgramMax, emit)
	}
	indices := make([]int, 0, len(counts))
	for idx := range counts {
		indices = append(indices, idx)
	}
	slices.Sort(indices)
	values := make([]float64, len(indices))
	for k, idx := range indices {
		values[k] = counts[idx]
		if o.Binary {
			values[k] = 1
		}
	}
	if o.Norm != NormNone {
		// sklearn's inplace_csr_row_normalize_l1/l2: a sequential sum in
		// column order, then a division of each value.
		sum := 0.0
		for _, v := range values {
			if o.Norm == NormL2 {
				sum += float64(v * v)
			} else {
				sum += math.Abs(v)
			}
		}
		if sum != 0 {
			if o.Norm == NormL2 {
				sum = math.Sqrt(sum)
			}
			for k := range values {
				values[k] /= sum
			}
		}
	}
	// Columns whose signed counts cancelled stay out of the sparse form.
	kept := 0
	for k := range indices {
		if values[k] != 0 {
			indices[kept], values[kept] = indices[k], values[k]
			kept++
		}
	}
	return SparseVector{Indices: indices[:kept], Values: values[:kept]}
}

// Dense writes the vectors as a row-major len(vecs)×dim matrix.
func Dense(vecs []SparseVector, dim int) []float64 {
	out := make([]float64, len(vecs)*dim)
	for i, v := range vecs {
		row := out[i*dim : (i+1)*dim]
		for k, idx := range v.Indices {
			row[idx] = v.Values[k]
		}
	}
	return out
}
