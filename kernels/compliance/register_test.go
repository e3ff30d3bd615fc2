package compliance

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// kernels are the ids Register provides and whether each is a Ring id; each
// has a fixture file under testdata/fixtures/compliance.
var kernels = []struct {
	id   string
	ring bool
}{
	{"compliance/circular-flow", true},
	{"compliance/reciprocity-flow", true},
	{"compliance/rapid-movement", true},
	{"compliance/flow-reversal", false},
	{"compliance/flow-split", false},
	{"compliance/transaction-monitoring", true},
	{"compliance/aml-patterns", true},
	{"compliance/sanctions-screening", true},
	{"compliance/pep-screening", true},
	{"compliance/kyc-scoring", false},
	{"compliance/entity-resolution", false},
}

func newRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	if r.Len() != len(kernels) {
		t.Fatalf("registered %d kernels, want %d", r.Len(), len(kernels))
	}
	return r
}

// TestRegisterFixtures runs every fixture case through the registry as the
// server does: jsoninput decoding, protovalidate, the kernel, JSON output.
func TestRegisterFixtures(t *testing.T) {
	r := newRegistry(t)
	files := fixture.DomainFiles(t, "compliance")
	if len(files) != len(kernels) {
		t.Errorf("%d compliance fixture files for %d kernels", len(files), len(kernels))
	}
	for _, kc := range kernels {
		k, ok := r.Get(kc.id)
		if !ok {
			t.Errorf("%s is not registered", kc.id)
			continue
		}
		if k.Domain != registry.DomainCompliance || !k.SupportsBatch() || k.HasMode(registry.Ring) != kc.ring {
			t.Errorf("%s: domain %q, batch %v, modes %v", kc.id, k.Domain, k.SupportsBatch(), k.Modes)
		}
		fixture.RunKernelCases(t, r, fixture.KernelFile(t, files, kc.id), nil)
	}
}

// fakeContext is the fold.Context of a test: no journal, no events kept.
type fakeContext struct {
	context.Context
	seq uint64
	ts  int64
}

func (c *fakeContext) Seq() uint64                       { return c.seq }
func (c *fakeContext) TS() int64                         { return c.ts }
func (c *fakeContext) Time() time.Time                   { return time.Unix(c.ts, 0) }
func (c *fakeContext) Rand() *rand.Rand                  { return rand.New(rand.NewPCG(c.seq, 0)) }
func (c *fakeContext) Emit(kind string, _ proto.Message) {}

// TestRingReplayLaw: for every wired ring id and fixture input, Split's
// Configure and data messages fed to a fresh handler, then Snapshot, equal
// the Batch output; the state survives a MarshalState/UnmarshalState round
// trip half-way; and a repeated transaction is refused.
func TestRingReplayLaw(t *testing.T) {
	r := newRegistry(t)
	ctx := context.Background()
	files := fixture.DomainFiles(t, "compliance")
	wired := 0
	for _, kc := range kernels {
		k, _ := r.Get(kc.id)
		if _, ok := k.RingHandler(); !ok {
			continue
		}
		newH := func() fold.Handler { h, _ := k.RingHandler(); return h }
		wired++
		for _, c := range fixture.KernelFile(t, files, kc.id).Cases {
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
				t.Fatalf("%s/%s: configure: %v", kc.id, c.Name, err)
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
				if err := h.Apply(&fakeContext{ctx, uint64(i + 1), 0}, msg); err != nil {
					t.Fatalf("%s/%s: apply %d: %v", kc.id, c.Name, i, err)
				}
			}
			got, err := h.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, want) {
				t.Fatalf("%s/%s: ring snapshot differs from Batch", kc.id, c.Name)
			}
			if len(data) > 0 && k.Input.Descriptor().Fields().ByName("transactions") != nil {
				if err := h.Apply(&fakeContext{ctx, 1 << 30, 0}, data[len(data)-1]); err == nil {
					t.Fatalf("%s/%s: a repeated transaction was accepted", kc.id, c.Name)
				}
			}
		}
	}
	if wired != 7 {
		t.Errorf("%d ring handlers wired, want 7", wired)
	}
}
