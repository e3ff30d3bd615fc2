package text

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/kerr"
)

func wantFieldError(t *testing.T, c fixture.Case, err error) {
	t.Helper()
	if fe, ok := kerr.AsField(err); !ok || fe.Field != c.ErrorField {
		t.Fatalf("%s: error %v, want a field error on %s", c.Name, err, c.ErrorField)
	}
}

type vectorizerJSON struct {
	NFeatures     *int   `json:"n_features"`
	Analyzer      string `json:"analyzer"`
	NgramMin      *int   `json:"ngram_min"`
	NgramMax      *int   `json:"ngram_max"`
	Lowercase     *bool  `json:"lowercase"`
	AlternateSign *bool  `json:"alternate_sign"`
	Norm          string `json:"norm"`
	Binary        bool   `json:"binary"`
}

// options applies the documented defaults (as the registration glue does).
func (v *vectorizerJSON) options() HashingOptions {
	o := HashingOptions{NFeatures: 1024, NgramMin: 1, NgramMax: 1, Lowercase: true, AlternateSign: true}
	if v == nil {
		return o
	}
	if v.NFeatures != nil {
		o.NFeatures = *v.NFeatures
	}
	if v.NgramMin != nil {
		o.NgramMin = *v.NgramMin
	}
	if v.NgramMax != nil {
		o.NgramMax = *v.NgramMax
	}
	if v.Lowercase != nil {
		o.Lowercase = *v.Lowercase
	}
	if v.AlternateSign != nil {
		o.AlternateSign = *v.AlternateSign
	}
	o.Analyzer = map[string]Analyzer{"": Word, "word": Word, "char": Char, "char_wb": CharWB}[v.Analyzer]
	o.Norm = map[string]Norm{"": NormL2, "l2": NormL2, "l1": NormL1, "none": NormNone}[v.Norm]
	o.Binary = v.Binary
	return o
}

type textInput struct {
	Documents   []string        `json:"documents"`
	Vectorizer  *vectorizerJSON `json:"vectorizer"`
	Output      string          `json:"output"`
	Queries     []float64       `json:"queries"`
	NQueries    int             `json:"n_queries"`
	Dimension   int             `json:"dimension"`
	Corpus      []float64       `json:"corpus"`
	NCorpus     int             `json:"n_corpus"`
	QueryTexts  []string        `json:"query_texts"`
	CorpusTexts []string        `json:"corpus_texts"`
	TopK        int             `json:"top_k"`
}

type sparseJSON struct {
	Indices []int     `json:"indices"`
	Values  []float64 `json:"values"`
}

