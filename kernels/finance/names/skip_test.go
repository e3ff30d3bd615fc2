package names

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestSkipPairIsLossless: on random pairs of names over small alphabets
// (many shared letters, equal prefixes, transpositions, diacritics, long
// repeats) SkipPair never skips a pair whose Compare reaches the minimum
// score, at a sweep of minimum scores, including each pair's own score.
func TestSkipPairIsLossless(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	alphabets := []string{"ab", "abc d", "aeiou lmnr", "äaöoüu ß", "xyz", "abcdefghijklmnopqrstuvwxyz  "}
	word := func(al []rune, n int) string {
		var b strings.Builder
		for range n {
			b.WriteRune(al[rng.IntN(len(al))])
		}
		return b.String()
	}
	skipped := 0
	for k := range 40_000 {
		al := []rune(alphabets[k%len(alphabets)])
		a := word(al, 1+rng.IntN(30))
		b := word(al, 1+rng.IntN(30))
		if k%5 == 0 { // a near copy: shared prefix, one transposition
			r := []rune(a)
			if len(r) > 2 {
				i := rng.IntN(len(r) - 1)
				r[i], r[i+1] = r[i+1], r[i]
			}
			b = string(r)
		}
		if k%97 == 0 {
			a, b = strings.Repeat(a, 20), strings.Repeat(b, 20) // long: buckets may overflow
		}
		na, nb := Prepare(a), Prepare(b)
		score := Compare(na, nb)
		for _, ms := range []float64{0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95, score} {
			if SkipPair(na, nb, ms) {
				skipped++
				if score >= ms {
					t.Fatalf("SkipPair(%q, %q, %v) skipped a pair scoring %v", a, b, ms, score)
				}
			}
		}
	}
	if skipped == 0 {
		t.Fatal("the bound never skipped a pair: the test shows nothing")
	}
}
