//go:build cuda

package main

import (
	"log/slog"

	"github.com/gokernels/gokernels/cuda"
	"github.com/gokernels/gokernels/cuda/gpu"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/config"
)

// backendOptions: this build has the CUDA backend (docs/gpu.md). It starts
// one actor per CUDA device, attaches the GPU implementations to reg when a
// device is usable, and returns the selector as the server's backend
// choice and gpu health component. Without a usable device every kernel
// runs on the CPU and backend=CUDA is refused with FAILED_PRECONDITION.
func backendOptions(cfg *config.Config, log *slog.Logger, reg *registry.Registry) (server.Options, error) {
	cache := int64(1 << 30)
	if cfg.GPUMemLimit > 0 {
		cache = min(cache, cfg.GPUMemLimit/4)
	}
	devs, derr := gpu.Discover(gpu.Options{CacheLimit: cache})
	switch {
	case derr != nil && len(devs) == 0:
		log.Warn("no usable CUDA device: every kernel runs on the CPU", "error", derr)
	case derr != nil:
		log.Warn("some CUDA devices did not start", "error", derr)
	case len(devs) == 0:
		log.Warn("no CUDA device found: every kernel runs on the CPU")
	}
	sel := cuda.NewSelector(cuda.Options{Devices: devs, MemoryLimit: cfg.GPUMemLimit, DiscoveryError: derr, Log: log})
	if len(devs) > 0 {
		ids, err := sel.Register(reg)
		if err != nil {
			return server.Options{}, err
		}
		for _, d := range devs {
			info := d.Info()
			log.Info("CUDA device", "ordinal", info.Ordinal, "name", info.Name, "compute_capability", info.ComputeCapability(),
				"memory", cuda.Bytes(info.TotalMem), "sms", info.SMs)
		}
		log.Info("CUDA backend ready", "devices", len(devs), "gpu_kernels", ids)
	}
	return server.Options{Backends: sel, GPU: sel, CUDA: true}, nil
}
