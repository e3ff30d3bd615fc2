// k-means: k-means++ seeding steps and Lloyd iterations. The host
// (cuda/gpu/kmeans.go, mirrored by cuda/emu) drives the iterations, draws
// the k-means++ candidates with the CPU path's PCG streams and does the
// O(k·d) work; the device does everything O(n).
#include "common.cuh"

// km_sqdist is the kmeans package's sqDist, operation for operation: four
// accumulators, then (s0+s1)+(s2+s3).
__device__ __forceinline__ double km_sqdist(const double* a, const double* b, long long d) {
	double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	long long i = 0;
	for (; i + 3 < d; i += 4) {
		double d0 = a[i] - b[i];
		double d1 = a[i + 1] - b[i + 1];
		double d2 = a[i + 2] - b[i + 2];
		double d3 = a[i + 3] - b[i + 3];
		s0 += d0 * d0;
		s1 += d1 * d1;
		s2 += d2 * d2;
		s3 += d3 * d3;
	}
	for (; i < d; i++) {
		double dd = a[i] - b[i];
		s0 += dd * dd;
	}
	return (s0 + s1) + (s2 + s3);
}

// km_dist_to_row: closest[i] = ‖x_i − x_r‖², and per-block partial sums
// (blocks of TPB rows, one row per thread).
extern "C" __global__ void km_dist_to_row(const double* data, long long n, long long d, long long r,
                                          double* closest, double* partial) {
	long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
	double v = 0;
	if (i < n) {
		v = km_sqdist(data + i * d, data + r * d, d);
		closest[i] = v;
	}
	v = block_sum(v);
	if (threadIdx.x == 0) partial[blockIdx.x] = v;
}

// km_search: cand[t] = min(first i with cum[i] >= r[t], n−1)
// (sort.SearchFloat64s on the inclusive prefix sums).
extern "C" __global__ void km_search(const double* cum, long long n, const double* r, long long trials, long long* cand) {
	long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x;
	if (t >= trials) return;
	double x = r[t];
	long long lo = 0, hi = n; // first index in [lo, hi) with cum >= x
	while (lo < hi) {
		long long mid = (lo + hi) / 2;
		if (cum[mid] < x) lo = mid + 1;
		else hi = mid;
	}
	cand[t] = lo < n - 1 ? lo : n - 1;
}

// km_cand_dist: for each candidate t, candDist[t][i] = min(closest[i],
// ‖x_i − x_cand[t]‖²) and its per-block partial sums partial[t][block].
extern "C" __global__ void km_cand_dist(const double* data, long long n, long long d, const double* closest,
                                        const long long* cand, long long trials, double* candDist, double* partial) {
	long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
	for (long long t = 0; t < trials; t++) {
		double v = 0;
		if (i < n) {
			v = km_sqdist(data + i * d, data + cand[t] * d, d);
			double c = closest[i];
			v = c < v ? c : v;
			candDist[t * n + i] = v;
		}
		v = block_sum(v);
		if (threadIdx.x == 0) partial[t * gridDim.x + blockIdx.x] = v;
	}
}

// km_assign: labels[i] = the first nearest centre; counts the rows whose
// label differs from old[i]. Centres are staged in shared memory when they
// fit (useShared).
extern "C" __global__ void km_assign(const double* data, long long n, long long d, const double* centres, long long k,
                                     long long useShared, int* labels, const int* old, unsigned long long* changed) {
	DYNAMIC_SHARED(double, sh);
	const double* c = centres;
	if (useShared) {
		for (long long q = threadIdx.x; q < k * d; q += blockDim.x) sh[q] = centres[q];
		__syncthreads();
		c = sh;
	}
	unsigned long long moved = 0;
	GRID_STRIDE(i, n) {
		const double* x = data + i * d;
		int best = 0;
		double bd = 1.0 / 0.0;
		for (long long j = 0; j < k; j++) {
			double v = km_sqdist(x, c + j * d, d);
			if (v < bd) {
				best = (int)j;
				bd = v;
			}
		}
		labels[i] = best;
		if (best != old[i]) moved++;
	}
	if (moved) atomicAdd(changed, moved);
}

// km_block_sums: block b (blockDim.x lanes over the features) sums the rows
// [b·rows, (b+1)·rows) into bsum[b][label][:] sequentially in row order, and
// lane 0 counts them into bcnt[b][label]. bsum and bcnt start zeroed. Each
// cell has one writer, so the sums are deterministic.
extern "C" __global__ void km_block_sums(const double* data, long long n, long long d, const int* labels, long long k,
                                         long long rows, double* bsum, double* bcnt) {
	long long lo = blockIdx.x * rows;
	long long hi = lo + rows < n ? lo + rows : n;
	double* s = bsum + blockIdx.x * k * d;
	for (long long j = threadIdx.x; j < d; j += blockDim.x) {
		for (long long i = lo; i < hi; i++) s[labels[i] * d + j] += data[i * d + j];
	}
	if (threadIdx.x == 0) {
		double* c = bcnt + blockIdx.x * k;
		for (long long i = lo; i < hi; i++) c[labels[i]] += 1;
	}
}

// km_reduce_blocks: sums[q] = Σ_b bsum[b][q] and weight[c] = Σ_b bcnt[b][c],
// in block order.
extern "C" __global__ void km_reduce_blocks(const double* bsum, const double* bcnt, long long blocks, long long k,
                                            long long d, double* sums, double* weight) {
	GRID_STRIDE(q, k * d) {
		double s = 0;
		for (long long b = 0; b < blocks; b++) s += bsum[b * k * d + q];
		sums[q] = s;
		if (q < k) {
			double w = 0;
			for (long long b = 0; b < blocks; b++) w += bcnt[b * k + q];
			weight[q] = w;
		}
	}
}

// km_dist_own: dist[i] = ‖x_i − centre(labels[i])‖² and per-block partial
// sums (the inertia), one row per thread.
extern "C" __global__ void km_dist_own(const double* data, long long n, long long d, const double* centres,
                                       const int* labels, double* dist, double* partial) {
	long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
	double v = 0;
	if (i < n) {
		v = km_sqdist(data + i * d, centres + (long long)labels[i] * d, d);
		dist[i] = v;
	}
	v = block_sum(v);
	if (threadIdx.x == 0) partial[blockIdx.x] = v;
}
