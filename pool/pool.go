// Package pool runs gokernels in process, without a server: Workers Batch
// kernel calls run at once, on their callers' goroutines, and up to
// MailboxCapacity more wait for a slot (the Go counterpart of the
// reference's Actix KernelActor mailbox and supervisor). The server runs
// its Execute and typed RPCs through the same admission (Pool.Admit): one
// mechanism for both.
//
//	p, _ := pool.New(reg, pool.Config{Workers: 4, MailboxCapacity: 1000, DefaultTimeout: 30 * time.Second})
//	defer p.Close(ctx)
//	out, err := p.Execute(ctx, "graph/pagerank", in)
//
// A full mailbox fails at once with ErrMailboxFull; a kernel that panics
// fails only its call with a *PanicError and its slot is freed; a kernel
// that keeps panicking is quarantined for a while (ErrKernelQuarantined).
// Go cannot preempt a running kernel: a call whose deadline passes returns
// context.DeadlineExceeded once the kernel notices ctx (every kernel polls
// it in long loops), and time spent waiting for a slot counts against the
// deadline.
package pool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// Errors; errors.Is works on all of them.
var (
	ErrKernelNotFound    = errors.New("kernel not found")
	ErrNotBatch          = errors.New("kernel is ring-only: run it with a ring (package ring)")
	ErrMailboxFull       = errors.New("mailbox full")
	ErrClosed            = errors.New("pool closed")
	ErrKernelQuarantined = errors.New("kernel quarantined after repeated panics")
)

// PanicError is a kernel panic, recovered: it fails only its call.
type PanicError struct {
	KernelID string
	Value    any
	Stack    []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("kernel %s panicked: %v", e.KernelID, e.Value)
}

func stack() []byte { return debug.Stack() }

// QuarantineError is ErrKernelQuarantined (errors.Is) for one kernel: it
// panicked Panics times within Window and is refused for Left more.
type QuarantineError struct {
	KernelID string
	Panics   int
	Window   time.Duration
	Left     time.Duration
}

func (e *QuarantineError) Error() string {
	return fmt.Sprintf("kernel %s is quarantined after %d panics within %s: refused for %s more",
		e.KernelID, e.Panics, e.Window, e.Left.Round(time.Second))
}

func (e *QuarantineError) Unwrap() error { return ErrKernelQuarantined }

// Config sizes a Pool. Zero values take the defaults.
type Config struct {
	// Workers is the number of kernels running at once (GOMAXPROCS).
	Workers int
	// MailboxCapacity is the number of calls waiting for a worker (1000;
	// negative: none may wait).
	MailboxCapacity int
	// DefaultTimeout applies when the caller's ctx has no deadline (30s;
	// negative: none).
	DefaultTimeout time.Duration
	// QuarantineAfter panics of one kernel within QuarantineWindow
	// quarantine it for QuarantineFor (5 within 30s, for 15s; negative
	// QuarantineAfter: never).
	QuarantineAfter  int
	QuarantineWindow time.Duration
	QuarantineFor    time.Duration
	// MemoryBudget is the bytes that Reserve lets running calls account
	// (0: no memory accounting). Execute does not reserve; the server does.
	MemoryBudget int64
	// Now is the clock of the quarantine (nil: time.Now; tests set it).
	Now func() time.Time
}

// Stats counts what the pool did.
type Stats struct {
	Uptime                                         time.Duration
	Submitted, Succeeded, Failed, Panics, Rejected int64
	TimedOut                                       int64
	Running, Waiting                               int
	Workers, KernelsAvailable                      int
	MailboxCapacity                                int
}

// Pool is safe for concurrent use.
type Pool struct {
	reg     *registry.Registry
	cfg     Config
	slots   chan struct{} // one token per running call
	started time.Time
	calls   sync.WaitGroup // admitted calls, for Close

	mu           sync.RWMutex
	closed       bool
	panics       map[string][]time.Time
	until        map[string]time.Time
	nquarantined atomic.Int64 // len(until): Admit skips the lookup while 0

	waiting, running, reserved                                atomic.Int64
	submitted, succeeded, failed, npanics, rejected, timedOut atomic.Int64
}

