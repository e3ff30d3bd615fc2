package cuda_test

import (
	"math"
	"math/bits"
	"testing"

	"github.com/gokernels/gokernels/cuda"
	"github.com/gokernels/gokernels/kernels/risk/philox"
)

// devStream is montecarlo.cu's Stream and stream_normal transcribed to Go
// line by line, over cuda.Ziggurat's tables. Equality with
// philox.Stream.Normals over many paths (every branch: rectangles, wedges,
// the tail) shows the device algorithm and its tables are philox's.
type devStream struct {
	k0, c0, c1, c2 uint64
	buf            [4]uint64
	pos            int
}

func (s *devStream) refill() {
	s.c0++
	if s.c0 == 0 {
		s.c1++
	}
	c0, c1, c2, c3 := s.c0, s.c1, s.c2, uint64(0)
	k0, k1 := s.k0, uint64(0)
	for range 10 {
		hi0, lo0 := bits.Mul64(0xD2E7470EE14C6C93, c0)
		hi1, lo1 := bits.Mul64(0xCA5A826395121157, c2)
		c0, c1, c2, c3 = hi1^c1^k0, lo1, hi0^c3^k1, lo0
		k0 += 0x9E3779B97F4A7C15
		k1 += 0xBB67AE8584CAA73B
	}
	s.buf = [4]uint64{c0, c1, c2, c3}
	s.pos = 0
}

func (s *devStream) u64() uint64 {
	if s.pos == 4 {
		s.refill()
	}
	v := s.buf[s.pos]
	s.pos++
	return v
}

func (s *devStream) f64() float64 { return float64(s.u64()>>11) * 0x1p-53 }

func (s *devStream) normal(z *cuda.ZigguratTables) float64 {
	if s.pos < 4 {
		r := s.buf[s.pos]
		idx := r & 0xff
		rabs := (r >> 9) & (1<<52 - 1)
		if rabs < z.K[idx] {
			s.pos++
			x := float64(rabs) * z.W[idx]
			if r&0x100 != 0 {
				return -x
			}
			return x
		}
	}
	for {
		r := s.u64()
		idx := r & 0xff
		r >>= 8
		rabs := (r >> 1) & (1<<52 - 1)
		x := float64(rabs) * z.W[idx]
		if r&1 != 0 {
			x = -x
		}
		if rabs < z.K[idx] {
			return x
		}
		if idx == 0 {
			for {
				xx := -cuda.ZigInvR * math.Log1p(-s.f64())
				yy := -math.Log1p(-s.f64())
				if yy+yy > xx*xx {
					if (rabs>>8)&1 != 0 {
						return -(cuda.ZigR + xx)
					}
					return cuda.ZigR + xx
				}
			}
		}
		if (z.F[idx-1]-z.F[idx])*s.f64()+z.F[idx] < math.Exp(-0.5*x*x) {
			return x
		}
	}
}

func TestZigguratMirror(t *testing.T) {
	z := cuda.Ziggurat()
	const na = 37 // odd, so paths end mid-block
	want := make([]float64, na)
	tails := 0
	for _, seed := range []uint64{0, 42, 1 << 63} {
		for p := uint64(0); p < 4000; p++ {
			ps := philox.PathStream(seed, p)
			ps.Normals(want)
			s := devStream{k0: seed, c2: p, pos: 4}
			for j := range want {
				got := s.normal(z)
				if math.Float64bits(got) != math.Float64bits(want[j]) {
					t.Fatalf("seed %d path %d draw %d: device mirror %v, philox %v", seed, p, j, got, want[j])
				}
				if math.Abs(got) > cuda.ZigR {
					tails++
				}
			}
		}
	}
	if tails == 0 {
		t.Error("no tail draws exercised")
	}
}
