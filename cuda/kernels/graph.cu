// Graph kernels: PageRank, Brandes betweenness, degree centrality, weakly
// connected components and triangle counting. The host builds the CSR
// exactly as the CPU path does (kernels/graph/csr) and mirrors the logic in
// cuda/emu.
#include "common.cuh"

// ---------------------------------------------------------------- PageRank

// pr_scale: y[u] = x[u] * inv[u] (inv = 1/out-strength, 0 when dangling).
extern "C" __global__ void pr_scale(const double* x, const double* inv, double* y, long long n) {
	GRID_STRIDE(i, n) y[i] = x[i] * inv[i];
}

// pr_dangling: per-block partial sums of x over the dangling nodes.
extern "C" __global__ void pr_dangling(const double* x, const int* dangling, long long nd, double* partial) {
	double s = 0;
	GRID_STRIDE(i, nd) s += x[dangling[i]];
	s = block_sum(s);
	if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// pr_step: one power-iteration step pulled over the in-arcs, one thread per
// target node summing its in-arcs in CSR order (the CPU path's order):
//   next[v] = damping * Σ y[u]·w(u,v) + (damping·dsum/n + (1−damping)/n)
// and per-block partial sums of |next − x|.
extern "C" __global__ void pr_step(const int* ptr, const int* idx, const double* w, long long weighted,
                                   const double* y, const double* x, double* next, const double* dsum,
                                   double damping, double teleport, double nf, long long n, double* diffPartial) {
	double base = damping * dsum[0] / nf + teleport;
	double d = 0;
	GRID_STRIDE(v, n) {
		double s = 0;
		int lo = ptr[v], hi = ptr[v + 1];
		if (weighted) {
			for (int e = lo; e < hi; e++) s += y[idx[e]] * w[e];
		} else {
			for (int e = lo; e < hi; e++) s += y[idx[e]];
		}
		double nv = damping * s + base;
		next[v] = nv;
		d += fabs(nv - x[v]);
	}
	d = block_sum(d);
	if (threadIdx.x == 0) diffPartial[blockIdx.x] = d;
}

// ------------------------------------------------------------- betweenness

// bc_brandes runs Brandes' dependency accumulation for the sources
// first, first+gridDim.x, … < last: one thread block per source at a time,
// a level-synchronous BFS (depth via atomicCAS, path counts σ via atomicAdd
// — integers, exact in any order), then the backward pass level by level,
// pulling (1 + δ[w]) / σ[w] from the successors on the next level in CSR
// order, as the CPU path does. Per-block scratch of n entries each: depth,
// sigma, coef, order and n+2 level offsets.
extern "C" __global__ void bc_brandes(const int* ptr, const int* idx, long long n, long long first, long long last,
                                      int* depthAll, double* sigmaAll, double* coefAll, int* orderAll,
                                      int* levelAll, double* bc) {
	int* depth = depthAll + blockIdx.x * n;
	double* sigma = sigmaAll + blockIdx.x * n;
	double* coef = coefAll + blockIdx.x * n;
	int* order = orderAll + blockIdx.x * n;
	int* level = levelAll + blockIdx.x * (n + 2);
	__shared__ int tail;

	for (long long i = threadIdx.x; i < n; i += blockDim.x) {
		depth[i] = -1;
		sigma[i] = 0;
	}
	__syncthreads();
	for (long long s = first + blockIdx.x; s < last; s += gridDim.x) {
		if (threadIdx.x == 0) {
			depth[s] = 0;
			sigma[s] = 1;
			order[0] = (int)s;
			level[0] = 0;
			level[1] = 1;
			tail = 1;
		}
		__syncthreads();
		int nlev = 0;
		for (int d = 0;; d++) {
			int lo = level[d], hi = level[d + 1];
			if (lo == hi) {
				nlev = d;
				break;
			}
			for (int i = lo + threadIdx.x; i < hi; i += blockDim.x) {
				int v = order[i];
				double sv = sigma[v];
				for (int e = ptr[v]; e < ptr[v + 1]; e++) {
					int w = idx[e];
					int dw = depth[w];
					if (dw < 0) {
						// Only -1 → d+1 writes happen during this level.
						if (atomicCAS(&depth[w], -1, d + 1) == -1) order[atomicAdd(&tail, 1)] = w;
						dw = d + 1;
					}
					if (dw == d + 1) atomicAdd(&sigma[w], sv);
				}
			}
			__syncthreads();
			if (threadIdx.x == 0) level[d + 2] = tail;
			__syncthreads();
		}
		for (int d = nlev - 1; d >= 0; d--) {
			for (int i = level[d] + threadIdx.x; i < level[d + 1]; i += blockDim.x) {
				int v = order[i];
				double sum = 0;
				for (int e = ptr[v]; e < ptr[v + 1]; e++) {
					int w = idx[e];
					if (depth[w] == d + 1) sum += coef[w];
				}
				double delta = sigma[v] * sum;
				coef[v] = (1 + delta) / sigma[v];
				if (v != s) atomicAdd(&bc[v], delta);
			}
			__syncthreads();
		}
		// Reset what this search touched.
		int reached = tail;
		for (int i = threadIdx.x; i < reached; i += blockDim.x) {
			int v = order[i];
			depth[v] = -1;
			sigma[v] = 0;
		}
		__syncthreads();
	}
}

// ------------------------------------------------------------------ degree

// deg_centrality: mode 0 total (undirected: a self-loop counts twice;
// directed: in + out), 1 in, 2 out; times scale = 1/(n-1).
extern "C" __global__ void deg_centrality(const int* ptr, const int* idx, const int* inptr, long long n,
                                          long long mode, long long directed, double scale, double* out) {
	GRID_STRIDE(u, n) {
		int outDeg = ptr[u + 1] - ptr[u];
		int deg;
		if (mode == 1) {
			deg = inptr[u + 1] - inptr[u];
		} else if (mode == 2) {
			deg = outDeg;
		} else if (directed) {
			deg = outDeg + inptr[u + 1] - inptr[u];
		} else {
			deg = outDeg;
			int lo = ptr[u], hi = ptr[u + 1] - 1;
			while (lo <= hi) { // neighbours are sorted: binary search for u
				int mid = (lo + hi) / 2;
				int x = idx[mid];
				if (x == u) {
					deg++;
					break;
				}
				if (x < u) lo = mid + 1;
				else hi = mid - 1;
			}
		}
		out[u] = (double)deg * scale;
	}
}

// -------------------------------------------------------------- components

// cc_find follows parent links to the root with path halving. Every link
// points to a smaller id in the same component, so any ancestor is a valid
// parent and concurrent halving is harmless.
__device__ __forceinline__ int cc_find(int* parent, int x) {
	for (;;) {
		int p = parent[x];
		if (p == x) return x;
		int gp = parent[p];
		if (gp != p) parent[x] = gp;
		x = gp;
	}
}

extern "C" __global__ void cc_init(int* parent, long long n) {
	GRID_STRIDE(i, n) parent[i] = (int)i;
}

// cc_hook unites the endpoints of every edge, always linking the larger
// root under the smaller with a compare-and-swap, so each final root is its
// component's smallest node.
extern "C" __global__ void cc_hook(const int* src, const int* dst, long long m, int* parent) {
	GRID_STRIDE(e, m) {
		int a = src[e], b = dst[e];
		for (;;) {
			a = cc_find(parent, a);
			b = cc_find(parent, b);
			if (a == b) break;
			if (a < b) {
				int t = a;
				a = b;
				b = t;
			}
			int old = atomicCAS(&parent[a], a, b);
			if (old == a) break;
			a = old; // a got a parent meanwhile: retry from there
		}
	}
}

extern "C" __global__ void cc_compress(int* parent, long long n) {
	GRID_STRIDE(i, n) parent[i] = cc_find(parent, (int)i);
}

// --------------------------------------------------------------- triangles

// tc_count: one thread per oriented arc (u,v); intersecting the sorted
// out-lists of u and v finds each triangle once, at its lowest corner.
extern "C" __global__ void tc_count(const int* optr, const int* oidx, long long n, long long m,
                                    unsigned long long* counts) {
	GRID_STRIDE(e, m) {
		// u: the last node with optr[u] <= e.
		long long lo = 0, hi = n - 1;
		while (lo < hi) {
			long long mid = (lo + hi + 1) / 2;
			if (optr[mid] <= e) lo = mid;
			else hi = mid - 1;
		}
		int u = (int)lo;
		int v = oidx[e];
		int i = optr[u], iend = optr[u + 1];
		int j = optr[v], jend = optr[v + 1];
		unsigned long long t = 0;
		while (i < iend && j < jend) {
			int a = oidx[i], b = oidx[j];
			if (a < b) {
				i++;
			} else if (a > b) {
				j++;
			} else {
				t++;
				atomicAdd(&counts[a], 1ULL);
				i++;
				j++;
			}
		}
		if (t) {
			atomicAdd(&counts[u], t);
			atomicAdd(&counts[v], t);
		}
	}
}
