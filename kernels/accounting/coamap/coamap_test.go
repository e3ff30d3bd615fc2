package coamap

import "testing"

// Globs match the whole code (upstream's 1*1 matched "1"); ranges match
// only all-digit codes, numerically; [ is literal.
func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pat, code string
		want      bool
	}{
		{"1*1", "1", false}, {"1*1", "11", true}, {"1*1", "1201", true}, {"1?1", "111", true}, {"1?1", "11", false},
		{"4000-4999", "4500", true}, {"4000-4999", "04500", true}, {"4000-4999", "5000", false},
		{"4000-4999", "4000-4999", false}, {"4000?4999", "4000-4999", true}, {"a[1]", "a[1]", true},
		{"a[1]", "a1", false}, {"*", "", true}, {"**x", "abx", true}, {"9-10", "10", true}, {"9-10", "2", false},
	} {
		if got := Compile(c.pat).Match(c.code); got != c.want {
			t.Errorf("Compile(%q).Match(%q) = %v, want %v", c.pat, c.code, got, c.want)
		}
	}
}

func TestParentCycles(t *testing.T) {
	got := ParentCycles(map[string]string{"a": "b", "b": "c", "c": "b", "d": "d", "e": "", "f": "zz", "g": "a"})
	want := []string{"b", "c", "d"}
	if len(got) != len(want) {
		t.Fatalf("ParentCycles = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ParentCycles = %v, want %v", got, want)
		}
	}
}
