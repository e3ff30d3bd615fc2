// Shared helpers of the gokernels device code. Every kernel is extern "C"
// (unmangled names for cuModuleGetFunction) and takes only pointers and
// 64-bit scalars, because gorgonia.org/cu copies 8 bytes per argument.
//
// Built with nvcc -ptx --fmad=false: no multiply-add contraction, so the
// floating-point operations are the Go CPU path's, one for one.
#pragma once

#ifdef GK_EMULATE
#include "emulate.h" // CPU build of the device code for tests (cuda/gpu, -tags cudaemu)
#else
#define DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#endif

#define TPB 256 // threads per block of the 1-D kernels

#define GRID_STRIDE(i, n)                                                    \
	for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;      \
	     i < (n); i += (long long)blockDim.x * gridDim.x)

// block_sum reduces v over the block (blockDim.x == TPB) in a fixed tree
// order; the result is valid in thread 0.
__device__ __forceinline__ double block_sum(double v) {
	__shared__ double buf[TPB];
	buf[threadIdx.x] = v;
	__syncthreads();
	for (int s = TPB / 2; s > 0; s >>= 1) {
		if (threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
		__syncthreads();
	}
	double r = buf[0];
	__syncthreads();
	return r;
}
