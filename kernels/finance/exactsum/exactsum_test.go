package exactsum

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exact is the float64 nearest the exact sum of xs (math/big, ties to
// even).
func exact(xs []float64) float64 {
	sum := new(big.Float).SetPrec(4096)
	for _, x := range xs {
		sum.Add(sum, new(big.Float).SetPrec(4096).SetFloat64(x))
	}
	f, _ := sum.Float64()
	return f
}

// TestSumsEqualBig: on lists of several shapes (money with cents, wide
// magnitudes, powers of two, ties at the rounding position, zeros, values
// near the scale's ends), the Sum rounds to the float64 nearest the exact
// sum, in whatever order the terms are added.
func TestSumsEqualBig(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := map[string]func() float64{
		"cents":   func() float64 { return float64(rng.IntN(1_000_000_00)) / 100 },
		"wide":    func() float64 { return math.Ldexp(1+rng.Float64(), rng.IntN(60)-12) },
		"uniform": func() float64 { return 1 + rng.Float64()*9999 },
		"pow2":    func() float64 { return math.Ldexp(1, rng.IntN(120)-64) },
		"ties":    func() float64 { return []float64{1 << 53, 1, 3, 0.5}[rng.IntN(4)] },
		"zeros":   func() float64 { return []float64{0, 0, 2.5}[rng.IntN(3)] },
		"top":     func() float64 { return math.Ldexp(1+rng.Float64(), 50) },
		"bottom":  func() float64 { return math.Ldexp(float64(1+rng.IntN(1<<20)), -64) },
	}
	// A tie at the rounding position that only bits below the top 64
	// break (the sticky bit): 2^60 + 2^7 + 2^-60 rounds up to 2^60 + 2^8.
	var s Sum
	for _, x := range []float64{0x1p60, 0x1p7, 0x1p-60} {
		if s.AddFloat(x) {
			t.Fatal("overflow")
		}
	}
	if got := s.Float64(); got != 0x1p60+0x1p8 {
		t.Fatalf("2^60 + 2^7 + 2^-60 = %b, want 2^60 + 2^8", got)
	}
	for name, gen := range shapes {
		for trial := range 300 {
			xs := make([]float64, 1+rng.IntN(300))
			for i := range xs {
				xs[i] = gen()
				if !Qualifies(xs[i]) {
					t.Fatalf("%s: %v does not qualify", name, xs[i])
				}
			}
			want := exact(xs)
			for range 3 {
				var s Sum
				for _, x := range xs {
					if s.AddFloat(x) {
						t.Fatalf("%s: overflow", name)
					}
				}
				if got := s.Float64(); got != want {
					t.Fatalf("%s trial %d: sum %v (%b), exact %v (%b)", name, trial, got, got, want, want)
				}
				rng.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
			}
		}
	}
}

// TestOf: the amounts that qualify are exactly those below 2^64 that are
// whole multiples of 2^-64 and not negative; Of's value equals math/big's.
func TestOf(t *testing.T) {
	for _, a := range []float64{0, 0x1p-64, 3 * 0x1p-64, 0.01, 0.001, 1, 1234.56, 1e15, 0x1p64 - 0x1p11, 0x1p63} {
		s, ok := Of(a)
		if !ok {
			t.Errorf("%v (%b) refused", a, a)
			continue
		}
		want := new(big.Float).SetPrec(200).SetMantExp(new(big.Float).SetFloat64(a), 64)
		got := new(big.Float).SetPrec(200).SetInt(new(big.Int).Or(new(big.Int).Lsh(new(big.Int).SetUint64(s.Hi), 64), new(big.Int).SetUint64(s.Lo)))
		if got.Cmp(want) != 0 {
			t.Errorf("Of(%v) = %v units, want %v", a, got, want)
		}
		if s.Float64() != a {
			t.Errorf("Of(%v).Float64() = %v", a, s.Float64())
		}
	}
	for _, a := range []float64{-1, math.Copysign(0, -1), -1e-300, 0x1p-65, 3 * 0x1p-65, 1e-9, 1e-300, 5e-324, 0x1p64, 1e19 * 2, 1e308,
		math.Inf(1), math.Inf(-1), math.NaN()} {
		if Qualifies(a) {
			t.Errorf("%v (%b) qualifies", a, a)
		}
	}
}

// TestOverflow: Add reports a carry out of 2^64 and not before.
func TestOverflow(t *testing.T) {
	var s Sum
	big := 0x1p63
	if s.AddFloat(big) || s.AddFloat(big-0x1p11) {
		t.Fatal("overflow below 2^64")
	}
	if !s.AddFloat(0x1p11) {
		t.Fatal("2^64 not reported")
	}
}

func BenchmarkAddFloat(b *testing.B) {
	xs := make([]float64, 1024)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range xs {
		xs[i] = 1 + rng.Float64()*9999
	}
	var s Sum
	for i := range b.N {
		s.AddFloat(xs[i&1023])
	}
	_ = s.Float64()
}
