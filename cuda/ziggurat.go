package cuda

import "math"

// Ziggurat constants of kernels/risk/philox (numpy's 256-layer ziggurat).
const (
	ZigR    = 3.6541528853610088
	ZigInvR = 0.27366123732975828
)

// ZigguratTables are the device copy of philox's tables.
type ZigguratTables struct {
	K [256]uint64  // acceptance threshold on the 52-bit abscissa
	W [256]float64 // abscissa scale of each layer
	F [256]float64 // exp(−x²/2) at each layer
}

// Ziggurat computes the tables exactly as philox does (same recursion,
// same Go math functions, hence the same bits); the device gets this copy
// because philox keeps its own unexported. TestZigguratMirror checks the
// two agree by drawing with them.
func Ziggurat() *ZigguratTables {
	const m = 0x1p52
	var z ZigguratTables
	fr := math.Exp(-0.5 * ZigR * ZigR)
	v := ZigR*fr + math.Sqrt(math.Pi/2)*math.Erfc(ZigR/math.Sqrt2)
	q := v / fr
	z.K[0] = uint64(ZigR / q * m)
	z.W[0] = q / m
	z.W[255] = ZigR / m
	z.F[0] = 1
	z.F[255] = fr
	dn, tn := ZigR, ZigR
	for i := 254; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(v/dn+math.Exp(-0.5*dn*dn)))
		z.K[i+1] = uint64(dn / tn * m)
		tn = dn
		z.F[i] = math.Exp(-0.5 * dn * dn)
		z.W[i] = dn / m
	}
	return &z
}
