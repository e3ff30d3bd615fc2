// emulate.h — what the device code needs to compile as C++ for the CPU
// (tests only: cuda/gpu built with -tags cudaemu runs the real host code
// against the .cu kernels this way, on a machine without a GPU). Blocks run
// one after another; the threads of a block run concurrently on a pool of
// OS threads, with __syncthreads as a barrier, so shared memory is a static
// per kernel. It checks the kernels' logic and the host code's launches,
// not the GPU memory model or performance.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

struct dim3 {
	unsigned int x = 1, y = 1, z = 1;
};
extern thread_local dim3 threadIdx;
extern dim3 blockIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

void __syncthreads();
void* gk_emu_dynamic_shared();
#define DYNAMIC_SHARED(T, name) T* name = (T*)gk_emu_dynamic_shared()

inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
	return (unsigned long long)(((unsigned __int128)a * (unsigned __int128)b) >> 64);
}
inline long long __double_as_longlong(double v) {
	long long r;
	memcpy(&r, &v, 8);
	return r;
}
template <class T> inline T min(T a, T b) { return a < b ? a : b; }
template <class T> inline T max(T a, T b) { return a > b ? a : b; }

inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline unsigned int atomicAdd(unsigned int* p, unsigned int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
	return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
inline double atomicAdd(double* p, double v) {
	unsigned long long* q = (unsigned long long*)p;
	unsigned long long old = __atomic_load_n(q, __ATOMIC_SEQ_CST), next;
	double x;
	do {
		memcpy(&x, &old, 8);
		x += v;
		memcpy(&next, &x, 8);
	} while (!__atomic_compare_exchange_n(q, &old, next, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	memcpy(&x, &old, 8);
	return x;
}
inline int atomicCAS(int* p, int cmp, int val) {
	__atomic_compare_exchange_n(p, &cmp, val, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	return cmp; // the old value either way
}