// Embeddings must be bit-identical to scikit-learn's, so values compare
// exactly (the fixtures' tolerances are 0).
func TestHashFixtures(t *testing.T) {
	for _, c := range fixture.Kernel(t, "ml", "embedding-generation").Cases {
		var in textInput
		fixture.Decode(t, c.Input, &in)
		o := in.Vectorizer.options()
		vecs, err := Hash(context.Background(), in.Documents, o)
		if c.ErrorField != "" {
			// Hash names fields relative to the vectorizer options.
			wantFieldError(t, fixture.Case{Name: c.Name, ErrorField: strings.TrimPrefix(c.ErrorField, "vectorizer.")}, err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var want struct {
			Embeddings []float64    `json:"embeddings"`
			Rows       []sparseJSON `json:"rows"`
			Dimension  int          `json:"dimension"`
		}
		fixture.Decode(t, c.ExpectRaw, &want)
		rtol, atol := c.Tolerances()
		if want.Dimension != o.NFeatures {
			t.Errorf("%s: dimension %d, want %d", c.Name, o.NFeatures, want.Dimension)
		}
		if want.Embeddings != nil {
			fixture.Floats(t, c.Name+".embeddings", Dense(vecs, o.NFeatures), want.Embeddings, rtol, atol)
		}
		if want.Rows != nil {
			if len(want.Rows) != len(vecs) {
				t.Fatalf("%s: %d rows, want %d", c.Name, len(vecs), len(want.Rows))
			}
			for i, w := range want.Rows {
				fixture.Ints(t, c.Name+".indices", vecs[i].Indices, w.Indices)
				fixture.Floats(t, c.Name+".values", vecs[i].Values, w.Values, rtol, atol)
			}
		}
	}
}

func TestCosineFixtures(t *testing.T) {
	for _, c := range fixture.Kernel(t, "ml", "semantic-similarity").Cases {
		var in textInput
		fixture.Decode(t, c.Input, &in)
		if c.ErrorField == "query_texts" {
			continue // mixing embeddings and texts is a registration-level check
		}
		q, nq, corpus, nc, dim := in.Queries, in.NQueries, in.Corpus, in.NCorpus, in.Dimension
		if in.QueryTexts != nil {
			o := in.Vectorizer.options()
			qv, err := Hash(context.Background(), in.QueryTexts, o)
			if err != nil {
				t.Fatal(err)
			}
			cv, err := Hash(context.Background(), in.CorpusTexts, o)
			if err != nil {
				t.Fatal(err)
			}
			q, nq, corpus, nc, dim = Dense(qv, o.NFeatures), len(qv), Dense(cv, o.NFeatures), len(cv), o.NFeatures
		}
		res, err := Cosine(context.Background(), q, nq, corpus, nc, dim, in.TopK)
		if c.ErrorField != "" {
			wantFieldError(t, c, err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var want struct {
			Similarities []float64 `json:"similarities"`
			TopIndices   []int     `json:"top_indices"`
			TopScores    []float64 `json:"top_scores"`
			K            *int      `json:"k"`
		}
		fixture.Decode(t, c.ExpectRaw, &want)
		rtol, atol := c.Tolerances()
		if want.Similarities != nil {
			fixture.Floats(t, c.Name+".similarities", res.Matrix, want.Similarities, rtol, atol)
		}
		if want.TopIndices != nil {
			fixture.Ints(t, c.Name+".top_indices", res.TopIndices, want.TopIndices)
			fixture.Floats(t, c.Name+".top_scores", res.TopScores, want.TopScores, rtol, atol)
		}
		if want.K != nil && res.K != *want.K {
			t.Errorf("%s: k = %d, want %d", c.Name, res.K, *want.K)
		}
	}
}

// Reference hashes from sklearn.utils.murmurhash3_32(s.encode(), seed).
func TestMurmur3(t *testing.T) {
	for _, c := range []struct {
		s    string
		seed uint32
		want int32
	}{
		{"", 0, 0}, {"a", 0, 1009084850}, {"ab", 0, -1681926305}, {"abc", 0, -1277324294},
		{"abcd", 0, 1139631978}, {"hello world", 0, 1586663183}, {"Ελληνικά", 0, 658135577},
		{"naïve café", 0, 1734666806}, {"", 42, 142593372}, {"abc", 42, 1313807976}, {"naïve café", 42, -1533585548},
	} {
		if got := murmur3([]byte(c.s), c.seed); got != c.want {
			t.Errorf("murmur3(%q, %d) = %d, want %d", c.s, c.seed, got, c.want)
		}
	}
}

// Python: "ΟΔΟΣ ΣΟΦΙΑΣ Σ .Σ. ΑΣ'Β".lower() and "İx".lower().
func TestPythonLower(t *testing.T) {
	for in, want := range map[string]string{
		"ΟΔΟΣ ΣΟΦΙΑΣ Σ .Σ. ΑΣ'Β": "οδος σοφιας σ .σ. ασ'β",
		"İx":                     "i\u0307x",
		"ABC Def":                "abc def",
	} {
		if got := pythonLower(in); got != want {
			t.Errorf("pythonLower(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCosineZeroRowsAndTies(t *testing.T) {
	q := []float64{1, 0, 0, 0}
	c := []float64{0, 0, 2, 0, 2, 0, 3, 0}
	res, err := Cosine(context.Background(), q, 2, c, 4, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Query 0 = (1,0): candidates 1..3 all have similarity 1, candidate 0 is zero.
	if res.TopIndices[0] != 1 || res.TopIndices[1] != 2 || res.TopScores[0] != 1 {
		t.Errorf("top of query 0 = %v %v, want [1 2] with score 1", res.TopIndices[:2], res.TopScores[:2])
	}
	// Query 1 is all zero: every similarity is 0 and ties keep index order.
	if res.TopIndices[2] != 0 || res.TopIndices[3] != 1 || res.TopScores[2] != 0 {
		t.Errorf("top of zero query = %v %v, want [0 1] with score 0", res.TopIndices[2:], res.TopScores[2:])
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	docs := make([]string, 100)
	if _, err := Hash(ctx, docs, HashingOptions{NFeatures: 8, NgramMin: 1, NgramMax: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash: got %v", err)
	}
	x := make([]float64, 200)
	if _, err := Cosine(ctx, x, 100, nil, 0, 2, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Cosine: got %v", err)
	}
}
