package explain

import (
	"slices"
	"testing"
)

// Reference values from numpy 1.24:
//
//	r = np.random.RandomState(42); r.randint(2**31)
//	a = np.arange(10); r.shuffle(a)
//	a = np.arange(1000); r.shuffle(a); a[:8]
func TestRandomStateMatchesNumpy(t *testing.T) {
	r := newRandomState(42)
	if got := r.randint31(); got != 1608637542 {
		t.Fatalf("randint(2**31) = %d, want 1608637542", got)
	}
	a := make([]int, 10)
	for i := range a {
		a[i] = i
	}
	r.shuffle(a)
	if want := []int{5, 0, 9, 6, 2, 1, 8, 4, 7, 3}; !slices.Equal(a, want) {
		t.Fatalf("shuffle(arange(10)) = %v, want %v", a, want)
	}
	b := make([]int, 1000)
	for i := range b {
		b[i] = i
	}
	r.shuffle(b)
	if want := []int{752, 519, 210, 611, 914, 534, 841, 199}; !slices.Equal(b[:8], want) {
		t.Fatalf("shuffle(arange(1000))[:8] = %v, want %v", b[:8], want)
	}
}
