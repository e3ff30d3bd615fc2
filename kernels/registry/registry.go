// Package registry is the catalog of executable kernels.
//
// A kernel is declared once (Def, unit.go) with its metadata and typed
// functions over generated proto messages; the registry derives the input
// and output message types, validates decoded inputs with protovalidate and
// runs the functions. A registry is built once at start (Register, then
// AttachGPU by the CUDA backend) and frozen before it serves: after Freeze
// it is read-only, so reads need no locks. Transport concerns (JSON, gRPC,
// admission, metrics) live in server/.
package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gokernels/gokernels/kernels/fold"
)

// Mode is how a kernel is driven: Batch (request/response) or Ring
// (persistent, message-driven; served by the streaming ring protocol).
type Mode int

const (
	Batch Mode = iota + 1
	Ring
)

func (m Mode) String() string {
	switch m {
	case Batch:
		return "BATCH"
	case Ring:
		return "RING"
	}
	return "UNSPECIFIED"
}

// Domain names follow the reference catalog.
const (
	DomainGraph      = "GraphAnalytics"
	DomainML         = "StatisticalML"
	DomainTemporal   = "TemporalAnalysis"
	DomainRisk       = "RiskAnalytics"
	DomainBehavioral = "BehavioralAnalytics"
	DomainProcInt    = "ProcessIntelligence"
	DomainCompliance = "Compliance"
	DomainBanking    = "Banking"
	DomainPayments   = "PaymentProcessing"
	DomainCore       = "Core"
)

// Backends a kernel can run on.
const (
	BackendCPU  = "CPU"
	BackendCUDA = "CUDA"
)

// Meta is a kernel's static description.
type Meta struct {
	ID          string // "graph/pagerank"
	Domain      string // DomainGraph, ...
	Description string
	Version     string // defaults to "1.0.0"
	Modes       []Mode // defaults to [Batch]
	// ExpectedThroughput (ops/s) and TargetLatencyUS mirror the reference
	// catalog's metadata; zero means "not stated".
	ExpectedThroughput float64
	TargetLatencyUS    float64
	// NaNOutputs names the top-level output fields in which NaN is a
	// documented value ("no value here", as pandas' rolling windows). Every
	// other floating-point output must be finite: see CheckFinite.
	NaNOutputs []string
}

// Func runs a kernel on a decoded, validated input.
type Func func(ctx context.Context, in proto.Message) (proto.Message, error)

// Kernel is one registered kernel.
type Kernel struct {
	Meta
	Input  protoreflect.MessageType
	Output protoreflect.MessageType
	run    Func // nil for Ring-only kernels

	// Set by Register for kernels declared with Def (see unit.go).
	prepare  func(context.Context, proto.Message) (any, error)
	cpu      func(context.Context, any) (proto.Message, error)
	estimate func(proto.Message) Cost
	finite   func(proto.Message) bool // Def.Finite

	gpu GPUFunc // optional device implementation, set by AttachGPU before Freeze

	ring func() fold.Handler // optional ring handler, set by Def.Ring or AddRing

	ringMsgsOnce sync.Once
	ringMsgs     fold.Messages // the handler's declaration (ringtypes.go)
}

// RingHandler returns a fresh ring handler for the kernel, if it has one.
func (k *Kernel) RingHandler() (fold.Handler, bool) {
	if k.ring == nil {
		return nil, false
	}
	return k.ring(), true
}

// AddRing attaches a ring handler to a registered kernel that lists the
// Ring mode (kernels registered with Add; Def declares it with Def.Ring).
func (r *Registry) AddRing(id string, newHandler func() fold.Handler) error {
	if r.frozen {
		return fmt.Errorf("AddRing %s: the registry is frozen", id)
	}
	k, ok := r.Get(id)
	if !ok {
		return fmt.Errorf("AddRing: unknown kernel %s", id)
	}
	if !k.HasMode(Ring) {
		return fmt.Errorf("AddRing: kernel %s does not list the Ring mode", id)
	}
	k.ring = newHandler
	return nil
}

// SupportsBatch reports whether unary Execute can run the kernel.
func (k *Kernel) SupportsBatch() bool { return k.run != nil }

// HasMode reports whether the kernel supports m.
func (k *Kernel) HasMode(m Mode) bool { return slices.Contains(k.Modes, m) }

// Prefix is the id's domain prefix ("graph" for "graph/pagerank").
func (k *Kernel) Prefix() string {
	p, _, _ := strings.Cut(k.ID, "/")
	return p
}

// Backends lists the backends that can run this kernel.
func (k *Kernel) Backends() []string {
	if k.gpu != nil {
		return []string{BackendCPU, BackendCUDA}
	}
	return []string{BackendCPU}
}

// GPU returns the device implementation, if one is attached; its output
// passes the same CheckFinite as the CPU path.
func (k *Kernel) GPU() GPUFunc {
	if k.gpu == nil {
		return nil
	}
	return func(ctx context.Context, dev any, job any) (proto.Message, error) {
		out, err := k.gpu(ctx, dev, job)
		if err != nil {
			return out, err
		}
		if err := k.CheckFinite(nil, out); err != nil {
			return nil, err
		}
		return out, nil
	}
}

// NewInput returns an empty input message to decode into.
func (k *Kernel) NewInput() proto.Message { return k.Input.New().Interface() }

// Validate runs protovalidate on a decoded input.
func (k *Kernel) Validate(in proto.Message) error { return validator().Validate(in) }

