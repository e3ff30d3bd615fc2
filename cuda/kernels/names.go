// Package kernels holds the device code of the CUDA backend: the .cu
// sources, the PTX that `make ptx` generates from them (committed, so a
// build needs no nvcc), and, in CUDA builds, the PTX embedded for
// cu.LoadData.
package kernels

// Modules maps each PTX module (file name without .ptx) to the kernel
// entry points the host code launches from it.
var Modules = map[string][]string{
	"common": {"reduce_sum", "scan_tiles", "scan_add"},
	"graph": {"pr_scale", "pr_dangling", "pr_step", "bc_brandes", "deg_centrality",
		"cc_init", "cc_hook", "cc_compress", "tc_count"},
	"kmeans": {"km_dist_to_row", "km_search", "km_cand_dist", "km_assign", "km_block_sums",
		"km_reduce_blocks", "km_dist_own"},
	"montecarlo":  {"mc_pnl", "mc_block_sums", "mc_hist", "mc_compact", "mc_tail_draws", "mc_chunk_sums"},
	"correlation": {"cov_syrk"},
}

// PTXTarget is the virtual architecture the PTX is generated for
// (nvcc -arch): compute_75 runs, JIT-compiled by the driver, on Turing and
// every later GPU (A100, H100, H200, …).
const PTXTarget = "compute_75"
