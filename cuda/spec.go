package cuda

import (
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/kernels/registry"
)

// Spec is the GPU implementation of one kernel and what the selector needs
// to decide whether to use it.
type Spec struct {
	ID string
	// Threshold is the smallest Size at which AUTO uses the GPU. The
	// defaults are provisional until measured (docs/gpu.md).
	Threshold int64
	// SizeUnit names what Size counts, for documentation.
	SizeUnit string
	// Size is the work measure of an input, compared with Threshold. It
	// must be cheap and must not fail on unvalidated input.
	Size func(in proto.Message) int64
	// Bytes estimates the device memory a run needs on a device.
	Bytes func(in proto.Message, dev DeviceInfo) int64
	// Supports reports whether the GPU implementation covers the input,
	// and why not; nil = always.
	Supports func(in proto.Message) (bool, string)
	// Run executes the kernel on dev (a Device) from the job its Prepare
	// built: built with registry.DeviceFunc against the kernel's Def, so it
	// parses nothing and applies no default of its own.
	Run registry.GPUFunc
}

func (sp *Spec) supports(in proto.Message) (bool, string) {
	if sp.Supports == nil {
		return true, ""
	}
	return sp.Supports(in)
}

// Specs returns the GPU implementations of the eight CUDA kernels with
// their default thresholds.
func Specs() []*Spec {
	return []*Spec{
		pageRankSpec(), betweennessSpec(), degreeSpec(), componentsSpec(), trianglesSpec(),
		kmeansSpec(), monteCarloSpec(), correlationSpec(),
	}
}

// sat multiplies non-negative sizes, saturating at MaxInt64 so hostile
// inputs cannot wrap an estimate around.
func sat(xs ...int64) int64 {
	p := int64(1)
	for _, x := range xs {
		if x <= 0 {
			return 0
		}
		if p > math.MaxInt64/x {
			return math.MaxInt64
		}
		p *= x
	}
	return p
}

// add sums non-negative sizes, saturating.
func add(xs ...int64) int64 {
	var s int64
	for _, x := range xs {
		if x < 0 {
			continue
		}
		if s > math.MaxInt64-x {
			return math.MaxInt64
		}
		s += x
	}
	return s
}
