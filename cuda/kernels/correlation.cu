// Covariance of centred series: C = X·Xᵀ/(t−1) for the row-major n×t X,
// by 16×16 tiles of the upper triangle. Each entry is accumulated by one
// thread in ascending k, the CPU path's sequential dot product.
#include "common.cuh"

#define TILE 16

extern "C" __global__ void cov_syrk(const double* x, long long n, long long t, double* cov) {
	long long bi = blockIdx.y, bj = blockIdx.x;
	if (bj < bi) return; // lower triangle: mirrored from the upper one
	__shared__ double a[TILE][TILE + 1];
	__shared__ double b[TILE][TILE + 1];
	int ty = threadIdx.y, tx = threadIdx.x;
	long long i = bi * TILE + ty; // row of the output
	long long j = bj * TILE + tx; // column of the output
	double s = 0;
	for (long long k0 = 0; k0 < t; k0 += TILE) {
		// a holds rows bi*TILE.. of x, b rows bj*TILE.., columns k0..k0+TILE.
		long long ra = bi * TILE + ty, rb = bj * TILE + ty, c = k0 + tx;
		a[ty][tx] = (ra < n && c < t) ? x[ra * t + c] : 0.0;
		b[ty][tx] = (rb < n && c < t) ? x[rb * t + c] : 0.0;
		__syncthreads();
		long long kmax = t - k0 < TILE ? t - k0 : TILE;
		for (long long kk = 0; kk < kmax; kk++) s += a[ty][kk] * b[tx][kk];
		__syncthreads();
	}
	if (i < n && j < n && j >= i) {
		double c = s / (double)(t - 1);
		cov[i * n + j] = c;
		cov[j * n + i] = c;
	}
}
