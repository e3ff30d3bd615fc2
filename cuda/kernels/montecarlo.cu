// Monte Carlo VaR: one thread per path draws the path's normals from its
// own Philox4x64-10 stream with numpy's ziggurat — the arithmetic of
// kernels/risk/philox, so a seed gives the CPU path's P&L (the rare wedge
// and tail draws use the device's exp/log1p, which may differ from Go's in
// the last bit) — then exact order statistics by radix select, and the
// CPU path's summation orders for the mean, the deviation and the mean
// tail draw.
#include "common.cuh"

#define PHILOX_M0 0xD2E7470EE14C6C93ULL
#define PHILOX_M1 0xCA5A826395121157ULL
#define PHILOX_W0 0x9E3779B97F4A7C15ULL
#define PHILOX_W1 0xBB67AE8584CAA73BULL
#define ZIG_R 3.6541528853610088
#define ZIG_INV_R 0.27366123732975828
#define MASK52 ((1ULL << 52) - 1)

struct Tables {
	const unsigned long long* k; // acceptance thresholds
	const double* w;             // abscissa scales
	const double* f;             // exp(-x²/2)
};

// Stream is philox.Stream: key {seed, 0}, counter {c0, 0, path, 0},
// four words per block.
struct Stream {
	unsigned long long k0, c0, c1, c2;
	unsigned long long buf[4];
	int pos;
};

__device__ __forceinline__ void philox_refill(Stream& s) {
	s.c0++;
	if (s.c0 == 0) s.c1++;
	unsigned long long c0 = s.c0, c1 = s.c1, c2 = s.c2, c3 = 0;
	unsigned long long k0 = s.k0, k1 = 0;
#pragma unroll
	for (int r = 0; r < 10; r++) {
		unsigned long long hi0 = __umul64hi(PHILOX_M0, c0), lo0 = PHILOX_M0 * c0;
		unsigned long long hi1 = __umul64hi(PHILOX_M1, c2), lo1 = PHILOX_M1 * c2;
		c0 = hi1 ^ c1 ^ k0;
		c1 = lo1;
		c2 = hi0 ^ c3 ^ k1;
		c3 = lo0;
		k0 += PHILOX_W0;
		k1 += PHILOX_W1;
	}
	s.buf[0] = c0;
	s.buf[1] = c1;
	s.buf[2] = c2;
	s.buf[3] = c3;
	s.pos = 0;
}

__device__ __forceinline__ void stream_init(Stream& s, unsigned long long seed, unsigned long long path) {
	s.k0 = seed;
	s.c0 = 0;
	s.c1 = 0;
	s.c2 = path;
	s.pos = 4;
}

__device__ __forceinline__ unsigned long long stream_u64(Stream& s) {
	if (s.pos == 4) philox_refill(s);
	return s.buf[s.pos++];
}

__device__ __forceinline__ double stream_f64(Stream& s) {
	return (double)(stream_u64(s) >> 11) * 0x1p-53;
}

// stream_normal is philox.Stream.Normal: the rectangle fast path on the
// current block, else the full ziggurat (wedges, tail).
__device__ double stream_normal(Stream& s, const Tables& z) {
	if (s.pos < 4) {
		unsigned long long r = s.buf[s.pos];
		unsigned long long idx = r & 0xff;
		unsigned long long rabs = (r >> 9) & MASK52;
		if (rabs < z.k[idx]) {
			s.pos++;
			double x = (double)rabs * z.w[idx];
			return (r & 0x100) ? -x : x;
		}
	}
	for (;;) {
		unsigned long long r = stream_u64(s);
		unsigned long long idx = r & 0xff;
		r >>= 8;
		unsigned long long rabs = (r >> 1) & MASK52;
		double x = (double)rabs * z.w[idx];
		if (r & 1) x = -x;
		if (rabs < z.k[idx]) return x;
		if (idx == 0) {
			for (;;) {
				double xx = -ZIG_INV_R * log1p(-stream_f64(s));
				double yy = -log1p(-stream_f64(s));
				if (yy + yy > xx * xx) return ((rabs >> 8) & 1) ? -(ZIG_R + xx) : ZIG_R + xx;
			}
		}
		if ((z.f[idx - 1] - z.f[idx]) * stream_f64(s) + z.f[idx] < exp(-0.5 * x * x)) return x;
	}
}

// Shared-memory staging of the tables (6 KiB) and of the loadings.
struct Staged {
	Tables z;
	const double* loading;
};