// Run validates in and executes the CPU implementation.
func (k *Kernel) Run(ctx context.Context, in proto.Message) (proto.Message, error) {
	if k.run == nil {
		return nil, fmt.Errorf("kernel %s is not a batch kernel", k.ID)
	}
	if err := k.Validate(in); err != nil {
		return nil, err
	}
	return k.RunCPU(ctx, in)
}

// RunCPU executes the CPU implementation (Prepare, then CPU) on an already
// validated input. A non-finite output is answered as a client error (see
// CheckFinite).
func (k *Kernel) RunCPU(ctx context.Context, in proto.Message) (proto.Message, error) {
	return k.finiteChecked(k.run)(ctx, in)
}

// Registry holds kernels by id. Registration is single-threaded, at start;
// after Freeze the registry is read-only and safe for concurrent use
// without locks.
type Registry struct {
	kernels map[string]*Kernel
	frozen  bool
}

// New returns an empty registry.
func New() *Registry { return &Registry{kernels: map[string]*Kernel{}} }

// Add registers a Batch-capable kernel with a typed function.
func Add[In, Out proto.Message](r *Registry, m Meta, fn func(context.Context, In) (Out, error)) error {
	var in In
	var out Out
	k := &Kernel{
		Meta:   m,
		Input:  in.ProtoReflect().Type(),
		Output: out.ProtoReflect().Type(),
		run: func(ctx context.Context, msg proto.Message) (proto.Message, error) {
			typed, ok := msg.(In)
			if !ok {
				return nil, fmt.Errorf("kernel %s: input is %T, want %T", m.ID, msg, in)
			}
			return fn(ctx, typed)
		},
	}
	if len(k.Modes) == 0 {
		k.Modes = []Mode{Batch}
	}
	if !k.HasMode(Batch) {
		return fmt.Errorf("kernel %s: a kernel with a batch function must list the Batch mode", m.ID)
	}
	return r.insert(k)
}

// AddRingOnly registers a kernel that only the streaming ring protocol serves.
// Unary Execute answers it with guidance instead of running it.
func AddRingOnly(r *Registry, m Meta, in, out proto.Message) error {
	m.Modes = []Mode{Ring}
	return r.insert(&Kernel{Meta: m, Input: in.ProtoReflect().Type(), Output: out.ProtoReflect().Type()})
}

// AttachGPU attaches a device implementation to a kernel declared with Def
// (the GPU path runs on the job its Prepare builds). The CUDA backend calls
// it at start, before Freeze.
func (r *Registry) AttachGPU(id string, fn GPUFunc) error {
	if r.frozen {
		return fmt.Errorf("AttachGPU %s: the registry is frozen", id)
	}
	k, ok := r.kernels[id]
	switch {
	case !ok:
		return fmt.Errorf("AttachGPU: unknown kernel %s", id)
	case k.prepare == nil:
		return fmt.Errorf("AttachGPU: kernel %s is not declared with Def: a GPU path needs its Prepare step", id)
	case fn == nil:
		return fmt.Errorf("AttachGPU %s: nil function", id)
	}
	k.gpu = fn
	return nil
}

// Freeze ends registration: later Add, Register and AttachGPU calls fail.
// The server freezes the registry it is given; freezing twice is harmless.
func (r *Registry) Freeze() { r.frozen = true }

// Frozen reports whether Freeze was called.
func (r *Registry) Frozen() bool { return r.frozen }

func (r *Registry) insert(k *Kernel) error {
	if k.ID == "" || !strings.Contains(k.ID, "/") {
		return fmt.Errorf("kernel id %q must look like domain/name", k.ID)
	}
	if k.Domain == "" {
		return fmt.Errorf("kernel %s: domain is required", k.ID)
	}
	if k.Version == "" {
		k.Version = "1.0.0"
	}
	if r.frozen {
		return fmt.Errorf("kernel %s: the registry is frozen", k.ID)
	}
	if _, dup := r.kernels[k.ID]; dup {
		return fmt.Errorf("kernel %s registered twice", k.ID)
	}
	r.kernels[k.ID] = k
	return nil
}

// Get returns the kernel with id.
func (r *Registry) Get(id string) (*Kernel, bool) {
	k, ok := r.kernels[id]
	return k, ok
}

// Len is the number of registered kernels.
func (r *Registry) Len() int {
	return len(r.kernels)
}

// List returns kernels sorted by id, filtered by domain (the upstream domain
// name or the id prefix, case-insensitive; empty = all) and mode (0 = all).
func (r *Registry) List(domain string, mode Mode) []*Kernel {
	out := make([]*Kernel, 0, len(r.kernels))
	for _, k := range r.kernels {
		if domain != "" && !strings.EqualFold(domain, k.Domain) && !strings.EqualFold(domain, k.Prefix()) {
			continue
		}
		if mode != 0 && !k.HasMode(mode) {
			continue
		}
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b *Kernel) int { return strings.Compare(a.ID, b.ID) })
	return out
}

var validator = sync.OnceValue(func() protovalidate.Validator {
	v, err := protovalidate.New()
	if err != nil {
		panic(fmt.Sprintf("protovalidate: %v", err)) // only on a broken build
	}
	return v
})

// Domain names of the markets, post-trade and treasury kernels (reference
// catalog).
const (
	DomainOrderMatching = "OrderMatching"
	DomainClearing      = "Clearing"
	DomainTreasury      = "TreasuryManagement"
)

// Domain names of the ledger-analytics kernels (reference catalog).
const (
	DomainAccounting = "Accounting"
	DomainAudit      = "FinancialAudit"
)
