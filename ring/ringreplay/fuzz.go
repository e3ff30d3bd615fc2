package ringreplay

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// FuzzLimits keep fuzzed inputs small, so every one runs in milliseconds.
var FuzzLimits = limits.Limits{
	MaxNodes: 2000, MaxEdges: 10000, MaxAllPairsN: 200, MaxSamples: 2000, MaxFeatures: 64,
	MaxCells: 20000, MaxSeriesLength: 5000, MaxSimulations: 200000, MaxOutputItems: 10000, MaxIterations: 2000,
}

// Fuzz is the replay law as a fuzz target over the Ring kernels of one
// domain of reg: the argument picks the kernel, the bytes are its input
// JSON. An input that decodes, validates and succeeds as Batch is Split
// into data messages and fed to a fresh handler directly (RoundTrip: with a
// state round trip into another fresh handler); the Snapshot must equal
// the Batch output exactly. Batch errors must be field errors (or the
// deadline); a panic anywhere fails. The seeds are the domain's fixture
// inputs of those kernels.
func Fuzz(f *testing.F, reg *registry.Registry, domain string) {
	kernels := reg.List(domain, registry.Ring)
	index := map[string]uint16{}
	for i, k := range kernels {
		if _, ok := k.RingHandler(); !ok || !k.SupportsBatch() {
			f.Fatalf("%s lists the Ring mode without a ring handler and a Batch twin", k.ID)
		}
		index[k.ID] = uint16(i)
	}
	if len(kernels) == 0 {
		f.Fatalf("domain %s has no Ring kernel", domain)
	}
	seeds := 0
	for _, file := range fixture.DomainFiles(f, domain) {
		i, ok := index[file.KernelID]
		if !ok {
			continue
		}
		for _, c := range file.Cases {
			if !c.Slow {
				f.Add(i, []byte(c.Input))
				seeds++
			}
		}
	}
	if seeds == 0 {
		f.Fatalf("domain %s: no fixture input to seed the Ring kernels", domain)
	}
	f.Fuzz(func(t *testing.T, which uint16, data []byte) {
		k := kernels[int(which)%len(kernels)]
		in := k.NewInput()
		if jsoninput.Decode(data, in) != nil || k.Validate(in) != nil {
			return
		}
		ctx, cancel := context.WithTimeout(limits.With(context.Background(), FuzzLimits), 2*time.Second)
		defer cancel()
		want, err := k.RunCPU(ctx, in)
		if errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if err != nil {
			if _, ok := kerr.AsField(err); !ok {
				t.Fatalf("%s: Batch internal error on %.300q: %v", k.ID, data, err)
			}
			return
		}
		h, _ := k.RingHandler()
		got := RoundTrip(t, h, func() fold.Handler { h, _ := k.RingHandler(); return h }, in)
		if !proto.Equal(got, want) {
			t.Fatalf("%s: ring Snapshot differs from Batch on %.300q\nbatch %.600s\nring  %.600s", k.ID, data,
				prototext.Format(want), prototext.Format(got))
		}
	})
}
