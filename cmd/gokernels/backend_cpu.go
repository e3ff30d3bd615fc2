//go:build !cuda

package main

import (
	"log/slog"

	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/config"
)

// backendOptions: this build has no CUDA backend; everything runs on CPUs.
func backendOptions(_ *config.Config, _ *slog.Logger, _ *registry.Registry) (server.Options, error) {
	return server.Options{}, nil
}
