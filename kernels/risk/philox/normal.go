package philox

import "math"

// Normal returns a standard normal draw by the 256-layer ziggurat of
// Marsaglia & Tsang (2000) as numpy's Generator.standard_normal implements
// it: one 64-bit word gives the layer (8 bits), the sign (1 bit) and a 52-bit
// abscissa, and 99.3% of draws are accepted with one multiply and one
// compare. That is what makes 10⁸ draws per second-core affordable; an
// inverse-CDF transform costs a rational function and often a logarithm per
// draw.
//
// Normal is the reference form of the algorithm, step by step as numpy's
// random_standard_normal consumes words; Normals gives the same draws with
// the common case unrolled.
func (s *Stream) Normal() float64 {
	for {
		r := s.Uint64()
		idx := r & 0xff
		r >>= 8
		rabs := (r >> 1) & (1<<52 - 1)
		x := float64(rabs) * zig.w[idx]
		if r&1 != 0 {
			x = -x
		}
		if rabs < zig.k[idx] {
			return x
		}
		if idx == 0 {
			// Base layer: sample the tail beyond r (Marsaglia 1964), using
			// 1−U so that log never sees 0.
			for {
				xx := -zigInvR * math.Log1p(-s.Float64())
				yy := -math.Log1p(-s.Float64())
				if yy+yy > xx*xx {
					if (rabs>>8)&1 != 0 {
						return -(zigR + xx)
					}
					return zigR + xx
				}
			}
		}
		// Wedge between the layer's rectangle and the density.
		if (zig.f[idx-1]-zig.f[idx])*s.Float64()+zig.f[idx] < math.Exp(-0.5*x*x) {
			return x
		}
	}
}

// Normals fills z with the next len(z) draws: the same numbers as calling
// Normal len(z) times. This is the Monte Carlo inner loop, so the common case
// is written out here: refill a block when it is used up, then accept words
// while they fall inside their layer's rectangle, with the sign applied by
// flipping the sign bit instead of an unpredictable branch.
func (s *Stream) Normals(z []float64) {
	j := 0
	for j < len(z) {
		if s.pos == 4 {
			s.refill()
		}
		p := s.pos
		for p < 4 && j < len(z) {
			r := s.buf[p]
			idx := r & 0xff
			rabs := (r >> 9) & (1<<52 - 1)
			if rabs >= zig.k[idx] {
				break
			}
			z[j] = math.Float64frombits(math.Float64bits(float64(rabs)*zig.w[idx]) ^ (r&0x100)<<55)
			j++
			p++
		}
		s.pos = p
		if p < 4 && j < len(z) {
			z[j] = s.Normal() // the word at p needs the wedge or tail test
			j++
		}
	}
}

// Ziggurat parameters for 256 layers: the base layer starts at zigR and
// every layer has area zigV (the rectangle area r·f(r) plus the tail mass).
const (
	zigR    = 3.6541528853610088
	zigInvR = 0.27366123732975828 // 1/zigR
)

var zig = newZiggurat()

// ZigguratTables returns the sampler's tables: per layer the acceptance
// threshold k on the 52-bit abscissa, the abscissa scale w and exp(−x²/2)
// f. The GPU path (cuda/) uploads these exact bits.
func ZigguratTables() (k [256]uint64, w, f [256]float64) { return zig.k, zig.w, zig.f }

type ziggurat struct {
	k [256]uint64  // acceptance threshold on the 52-bit abscissa: x_{i−1}/x_i · 2⁵²
	w [256]float64 // x_i / 2⁵²: abscissa scale of layer i
	f [256]float64 // exp(−x_i²/2)
}

// newZiggurat builds the tables with Marsaglia & Tsang's recursion
// x_{i−1} = f⁻¹(v/x_i + f(x_i)), from the bottom layer (x = r) up, where
// f(x) = exp(−x²/2) and v = r·f(r) + √(π/2)·erfc(r/√2).
func newZiggurat() ziggurat {
	const m = 0x1p52
	var z ziggurat
	fr := math.Exp(-0.5 * zigR * zigR)
	v := zigR*fr + math.Sqrt(math.Pi/2)*math.Erfc(zigR/math.Sqrt2)
	q := v / fr
	z.k[0] = uint64(zigR / q * m)
	z.w[0] = q / m
	z.w[255] = zigR / m
	z.f[0] = 1
	z.f[255] = fr
	dn, tn := zigR, zigR
	for i := 254; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(v/dn+math.Exp(-0.5*dn*dn)))
		z.k[i+1] = uint64(dn / tn * m)
		tn = dn
		z.f[i] = math.Exp(-0.5 * dn * dn)
		z.w[i] = dn / m
	}
	return z
}
