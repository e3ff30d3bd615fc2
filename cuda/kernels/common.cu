// Generic reductions and scans used by several kernels.
#include "common.cuh"

// reduce_sum writes the sum of in[0..n) to out[0]. One block of TPB threads;
// each thread sums a contiguous stretch, then a fixed tree: deterministic.
extern "C" __global__ void reduce_sum(const double* in, long long n, double* out) {
	long long per = (n + TPB - 1) / TPB;
	long long lo = threadIdx.x * per, hi = min(n, lo + per);
	double s = 0;
	for (long long i = lo; i < hi; i++) s += in[i];
	s = block_sum(s);
	if (threadIdx.x == 0) out[0] = s;
}

#define SCAN_ITEMS 8 // values per thread: a block scans TPB*SCAN_ITEMS values

// scan_tiles writes the inclusive prefix sums of each tile of
// TPB*SCAN_ITEMS values of in to out, and each tile's total to tiles.
extern "C" __global__ void scan_tiles(const double* in, double* out, long long n, double* tiles) {
	__shared__ double part[TPB];
	long long base = blockIdx.x * (long long)(TPB * SCAN_ITEMS) + threadIdx.x * (long long)SCAN_ITEMS;
	double local[SCAN_ITEMS];
	double acc = 0;
	for (int j = 0; j < SCAN_ITEMS; j++) {
		long long i = base + j;
		acc += (i < n) ? in[i] : 0.0;
		local[j] = acc;
	}
	part[threadIdx.x] = acc;
	__syncthreads();
	// Hillis-Steele inclusive scan of the thread totals.
	for (int off = 1; off < TPB; off <<= 1) {
		double v = threadIdx.x >= off ? part[threadIdx.x - off] : 0.0;
		__syncthreads();
		part[threadIdx.x] += v;
		__syncthreads();
	}
	double before = threadIdx.x > 0 ? part[threadIdx.x - 1] : 0.0;
	for (int j = 0; j < SCAN_ITEMS; j++) {
		long long i = base + j;
		if (i < n) out[i] = before + local[j];
	}
	if (threadIdx.x == TPB - 1) tiles[blockIdx.x] = part[TPB - 1];
}

// scan_add adds the inclusive scan of the previous tiles' totals to each
// tile after the first.
extern "C" __global__ void scan_add(double* out, long long n, const double* tileScan) {
	GRID_STRIDE(i, n) {
		long long t = i / (TPB * SCAN_ITEMS);
		if (t > 0) out[i] += tileScan[t - 1];
	}
}
