package cuda

import "github.com/gokernels/gokernels/kernels/risk/philox"

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

// Ziggurat returns philox's own tables (the same bits the CPU path
// draws with). TestZigguratMirror checks the device algorithm over them.
func Ziggurat() *ZigguratTables {
	var z ZigguratTables
	z.K, z.W, z.F = philox.ZigguratTables()
	return &z
}
