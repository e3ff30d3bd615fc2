package names

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestMatcherEqualsJaroWinkler: the bit-parallel JaroWinkler and Compare
// are bit-identical to the plain loops on random strings over small
// alphabets (many candidate positions), with code points that share a
// low byte (a, U+0161, U+0261), lengths 0..70 (past the 64 of the masks),
// and near copies (transpositions, shared prefixes).
func TestMatcherEqualsJaroWinkler(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	alphabets := [][]rune{[]rune("ab"), []rune("abc "), {'a', 0x161, 0x261, 'b'}, []rune("aeiou lmnr"), []rune("abcdefghijklmnopqrstuvwxyz")}
	word := func(al []rune, n int) []rune {
		w := make([]rune, n)
		for i := range w {
			w[i] = al[rng.IntN(len(al))]
		}
		return w
	}
	var m Matcher
	for k := range 100_000 {
		al := alphabets[k%len(alphabets)]
		a := word(al, rng.IntN(71))
		b := word(al, rng.IntN(71))
		if k%3 == 0 && len(a) > 2 {
			b = append([]rune(nil), a...)
			i := rng.IntN(len(b) - 1)
			b[i], b[i+1] = b[i+1], b[i]
		}
		if got, want := m.JaroWinkler(a, b), JaroWinkler(a, b); got != want {
			t.Fatalf("JaroWinkler(%q, %q) = %v, plain loop %v", string(a), string(b), got, want)
		}
		na, nb := Prepare(string(a)), Prepare(string(b))
		if got, want := m.Compare(na, nb), Compare(na, nb); got != want {
			t.Fatalf("Compare(%q, %q) = %v, plain %v", string(a), string(b), got, want)
		}
	}
}

// TestSharedCount: the SWAR sum of bucket minima equals the scalar sum.
func TestSharedCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for range 10_000 {
		var a, b [64]uint8
		for i := range a {
			a[i], b[i] = uint8(rng.IntN(128)), uint8(rng.IntN(128))
			if rng.IntN(3) == 0 {
				b[i] = a[i]
			}
		}
		want := 0
		for i := range a {
			want += int(min(a[i], b[i]))
		}
		var wa, wb [8]uint64
		for i := range 64 {
			wa[i/8] |= uint64(a[i]) << (8 * (i % 8))
			wb[i/8] |= uint64(b[i]) << (8 * (i % 8))
		}
		if got := sharedCount(&wa, &wb); got != want {
			t.Fatalf("sharedCount = %d, want %d", got, want)
		}
	}
}

// TestCompareMinIsLossless: CompareMin reports exactly the pairs whose
// Compare reaches the minimum score, with Compare's score, on random and
// near-copy names at a sweep of minimum scores including each pair's own
// score.
func TestCompareMinIsLossless(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	alphabets := []string{"ab", "abc d", "aeiou lmnr", "äaöoüu ß", "xyz", "abcdefghijklmnopqrstuvwxyz  "}
	word := func(al []rune, n int) string {
		w := make([]rune, n)
		for i := range w {
			w[i] = al[rng.IntN(len(al))]
		}
		return string(w)
	}
	var m Matcher
	reached := 0
	for k := range 40_000 {
		al := []rune(alphabets[k%len(alphabets)])
		a, b := word(al, 1+rng.IntN(30)), word(al, 1+rng.IntN(30))
		if k%5 == 0 {
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
		want := Compare(na, nb)
		for _, ms := range []float64{0, 0.5, 0.7, 0.8, 0.9, 0.95, want, 1} {
			got, ok := m.CompareMin(&na, &nb, ms)
			if ok != (want >= ms) || (ok && got != want) {
				t.Fatalf("CompareMin(%q, %q, %v) = %v %v; Compare = %v", a, b, ms, got, ok, want)
			}
			if ok {
				reached++
			}
		}
	}
	if reached == 0 {
		t.Fatal("no pair reached any minimum: the test shows nothing")
	}
}
