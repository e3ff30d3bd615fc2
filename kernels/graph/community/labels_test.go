package community

import (
	"slices"
	"testing"
)

func TestCanonical(t *testing.T) {
	got, k := Canonical([]int32{7, 7, -1, 3, -1, 7})
	if want := []int32{0, 0, 1, 2, 1, 0}; !slices.Equal(got, want) || k != 3 {
		t.Fatalf("Canonical = %v, %d; want %v, 3", got, k, want)
	}
}