// New returns a pool.
func New(reg *registry.Registry, cfg Config) (*Pool, error) {
	if reg == nil {
		return nil, errors.New("pool: nil registry")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	switch {
	case cfg.MailboxCapacity == 0:
		cfg.MailboxCapacity = 1000
	case cfg.MailboxCapacity < 0:
		cfg.MailboxCapacity = 0
	}
	if cfg.DefaultTimeout == 0 {
		cfg.DefaultTimeout = 30 * time.Second
	}
	if cfg.QuarantineAfter == 0 {
		cfg.QuarantineAfter = 5
	}
	if cfg.QuarantineWindow <= 0 {
		cfg.QuarantineWindow = 30 * time.Second
	}
	if cfg.QuarantineFor <= 0 {
		cfg.QuarantineFor = 15 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Pool{reg: reg, cfg: cfg, slots: make(chan struct{}, cfg.Workers), started: time.Now(),
		panics: map[string][]time.Time{}, until: map[string]time.Time{}}, nil
}

func (p *Pool) notePanic(id string) {
	if p.cfg.QuarantineAfter < 0 {
		return
	}
	now := p.cfg.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, t := range p.until { // expired quarantines
		if now.After(t) {
			delete(p.until, k)
		}
	}
	recent := p.panics[id][:0]
	for _, t := range p.panics[id] {
		if now.Sub(t) <= p.cfg.QuarantineWindow {
			recent = append(recent, t)
		}
	}
	recent = append(recent, now)
	p.panics[id] = recent
	if len(recent) >= p.cfg.QuarantineAfter {
		p.until[id] = now.Add(p.cfg.QuarantineFor)
		p.panics[id] = nil
	}
	p.nquarantined.Store(int64(len(p.until)))
}

// Execute runs kernel id on a typed input message and returns its output.
func (p *Pool) Execute(ctx context.Context, id string, in proto.Message) (proto.Message, error) {
	k, err := p.kernel(id)
	if err != nil {
		return nil, err
	}
	if _, has := ctx.Deadline(); !has && p.cfg.DefaultTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.cfg.DefaultTimeout)
		defer cancel()
	}
	slot, err := p.Admit(ctx, id)
	if err != nil {
		return nil, err
	}
	var out proto.Message
	err = slot.Run(func() (err error) {
		out, err = k.Run(ctx, in)
		return err
	})
	if err == nil && ctx.Err() != nil {
		err = ctx.Err() // finished, but past the deadline
	}
	slot.Done(err)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Run is Execute with the input and output types spelled out.
func Run[In, Out proto.Message](ctx context.Context, p *Pool, id string, in In) (Out, error) {
	var zero Out
	out, err := p.Execute(ctx, id, in)
	if err != nil {
		return zero, err
	}
	typed, ok := out.(Out)
	if !ok {
		return zero, fmt.Errorf("kernel %s returns %T, not %T", id, out, zero)
	}
	return typed, nil
}

// ExecuteJSON takes the input as JSON (the REST shape: proto field names,
// records as arrays) and returns the output as JSON.
func (p *Pool) ExecuteJSON(ctx context.Context, id string, input []byte) ([]byte, error) {
	k, err := p.kernel(id)
	if err != nil {
		return nil, err
	}
	in := k.NewInput()
	if err := jsoninput.Decode(input, in); err != nil {
		return nil, err
	}
	out, err := p.Execute(ctx, id, in)
	if err != nil {
		return nil, err
	}
	st, err := jsoninput.ToStruct(out)
	if err != nil {
		return nil, err
	}
	b, err := protojson.Marshal(st)
	if err != nil {
		return nil, err
	}
	// protojson varies its whitespace on purpose; callers get stable bytes.
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (p *Pool) kernel(id string) (*registry.Kernel, error) {
	k, ok := p.reg.Get(id)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrKernelNotFound, id)
	}
	if !k.SupportsBatch() {
		return nil, fmt.Errorf("%w: %s", ErrNotBatch, id)
	}
	return k, nil
}

// Info describes one kernel.
func (p *Pool) Info(id string) (*registry.Kernel, error) {
	k, ok := p.reg.Get(id)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrKernelNotFound, id)
	}
	return k, nil
}

// List lists the kernels of a domain ("" = all) and mode (0 = any).
func (p *Pool) List(domain string, mode registry.Mode) []*registry.Kernel {
	return p.reg.List(domain, mode)
}

// Stats returns the counters.
func (p *Pool) Stats() Stats {
	return Stats{Uptime: time.Since(p.started), Submitted: p.submitted.Load(), Succeeded: p.succeeded.Load(),
		Failed: p.failed.Load(), Panics: p.npanics.Load(), Rejected: p.rejected.Load(), TimedOut: p.timedOut.Load(),
		Running: int(p.running.Load()), Waiting: int(p.waiting.Load()), Workers: p.cfg.Workers,
		KernelsAvailable: p.reg.Len(), MailboxCapacity: p.cfg.MailboxCapacity}
}

// Close stops accepting calls (ErrClosed) and waits until the running and
// queued ones finish or ctx ends.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.calls.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
