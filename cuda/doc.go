// Package cuda is the GPU backend of gokernels: per-request backend choice
// (AUTO, CPU, CUDA), the device-memory budget, fallback to the CPU, the gpu
// health component and metrics, and the host side of the eight GPU kernel
// implementations.
//
// Everything here is plain Go and builds without CUDA; the devices are
// reached through the Device interface. The real device — one actor
// goroutine per GPU that owns the CUDA context, stream, modules and buffer
// pools — is package cuda/gpu, built only with -tags cuda; tests use the
// pure-Go emulation in cuda/emu, and `make test-cudaemu` runs cuda/gpu's
// host code against the .cu kernels compiled for the CPU. The device code
// is cuda/kernels/*.cu, compiled to PTX by `make ptx` and embedded. See
// docs/gpu.md.
package cuda
