//go:build cudaemu && !cuda

// The device code compiled for the CPU, and a launcher for it (see
// cuda/kernels/emulate.h). Tests only.
#define GK_EMULATE
#include "common.cu"
#include "correlation.cu"
#include "graph.cu"
#include "kmeans.cu"
#include "montecarlo.cu"

#include <atomic>
#include <barrier>
#include <memory>
#include <semaphore>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

thread_local dim3 threadIdx;
dim3 blockIdx, blockDim, gridDim;

static std::barrier<>* g_barrier;
static std::vector<unsigned char> g_shared;

void __syncthreads() { g_barrier->arrive_and_wait(); }
void* gk_emu_dynamic_shared() { return g_shared.data(); }

namespace {

template <class T> T arg(unsigned long long v) {
	if constexpr (std::is_pointer_v<T>) {
		return (T)(uintptr_t)v;
	} else if constexpr (std::is_same_v<T, double>) {
		double d;
		memcpy(&d, &v, 8);
		return d;
	} else {
		return (T)v;
	}
}

using Kernel = std::function<void(const unsigned long long*)>;

template <class... P> Kernel erase(void (*f)(P...)) {
	return [f](const unsigned long long* a) {
		[&]<size_t... I>(std::index_sequence<I...>) { f(arg<P>(a[I])...); }(std::index_sequence_for<P...>{});
	};
}

const std::map<std::string, Kernel>& table() {
	static const std::map<std::string, Kernel> t = {
		{"reduce_sum", erase(reduce_sum)}, {"scan_tiles", erase(scan_tiles)}, {"scan_add", erase(scan_add)},
		{"pr_scale", erase(pr_scale)}, {"pr_dangling", erase(pr_dangling)}, {"pr_step", erase(pr_step)},
		{"bc_brandes", erase(bc_brandes)}, {"deg_centrality", erase(deg_centrality)}, {"cc_init", erase(cc_init)},
		{"cc_hook", erase(cc_hook)}, {"cc_compress", erase(cc_compress)}, {"tc_count", erase(tc_count)},
		{"km_dist_to_row", erase(km_dist_to_row)}, {"km_search", erase(km_search)},
		{"km_cand_dist", erase(km_cand_dist)}, {"km_assign", erase(km_assign)},
		{"km_block_sums", erase(km_block_sums)}, {"km_reduce_blocks", erase(km_reduce_blocks)},
		{"km_dist_own", erase(km_dist_own)}, {"mc_pnl", erase(mc_pnl)}, {"mc_block_sums", erase(mc_block_sums)},
		{"mc_hist", erase(mc_hist)}, {"mc_compact", erase(mc_compact)}, {"mc_tail_draws", erase(mc_tail_draws)},
		{"mc_chunk_sums", erase(mc_chunk_sums)}, {"cov_syrk", erase(cov_syrk)},
	};
	return t;
}

// Pool runs the threads of one block on persistent OS threads, waking
// only as many as the block has.
class Pool {
  public:
	static constexpr int kMax = 256;
	Pool() {
		for (int i = 0; i < kMax; i++) {
			go_.push_back(std::make_unique<std::binary_semaphore>(0));
			workers_.emplace_back([this, i] { work(i); });
		}
	}
	void run(int n, const std::function<void(int)>& f) {
		task_ = &f;
		remaining_.store(n);
		for (int i = 0; i < n; i++) go_[i]->release();
		done_.acquire();
	}

  private:
	void work(int i) {
		for (;;) {
			go_[i]->acquire();
			(*task_)(i);
			if (remaining_.fetch_sub(1) == 1) done_.release();
		}
	}
	std::vector<std::unique_ptr<std::binary_semaphore>> go_;
	std::vector<std::thread> workers_;
	std::binary_semaphore done_{0};
	std::atomic<int> remaining_{0};
	const std::function<void(int)>* task_ = nullptr;
};

Pool& pool() {
	static Pool* p = new Pool(); // never destroyed: its threads live with the process
	return *p;
}

} // namespace

extern "C" int gk_emu_launch(const char* name, int gx, int gy, int bx, int by, int shmem, const unsigned long long* args) {
	auto it = table().find(name);
	if (it == table().end()) return -1;
	int n = bx * by;
	if (n < 1 || n > Pool::kMax) return -2;
	const Kernel& k = it->second;
	gridDim = dim3{(unsigned)gx, (unsigned)gy, 1};
	blockDim = dim3{(unsigned)bx, (unsigned)by, 1};
	g_shared.assign(shmem > 0 ? shmem : 1, 0);
	for (int y = 0; y < gy; y++) {
		for (int x = 0; x < gx; x++) {
			blockIdx = dim3{(unsigned)x, (unsigned)y, 0};
			std::barrier<> bar(n);
			g_barrier = &bar;
			pool().run(n, [&](int t) {
				threadIdx = dim3{(unsigned)(t % bx), (unsigned)(t / bx), 0};
				k(args);
				bar.arrive_and_drop();
			});
		}
	}
	return 0;
}
