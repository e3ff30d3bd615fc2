package regression

// chunkRows is the number of rows one task reduces. It is fixed (not derived
// from GOMAXPROCS) so that partial results, and therefore the rounding of the
// final sums, do not depend on the machine.
const chunkRows = 1024

// chunks splits n rows into contiguous [lo, hi) ranges of at least minRows
// rows each (the last range absorbs the remainder), so every range has
// enough rows for a QR factorisation of its block.
func chunks(n, minRows int) [][2]int {
	size := max(chunkRows, minRows)
	count := max(1, n/size)
	out := make([][2]int, count)
	for i := range count {
		out[i] = [2]int{i * size, (i + 1) * size}
	}
	out[count-1][1] = n
	return out
}
