// Package pool runs gokernels in process, without a server: a fixed set of
// workers takes Batch kernel calls from a bounded mailbox (the Go
// counterpart of the reference's Actix KernelActor and supervisor).
//
//	p, _ := pool.New(reg, pool.Config{Workers: 4, MailboxCapacity: 1000, DefaultTimeout: 30 * time.Second})
//	defer p.Close(ctx)
//	out, err := p.Execute(ctx, "graph/pagerank", in)
//
// A full mailbox fails at once with ErrMailboxFull; a kernel that panics
// fails only its call with a *PanicError and the worker carries on; a
// kernel that keeps panicking is quarantined for a while
// (ErrKernelQuarantined). Go cannot preempt a running kernel: a call whose
// deadline passes returns context.DeadlineExceeded while its worker finishes
// once the kernel notices ctx (every kernel polls it in long loops).
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

// Config sizes a Pool. Zero values take the defaults.
type Config struct {
	// Workers is the number of kernels running at once (GOMAXPROCS).
	Workers int
	// MailboxCapacity is the number of calls waiting for a worker (1000).
	MailboxCapacity int
	// DefaultTimeout applies when the caller's ctx has no deadline (30s;
	// negative: none).
	DefaultTimeout time.Duration
	// QuarantineAfter panics of one kernel within QuarantineWindow
	// quarantine it for QuarantineFor (5 within 30s, for 15s).
	QuarantineAfter  int
	QuarantineWindow time.Duration
	QuarantineFor    time.Duration
}

// Stats counts what the pool did.
type Stats struct {
	Uptime                                         time.Duration
	Submitted, Succeeded, Failed, Panics, Rejected int64
	TimedOut                                       int64
	Running, Waiting                               int
	Workers, KernelsAvailable                      int
}

// Pool is safe for concurrent use.
type Pool struct {
	reg     *registry.Registry
	cfg     Config
	jobs    chan *job
	started time.Time
	wg      sync.WaitGroup

	mu     sync.RWMutex
	closed bool
	panics map[string][]time.Time
	until  map[string]time.Time

	submitted, succeeded, failed, npanics, rejected, timedOut, running atomic.Int64
}

type job struct {
	ctx  context.Context
	k    *registry.Kernel
	in   proto.Message
	done chan result
}

type result struct {
	out proto.Message
	err error
}

// New starts the workers.
func New(reg *registry.Registry, cfg Config) (*Pool, error) {
	if reg == nil {
		return nil, errors.New("pool: nil registry")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.MailboxCapacity <= 0 {
		cfg.MailboxCapacity = 1000
	}
	if cfg.DefaultTimeout == 0 {
		cfg.DefaultTimeout = 30 * time.Second
	}
	if cfg.QuarantineAfter <= 0 {
		cfg.QuarantineAfter = 5
	}
	if cfg.QuarantineWindow <= 0 {
		cfg.QuarantineWindow = 30 * time.Second
	}
	if cfg.QuarantineFor <= 0 {
		cfg.QuarantineFor = 15 * time.Second
	}
	p := &Pool{reg: reg, cfg: cfg, jobs: make(chan *job, cfg.MailboxCapacity), started: time.Now(),
		panics: map[string][]time.Time{}, until: map[string]time.Time{}}
	for range cfg.Workers {
		p.wg.Add(1)
		go p.work()
	}
	return p, nil
}

func (p *Pool) work() {
	defer p.wg.Done()
	for j := range p.jobs {
		if j.ctx.Err() != nil { // the caller gave up while it waited
			j.done <- result{err: j.ctx.Err()}
			continue
		}
		p.running.Add(1)
		out, err := p.run(j)
		p.running.Add(-1)
		j.done <- result{out, err}
	}
}

// run executes one job; a panic becomes a *PanicError for this call only.
func (p *Pool) run(j *job) (out proto.Message, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, &PanicError{KernelID: j.k.ID, Value: v, Stack: debug.Stack()}
			p.npanics.Add(1)
			p.notePanic(j.k.ID)
		}
	}()
	return j.k.Run(j.ctx, j.in)
}

func (p *Pool) notePanic(id string) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
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
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return nil, ErrClosed
	}
	if until, ok := p.until[id]; ok && time.Now().Before(until) {
		p.mu.RUnlock()
		p.rejected.Add(1)
		return nil, fmt.Errorf("%w: %s, for %s more", ErrKernelQuarantined, id, time.Until(until).Round(time.Second))
	}
	j := &job{ctx: ctx, k: k, in: in, done: make(chan result, 1)}
	select {
	case p.jobs <- j:
		p.mu.RUnlock()
	default:
		p.mu.RUnlock()
		p.rejected.Add(1)
		return nil, ErrMailboxFull
	}
	p.submitted.Add(1)
	select {
	case r := <-j.done:
		if r.err != nil {
			p.failed.Add(1)
			if errors.Is(r.err, context.DeadlineExceeded) {
				p.timedOut.Add(1)
			}
			return nil, r.err
		}
		p.succeeded.Add(1)
		return r.out, nil
	case <-ctx.Done():
		p.failed.Add(1)
		p.timedOut.Add(1)
		return nil, ctx.Err()
	}
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
		Running: int(p.running.Load()), Waiting: len(p.jobs), Workers: p.cfg.Workers, KernelsAvailable: p.reg.Len()}
}

// Close stops accepting calls (ErrClosed) and waits until the running and
// queued ones finish or ctx ends.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.jobs)
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
