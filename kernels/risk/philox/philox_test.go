package philox

import (
	"math"
	"testing"
)

// Known-answer vectors from Random123's tests/kat_vectors for philox4x64 10
// (also what numpy.random.Philox produces for these counters and keys).
func TestBlockKnownAnswers(t *testing.T) {
	cases := []struct {
		ctr  Counter
		key  Key
		want [4]uint64
	}{
		{Counter{}, Key{}, [4]uint64{0x16554d9eca36314c, 0xdb20fe9d672d0fdc, 0xd7e772cee186176b, 0x7e68b68aec7ba23b}},
		{Counter{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}, Key{^uint64(0), ^uint64(0)},
			[4]uint64{0x87b092c3013fe90b, 0x438c3c67be8d0224, 0x9cc7d7c69cd777b6, 0xa09caebf594f0ba0}},
		{Counter{0x243f6a8885a308d3, 0x13198a2e03707344, 0xa4093822299f31d0, 0x082efa98ec4e6c89}, Key{0x452821e638d01377, 0xbe5466cf34e90c6c},
			[4]uint64{0xa528f45403e61d95, 0x38c72dbd566e9788, 0xa5a1610e72fd18b5, 0x57bd43b5e52b7fe6}},
	}
	for _, c := range cases {
		if got := Block(c.ctr, c.key); got != c.want {
			t.Errorf("Block(%x, %x) = %x, want %x", c.ctr, c.key, got, c.want)
		}
	}
}

// The stream's first word is the block at counter start+1 (numpy's order).
func TestStreamOrder(t *testing.T) {
	s := PathStream(9, 3)
	b1 := Block(Counter{1, 0, 3, 0}, Key{9, 0})
	b2 := Block(Counter{2, 0, 3, 0}, Key{9, 0})
	for i, want := range append(b1[:], b2[:]...) {
		if got := s.Uint64(); got != want {
			t.Fatalf("word %d = %x, want %x", i, got, want)
		}
	}
}

// Draws printed by numpy 1.24.2:
// numpy.random.Generator(numpy.random.Philox(key=seed, counter=path << 128)).standard_normal(n).
// numpy's ziggurat tables were rounded from a more precise computation, so the
// last few bits may differ.
func TestNormalMatchesNumpy(t *testing.T) {
	cases := []struct {
		seed, path uint64
		want       []float64
	}{
		{9, 3, []float64{-0.2593143110805882, 0.9250356736861504, 0.8542384226375097, -0.3968955430316025,
			-0.29322154428381736, -1.111612294316385, -1.8931274801359197, -0.97731343186648}},
		{1<<64 - 1, 1<<64 - 1, []float64{-0.6083260525309055, -0.7341460008661752, -0.6837109100597921,
			1.2045132347179899, 0.844817854181809, 0.03855797055468315}},
	}
	for _, c := range cases {
		s := PathStream(c.seed, c.path)
		for i, want := range c.want {
			if got := s.Normal(); math.Abs(got-want) > 1e-13*math.Abs(want) {
				t.Errorf("seed %d path %d draw %d = %.17g, numpy %.17g", c.seed, c.path, i, got, want)
			}
		}
	}
}

// Moments and tail frequencies of 10⁶ draws; the standard errors are about
// 1e-3 (mean), 1.4e-3 (variance) and the tolerances are 5 of them.
func TestNormalMoments(t *testing.T) {
	const n = 1_000_000
	var s1, s2, s3, s4 float64
	var beyond2, beyondR int
	for p := uint64(0); p < n/100; p++ {
		st := PathStream(2024, p)
		for range 100 {
			x := st.Normal()
			s1 += x
			s2 += x * x
			s3 += x * x * x
			s4 += x * x * x * x
			if math.Abs(x) > 2 {
				beyond2++
			}
			if math.Abs(x) > zigR {
				beyondR++
			}
		}
	}
	mean, variance := s1/n, s2/n
	if math.Abs(mean) > 5e-3 || math.Abs(variance-1) > 7e-3 || math.Abs(s3/n) > 0.013 || math.Abs(s4/n-3) > 0.05 {
		t.Errorf("moments mean %g var %g skew %g kurt %g", mean, variance, s3/n, s4/n)
	}
	// P(|Z| > 2) = 0.0455003, P(|Z| > r) = 2.58e-4: the tail sampler must work.
	if f := float64(beyond2) / n; math.Abs(f-0.0455003) > 1e-3 {
		t.Errorf("P(|Z|>2) = %g, want 0.0455", f)
	}
	if f := float64(beyondR) / n; math.Abs(f-2.5808e-4) > 8e-5 {
		t.Errorf("P(|Z|>r) = %g, want 2.58e-4", f)
	}
}

// The layers must tile the density: x increases with the layer index, the
// bottom layer is at r and every threshold is a fraction of 2⁵².
func TestZigguratTables(t *testing.T) {
	if zig.w[255]*0x1p52 != zigR || zig.f[0] != 1 {
		t.Fatal("table ends")
	}
	for i := 2; i < 256; i++ {
		if !(zig.w[i] > zig.w[i-1]) || !(zig.f[i] < zig.f[i-1]) || zig.k[i] >= 1<<52 {
			t.Fatalf("layer %d out of order", i)
		}
	}
	if math.Abs(1/zigR-zigInvR) > 1e-16 {
		t.Fatal("zigInvR")
	}
}

// Normals (the unrolled inner loop) must give exactly the draws of Normal,
// including across wedge and tail rejections (about 0.7% of words).
func TestNormalsEqualsNormal(t *testing.T) {
	z := make([]float64, 37)
	for p := uint64(0); p < 3000; p++ {
		a, b := PathStream(5, p), PathStream(5, p)
		a.Normals(z)
		for j, got := range z {
			if want := b.Normal(); got != want {
				t.Fatalf("path %d draw %d: Normals %v, Normal %v", p, j, got, want)
			}
		}
		if a.Uint64() != b.Uint64() {
			t.Fatalf("path %d: streams out of step after the draws", p)
		}
	}
}
