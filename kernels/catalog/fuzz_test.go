package catalog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"buf.build/go/protovalidate"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// fuzzLimits are small problem-size caps, so that every input the fuzzer
// invents runs in milliseconds and memory stays bounded: a kernel that
// ignored its caps would show up as a slow or memory-hungry input.
var fuzzLimits = limits.Limits{
	MaxNodes: 2000, MaxEdges: 10000, MaxAllPairsN: 200, MaxSamples: 2000, MaxFeatures: 64,
	MaxCells: 20000, MaxSeriesLength: 5000, MaxSimulations: 200000, MaxOutputItems: 10000, MaxIterations: 2000,
}

// FuzzExecute drives the Execute input path of every batch kernel — JSON
// decoding, protovalidate, the kernel — with arbitrary input. The server
// must answer every input with a result or a client error: a panic, a
// non-field error (a 500) or a run that ignores its deadline fails.
//
// The seed corpus is every committed fixture input, the same inputs pushed
// to extreme magnitudes (see TestExtremeMagnitudes), plus testdata/fuzz;
// `make fuzz` runs the fuzzer for a while.
func FuzzExecute(f *testing.F) {
	reg, err := catalog.New()
	if err != nil {
		f.Fatal(err)
	}
	kernels := reg.List("", registry.Batch)
	index := map[string]uint16{}
	for i, k := range kernels {
		index[k.ID] = uint16(i)
	}
	files, err := fixture.LoadAll()
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		for _, c := range file.Cases {
			if c.Slow {
				continue
			}
			f.Add(index[file.KernelID], []byte(c.Input))
		}
	}
	// Extreme magnitudes (±1e308, 1e-308, denormals, all-identical and
	// all-zero values) of one fixture input per kernel: the class of input
	// that overflowed distances and variances (issue 13).
	for id, inputs := range extremeInputs(f, reg) {
		for _, data := range inputs[:min(len(inputs), len(extremes))] {
			f.Add(index[id], data)
		}
	}
	f.Fuzz(func(t *testing.T, which uint16, data []byte) {
		k := kernels[int(which)%len(kernels)]
		in := k.NewInput()
		if err := jsoninput.Decode(data, in); err != nil {
			if _, ok := kerr.AsField(err); !ok {
				t.Fatalf("%s: decode error is not a field error: %v", k.ID, err)
			}
			return
		}
		if err := k.Validate(in); err != nil {
			var ve *protovalidate.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("%s: validation failed oddly: %v", k.ID, err)
			}
			return
		}
		ctx, cancel := context.WithTimeout(limits.With(context.Background(), fuzzLimits), 2*time.Second)
		defer cancel()
		start := time.Now()
		out, err := k.RunCPU(ctx, in)
		if took := time.Since(start); took > 4*time.Second {
			t.Fatalf("%s: ran %s past a 2s deadline on %q", k.ID, took, data)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if err == nil {
			if bad := nonFiniteAllowed(k, out); bad != "" {
				t.Fatalf("%s: finite input answered with a non-finite output %s on %q", k.ID, bad, data)
			}
			return
		}
		if _, ok := kerr.AsField(err); !ok {
			t.Fatalf("%s: internal error (would be a 500) on %q: %v", k.ID, data, err)
		}
	})
}
