package compliance

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

func newRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRegisterFixtures runs every fixture case through the registry as the
// server does: jsoninput decoding, protovalidate, the kernel, JSON output;
// registered kernels and fixture files match one to one.
func TestRegisterFixtures(t *testing.T) {
	fixture.RunDomain(t, Register, "compliance", nil)
}

// TestRingReplayLaw: for every wired ring id and fixture input, Split's
// Configure and data messages fed to a fresh handler, then Snapshot, equal
// the Batch output; the state survives a MarshalState/UnmarshalState round
// trip half-way; and a repeated transaction is refused.
func TestRingReplayLaw(t *testing.T) {
	r := newRegistry(t)
	ctx := context.Background()
	files := fixture.DomainFiles(t, "compliance")
	wired := 0
	for _, k := range r.List("", 0) {
		if _, ok := k.RingHandler(); !ok {
			continue
		}
		newH := func() fold.Handler { h, _ := k.RingHandler(); return h }
		wired++
		for _, c := range fixture.KernelFile(t, files, k.ID).Cases {
			if c.ErrorField != "" {
				continue
			}
			in := k.NewInput()
			if err := jsoninput.Decode(c.Input, in); err != nil {
				t.Fatal(err)
			}
			want, err := k.RunCPU(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			h := newH()
			cfg, data := h.Split(in)
			if err := h.Configure(ctx, cfg); err != nil {
				t.Fatalf("%s/%s: configure: %v", k.ID, c.Name, err)
			}
			for i, msg := range data {
				if i == len(data)/2 {
					st, err := h.MarshalState()
					if err != nil {
						t.Fatal(err)
					}
					h = newH()
					if err := h.UnmarshalState(st); err != nil {
						t.Fatal(err)
					}
				}
				if err := h.Apply(foldtest.New(ctx, uint64(i+1)), msg); err != nil {
					t.Fatalf("%s/%s: apply %d: %v", k.ID, c.Name, i, err)
				}
			}
			got, err := h.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, want) {
				t.Fatalf("%s/%s: ring snapshot differs from Batch", k.ID, c.Name)
			}
			if len(data) > 0 && k.Input.Descriptor().Fields().ByName("transactions") != nil {
				if err := h.Apply(foldtest.New(ctx, 1<<30), data[len(data)-1]); err == nil {
					t.Fatalf("%s/%s: a repeated transaction was accepted", k.ID, c.Name)
				}
			}
		}
	}
	if wired != 7 {
		t.Errorf("%d ring handlers wired, want 7", wired)
	}
}
