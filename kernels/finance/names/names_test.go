package names

import (
	"math/rand/v2"
	"testing"
)

// TestSoundex: NARA examples (H and W do not separate equal codes, vowels
// do) and the ASCII folding of the definition.
func TestSoundex(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Robert", "R163"}, {"Rupert", "R163"}, {"Ashcraft", "A261"}, {"Ashcroft", "A261"},
		{"Tymczak", "T522"}, {"Pfister", "P236"}, {"Honeyman", "H555"}, {"Lee", "L000"},
		{"Łukasz", "L220"}, {"Müller", "M460"}, {"Straße", "S362"}, {"Øresund", "O625"},
		{"Þór", "T600"}, {"123", ""}, {"", ""}, {"Владимир", ""},
	} {
		if got := Soundex(c.in); got != c.want {
			t.Errorf("Soundex(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestNormalize: NFKC (full-width letters, ligatures), case folding (ß ->
// ss) and punctuation to space.
func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"  Ｏ’Brien,\tSeán ", "o brien seán"}, {"STRASSE", "strasse"}, {"Straße", "strasse"},
		{"ﬁsh-and-chips", "fish and chips"}, {"...", ""}, {"a\x1cb", "a b"},
	} {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestBoundHolds: the length bound is never below the comparator, on
// random strings over a small alphabet (many matches and transpositions).
func TestBoundHolds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		b := make([]rune, rng.IntN(14))
		for i := range b {
			b[i] = []rune("abcd éß")[rng.IntN(7)]
		}
		return string(b)
	}
	for range 20000 {
		a, b := Prepare(word()), Prepare(word())
		s := Compare(a, b)
		if s < 0 || s > 1 {
			t.Fatalf("Compare(%q, %q) = %v", a.Text, b.Text, s)
		}
		if bound := Bound(len(a.Runes), len(b.Runes)); s > bound+1e-15 {
			t.Fatalf("Compare(%q, %q) = %v above its bound %v", a.Text, b.Text, s, bound)
		}
	}
	if JaroWinkler([]rune("MARTHA"), []rune("MARHTA")) != 0.9611111111111111 {
		t.Errorf("JW(MARTHA, MARHTA) = %v, want jellyfish's 0.9611111111111111", JaroWinkler([]rune("MARTHA"), []rune("MARHTA")))
	}
}