__device__ Staged stage(const unsigned long long* gk, const double* gw, const double* gf, const double* gload,
                        long long na, long long loadShared) {
	DYNAMIC_SHARED(unsigned char, smem);
	unsigned long long* sk = (unsigned long long*)smem;
	double* sw = (double*)(sk + 256);
	double* sf = sw + 256;
	double* sl = sf + 256;
	for (int i = threadIdx.x; i < 256; i += blockDim.x) {
		sk[i] = gk[i];
		sw[i] = gw[i];
		sf[i] = gf[i];
	}
	if (loadShared)
		for (long long i = threadIdx.x; i < na; i += blockDim.x) sl[i] = gload[i];
	__syncthreads();
	Staged st;
	st.z.k = sk;
	st.z.w = sw;
	st.z.f = sf;
	st.loading = loadShared ? sl : gload;
	return st;
}

// mc_pnl: pnl[p] = drift + Σ_j loading[j]·z[p][j], j ascending.
extern "C" __global__ void mc_pnl(unsigned long long seed, double drift, const double* loading, long long na,
                                  long long loadShared, long long paths, const unsigned long long* zk,
                                  const double* zw, const double* zf, double* pnl) {
	Staged st = stage(zk, zw, zf, loading, na, loadShared);
	GRID_STRIDE(p, paths) {
		Stream s;
		stream_init(s, seed, (unsigned long long)p);
		double v = drift;
		for (long long j = 0; j < na; j++) v += st.loading[j] * stream_normal(s, st.z);
		pnl[p] = v;
	}
}

// mc_block_sums: out[b] = Σ over the block's paths of pnl (mode 0) or
// (pnl − mean)² (mode 1), sequentially: the CPU path's meanStd order.
extern "C" __global__ void mc_block_sums(const double* pnl, long long paths, long long block, double mean,
                                         long long mode, double* out) {
	GRID_STRIDE(b, (paths + block - 1) / block) {
		long long lo = b * block, hi = lo + block < paths ? lo + block : paths;
		double s = 0;
		if (mode == 0) {
			for (long long i = lo; i < hi; i++) s += pnl[i];
		} else {
			for (long long i = lo; i < hi; i++) {
				double dv = pnl[i] - mean;
				s += dv * dv;
			}
		}
		out[b] = s;
	}
}

// Order-preserving map of doubles to unsigned integers (−0 sorts below +0;
// the host handles a zero threshold separately).
__device__ __forceinline__ unsigned long long mc_key(double v) {
	unsigned long long b = __double_as_longlong(v);
	return (b >> 63) ? ~b : b ^ 0x8000000000000000ULL;
}

// mc_hist: histogram of the 8-bit digit at shift of the keys whose higher
// bits equal prefix (under mask).
extern "C" __global__ void mc_hist(const double* pnl, long long paths, unsigned long long prefix,
                                   unsigned long long mask, long long shift, unsigned long long* hist) {
	__shared__ unsigned int h[256];
	for (int i = threadIdx.x; i < 256; i += blockDim.x) h[i] = 0;
	__syncthreads();
	GRID_STRIDE(p, paths) {
		unsigned long long key = mc_key(pnl[p]);
		if ((key & mask) == prefix) atomicAdd(&h[(key >> shift) & 0xff], 1u);
	}
	__syncthreads();
	for (int i = threadIdx.x; i < 256; i += blockDim.x)
		if (h[i]) atomicAdd(&hist[i], (unsigned long long)h[i]);
}

// mc_compact: appends (index, value) of every path whose key is below
// (mode 0) or equal to (mode 1) the threshold key.
extern "C" __global__ void mc_compact(const double* pnl, long long paths, unsigned long long tkey, long long mode,
                                      long long* outIdx, double* outVal, unsigned long long* count) {
	GRID_STRIDE(p, paths) {
		unsigned long long key = mc_key(pnl[p]);
		if (mode == 0 ? key < tkey : key == tkey) {
			unsigned long long at = atomicAdd(count, 1ULL);
			outIdx[at] = p;
			outVal[at] = pnl[p];
		}
	}
}

// mc_tail_draws: z[q][:] = the first na normals of path tail[q].
extern "C" __global__ void mc_tail_draws(unsigned long long seed, const long long* tail, long long count, long long na,
                                         const unsigned long long* zk, const double* zw, const double* zf, double* z) {
	Staged st = stage(zk, zw, zf, 0, 0, 0);
	GRID_STRIDE(q, count) {
		Stream s;
		stream_init(s, seed, (unsigned long long)tail[q]);
		for (long long j = 0; j < na; j++) z[q * na + j] = stream_normal(s, st.z);
	}
}

// mc_chunk_sums: out[c][j] = Σ over the tail paths of chunk c (in index
// order) of z[q][j]: the CPU path's meanDraws order.
extern "C" __global__ void mc_chunk_sums(const double* z, long long count, long long na, long long chunk, double* out) {
	long long chunks = (count + chunk - 1) / chunk;
	GRID_STRIDE(t, chunks * na) {
		long long c = t / na, j = t % na;
		long long lo = c * chunk, hi = lo + chunk < count ? lo + chunk : count;
		double s = 0;
		for (long long q = lo; q < hi; q++) s += z[q * na + j];
		out[c * na + j] = s;
	}
}
