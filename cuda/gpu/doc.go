// Package gpu is the real CUDA device of the backend (build tag cuda):
// discovery, one actor goroutine per GPU that owns the CUDA context,
// stream, loaded modules, a pool of device buffers reused across requests
// and pinned host staging buffers, and the eight kernel implementations of
// cuda.Kernels on top of the PTX in cuda/kernels.
//
// Without -tags cuda this package is empty; see docs/gpu.md.
package gpu
