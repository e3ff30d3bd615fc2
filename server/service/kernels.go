// Package service implements the gRPC services of gokernels.v1 over the
// kernel registry. Every transport reaches these handlers through the one
// interceptor chain built in server/.
package service

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/pool"
	"github.com/gokernels/gokernels/server/errs"
	"github.com/gokernels/gokernels/server/jsoninput"
	"github.com/gokernels/gokernels/server/observe"
	"github.com/gokernels/gokernels/server/reqinfo"
)

// Backends picks where a kernel runs. The CPU-only build uses NoGPU; the
// CUDA build supplies a device-backed implementation.
type Backends interface {
	// Choose decides, before admission and from the validated input alone,
	// where the request will run: it returns the runner (which prepares the
	// job once and reports the backend that actually ran) and the planned
	// backend, or a status error (FAILED_PRECONDITION when CUDA is demanded
	// but impossible).
	Choose(k *registry.Kernel, in proto.Message, requested string) (registry.Runner, string, error)
}

// NoGPU runs everything on the CPU.
type NoGPU struct{}

// Choose implements Backends.
func (NoGPU) Choose(k *registry.Kernel, _ proto.Message, requested string) (registry.Runner, string, error) {
	if requested == registry.BackendCUDA {
		return nil, "", errs.WithReason(codes.FailedPrecondition, errs.ReasonNoGPU,
			"backend CUDA was requested but this server has no CUDA backend (built without -tags cuda or no device)", 0)
	}
	return k.CPURunner(), registry.BackendCPU, nil
}

// Kernels implements KernelService.
type Kernels struct {
	gokernelsv1.UnimplementedKernelServiceServer
	Registry *registry.Registry
	// Pool admits every execution (worker slots, the wait queue, the
	// memory budget): the same admission as the embeddable pool's.
	Pool     *pool.Pool
	Metrics  *observe.Recorder
	Limits   limits.Limits
	Backends Backends
	Log      *slog.Logger
	// Tracer starts each run's kernel span; nil: no kernel span (the server
	// leaves it nil when no span can be exported: such a span would have
	// nowhere to go, and the RPC span's trace id is in the request log).
	Tracer trace.Tracer
	// MaxResponseBytes caps the output's protobuf size (0: DefaultMaxResponseBytes).
	MaxResponseBytes int64

	bindOnce sync.Once
	bound    limits.Bound // Limits, ready for the kernels' contexts
}

// limits is Limits bound once for the kernel contexts of every call.
func (s *Kernels) limits() limits.Bound {
	s.bindOnce.Do(func() { s.bound = limits.Bind(s.Limits) })
	return s.bound
}

// maxPageSize is the largest page ListKernels returns.
const maxPageSize = 500

// ListKernels implements KernelService.
func (s *Kernels) ListKernels(_ context.Context, req *gokernelsv1.ListKernelsRequest) (*gokernelsv1.ListKernelsResponse, error) {
	var mode registry.Mode
	switch strings.ToUpper(req.GetMode()) {
	case "BATCH":
		mode = registry.Batch
	case "RING":
		mode = registry.Ring
	}
	all := s.Registry.List(req.GetDomain(), mode)
	size := int(req.GetPageSize())
	if size == 0 {
		size = 50
	}
	size = min(size, maxPageSize) // AIP-158: coerce, do not refuse
	offset := 0
	if t := req.GetPageToken(); t != "" {
		n, err := decodePageToken(t)
		if err != nil || n > len(all) {
			return nil, errs.InvalidFields("invalid page_token", errs.Field("page_token", "not a token from a previous response"))
		}
		offset = n
	}
	end := min(offset+size, len(all))
	resp := &gokernelsv1.ListKernelsResponse{TotalCount: int32(len(all))}
	for _, k := range all[offset:end] {
		resp.Kernels = append(resp.Kernels, Info(k))
	}
	if end < len(all) {
		resp.NextPageToken = encodePageToken(end)
	}
	return resp, nil
}

// Page tokens are opaque to clients; an offset is enough because the
// registry is fixed for the life of the process.
func encodePageToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.Itoa(offset)))
}

func decodePageToken(t string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || len(b) < 2 || b[0] != 'o' {
		return 0, fmt.Errorf("bad token")
	}
	n, err := strconv.Atoi(string(b[1:]))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad token")
	}
	return n, nil
}

// GetKernel implements KernelService.
func (s *Kernels) GetKernel(_ context.Context, req *gokernelsv1.GetKernelRequest) (*gokernelsv1.GetKernelResponse, error) {
	k, ok := s.Registry.Get(req.GetKernelId())
	if !ok {
		return nil, notFound(req.GetKernelId())
	}
	return &gokernelsv1.GetKernelResponse{Kernel: Info(k)}, nil
}

func notFound(id string) error {
	return status.Errorf(codes.NotFound, "kernel %q not found; GET /kernels lists the available kernels", id)
}

// Info converts registry metadata to the API message.
func Info(k *registry.Kernel) *gokernelsv1.KernelInfo {
	modes := make([]string, len(k.Modes))
	for i, m := range k.Modes {
		modes[i] = m.String()
	}
	req, rep, ev := describeRing(k)
	return &gokernelsv1.KernelInfo{
		Id: k.ID, Domain: k.Domain, Description: k.Description, Version: k.Version,
		Modes: modes, Backends: k.Backends(),
		InputType: string(k.Input.Descriptor().FullName()), OutputType: string(k.Output.Descriptor().FullName()),
		ExpectedThroughput: k.ExpectedThroughput, TargetLatencyUs: k.TargetLatencyUS,
		RingRequestType: req, RingReplyType: rep, RingEventType: ev,
	}
}

// Execute implements KernelService: lookup, mode check, then — inside the
// request's deadline (timeout_ms included) and inside the worker slot —
// decode, validate, memory admission, run, the response-size check and the
// one encoding of the output. Nothing proportional to the problem is built
// outside the slot, so the worker and memory limits bound the process.
func (s *Kernels) Execute(ctx context.Context, req *gokernelsv1.ExecuteRequest) (*gokernelsv1.ExecuteResponse, error) {
	k, ok := s.Registry.Get(req.GetKernelId())
	if !ok {
		return nil, notFound(req.GetKernelId())
	}
	md := req.GetMetadata()
	j := job{kernel: k, timeoutMs: md.GetTimeoutMs(), backend: md.GetBackend(), prefix: "input", req: req, rest: RESTCallFrom(ctx)}
	if err := s.execute(ctx, &j); err != nil {
		return nil, err
	}
	return j.resp, nil
}

// ExecuteTyped runs kernel k on in, an input message of k's type, for the
// typed per-domain RPCs (GraphService/PageRank, POST
// /kernels/graph/pagerank:execute): the same path as Execute — mode check,
// deadline, worker slot, memory admission, backend choice, tracing, metrics
// and the response-size check — with the output message returned as it is.
// in has passed protovalidate already: it is the RPC's request message, which
// the chain's protovalidate stage checked; field errors name its fields
// without Execute's "input." prefix. A call from the REST gateway (a
// RESTCall in ctx) gets its output rendered as JSON text into the call,
// inside the slot and the deadline, and an empty output message.
func (s *Kernels) ExecuteTyped(ctx context.Context, k *registry.Kernel, in proto.Message) (proto.Message, error) {
	j := job{kernel: k, in: in, rest: RESTCallFrom(ctx)}
	if err := s.execute(ctx, &j); err != nil {
		return nil, err
	}
	return j.out, nil
}

// job is one kernel execution, as Execute (req set) or ExecuteTyped (in
// set) describe it, and its answer. (Plain fields, not closures: execute's
// input and output steps are methods, so a call allocates no closures and
// none of the variables they would share.)
type job struct {
	kernel    *registry.Kernel
	timeoutMs uint32 // ExecuteOptions.timeout_ms; 0: none
	backend   string // ExecuteOptions.backend; "": AUTO
	prefix    string // field path prefix of input errors ("input" for Execute)
	rest      *RESTCall
	// Execute: the request, and whether its input came as typed_input.
	req     *gokernelsv1.ExecuteRequest
	typedIn bool
	// ExecuteTyped: the RPC's input, validated already.
	in proto.Message

	resp *gokernelsv1.ExecuteResponse // Execute's answer
	out  proto.Message                // ExecuteTyped's answer
}

// input returns the job's validated typed input; it runs inside the worker
// slot and the deadline.
func (s *Kernels) input(j *job) (proto.Message, error) {
	if j.req == nil {
		return j.in, nil
	}
	in, typed, err := s.decode(j.kernel, j.req, j.rest)
	j.typedIn = typed
	if err != nil {
		return nil, err
	}
	if err := j.kernel.Validate(in); err != nil {
		e, _ := errs.FromKernel(err, "input")
		return nil, e
	}
	return in, nil
}

// output turns a successful run into the job's answer, inside the slot and
// the kernel's memory reservation.
func (s *Kernels) output(ctx context.Context, j *job, r result) error {
	k := j.kernel
	if j.req == nil { // ExecuteTyped
		if j.rest != nil {
			// The /execute JSON rendering, with its limits and memory
			// reservation, into rest.Output (resp is not used).
			if err := s.encodeOutput(ctx, &gokernelsv1.ExecuteResponse{}, j.rest, k.ID, r.out, false, r.working); err != nil {
				return err
			}
			j.out = k.Output.New().Interface()
			return nil
		}
		size := int64(proto.Size(r.out))
		if limit := s.maxResponse(); size > limit {
			return responseTooLarge(k.ID, size, limit, false)
		}
		j.out = r.out
		return nil
	}
	md := j.req.GetMetadata()
	j.resp = &gokernelsv1.ExecuteResponse{
		RequestId: reqinfo.From(ctx).RequestID,
		KernelId:  k.ID,
		Metadata: &gokernelsv1.ExecuteMetadata{
			DurationUs: uint32(min(r.compute.Microseconds(), 1<<32-1)),
			QueueUs:    uint32(min(r.queued.Microseconds(), 1<<32-1)),
			Backend:    r.backend,
		},
	}
	typed := md.GetTypedOutput() || (j.typedIn && !md.GetJsonOutput())
	return s.encodeOutput(ctx, j.resp, j.rest, k.ID, r.out, typed, r.working)
}

// result is a successful run.
type result struct {
	out             proto.Message
	backend         string
	compute, queued time.Duration
	working         int64 // the kernel's memory reservation, still held
}

// execute is the one execution path of every kernel call.
func (s *Kernels) execute(ctx context.Context, j *job) error {
	info := reqinfo.From(ctx)
	k := j.kernel
	info.KernelID = k.ID
	var compute, queued time.Duration
	backend := ""
	code := codes.OK
	fault := false
	defer func() {
		s.Metrics.Execution(k.ID, k.Domain, backend, code.String(), compute, queued, fault)
	}()
	fail := func(err error) error {
		code = status.Code(err)
		return err
	}

	if !k.SupportsBatch() {
		return fail(errs.WithReason(codes.Unimplemented, errs.ReasonRing, fmt.Sprintf(
			"kernel %s is a Ring kernel: it runs as a persistent actor driven by messages and cannot be executed "+
				"with unary Execute; create a ring for it with the RingService (POST /rings with its kernel_id, then POST "+
				"/tenants/{tenant}/rings/{ring}:send, or a gRPC RingService.Session stream)", k.ID), 0))
	}

	if ms := j.timeoutMs; ms > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(ms)*time.Millisecond)
		defer cancel()
	}

	admitStart := time.Now()
	slot, err := s.Pool.Admit(ctx, k.ID)
	if err != nil {
		switch {
		case errors.Is(err, pool.ErrMailboxFull):
			s.Metrics.Queued(0)
			s.Metrics.Reject(observe.RejectQueueFull)
		case errors.Is(err, pool.ErrKernelQuarantined):
			s.Metrics.Queued(0)
			s.Metrics.Reject(observe.RejectQuarantined)
		default: // it waited, then ctx ended
			s.Metrics.Queued(time.Since(admitStart))
		}
		return fail(admissionError(err))
	}
	queued = slot.Queued
	s.Metrics.Queued(queued)
	// Done gets the request's final error, the output's encoding included.
	var outcome error
	defer func() { slot.Done(outcome) }()
	fail = func(err error) error {
		code = status.Code(err)
		outcome = err
		return err
	}
	s.Metrics.Inflight(1)
	defer s.Metrics.Inflight(-1)

	in, err := s.input(j)
	if err != nil {
		return fail(err)
	}
	run, backend, err := s.Backends.Choose(k, in, j.backend)
	if err != nil {
		return fail(err)
	}
	info.Backend = backend

	working, minOut := estimate(k, in, s.Limits)
	if limit := s.maxResponse(); minOut > limit {
		return fail(responseTooLarge(k.ID, minOut, limit, true))
	}
	free, err := s.Pool.Reserve(working)
	if err != nil {
		return fail(memoryError(err, working, s.Pool.MemoryBudget()))
	}
	defer free()

	// The kernel span, when spans can be seen (Tracer is nil without an
	// exporter).
	runCtx := ctx
	var span trace.Span
	if s.Tracer != nil {
		runCtx, span = s.Tracer.Start(ctx, "kernel "+k.ID)
		// Attributes only for a span that records them: for an unsampled
		// trace building them, input_bytes's walk of the whole input above
		// all, would be work nobody reads.
		if span.IsRecording() {
			span.SetAttributes(
				attribute.String("gokernels.kernel_id", k.ID),
				attribute.String("gokernels.backend", backend),
				attribute.Int("gokernels.input_bytes", proto.Size(in)),
				attribute.Int64("gokernels.queue_us", queued.Microseconds()),
			)
		}
	}
	runCtx = s.limits().With(runCtx)
	start := time.Now()
	var out proto.Message
	var ranOn string
	err = slot.Run(func() (err error) {
		out, ranOn, err = run(runCtx, in)
		return err
	})
	compute = time.Since(start)
	// A GPU run that fell back to the CPU says so: the response, log and
	// metrics report what actually ran.
	if ranOn != "" {
		backend, info.Backend = ranOn, ranOn
	}
	if span != nil {
		if err != nil {
			span.SetStatus(otelcodes.Error, status.Code(err).String())
		}
		span.End()
	}
	if err != nil {
		e, internal := errs.FromKernel(err, j.prefix)
		if internal {
			fault = true
		}
		var pe *pool.PanicError
		switch {
		case errors.As(err, &pe):
			// INTERNAL for this request only: the slot is freed and the
			// server keeps serving.
			s.Log.ErrorContext(ctx, "kernel panicked", "request_id", info.RequestID, "kernel_id", k.ID,
				"panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
		case internal:
			s.Log.ErrorContext(ctx, "kernel failed", "kernel_id", k.ID, "request_id", info.RequestID, "error", err)
		}
		return fail(e)
	}

	if err := s.output(ctx, j, result{out: out, backend: backend, compute: compute, queued: queued, working: working}); err != nil {
		if status.Code(err) == codes.Internal {
			fault = true
		}
		return fail(err)
	}
	// The encoding is part of the request: an answer finished past the
	// deadline is a deadline error, as for the kernel itself.
	if ctx.Err() != nil {
		e, _ := errs.FromKernel(ctx.Err(), "")
		return fail(e)
	}
	return nil
}

// decode turns the request payload (or a REST call's input JSON) into the
// kernel's typed input.
func (s *Kernels) decode(k *registry.Kernel, req *gokernelsv1.ExecuteRequest, rest *RESTCall) (proto.Message, bool, error) {
	in := k.NewInput()
	if rest != nil && rest.Input != nil {
		if req.GetPayload() != nil {
			return nil, false, errs.InvalidFields("give either input or typed_input, not both",
				errs.Field("typed_input", "must not be set together with input"))
		}
		if err := jsoninput.Decode(rest.Input, in); err != nil {
			e, _ := errs.FromKernel(err, "input")
			return nil, false, e
		}
		return in, false, nil
	}
	switch p := req.GetPayload().(type) {
	case *gokernelsv1.ExecuteRequest_Input:
		if err := jsoninput.FromStruct(p.Input, in); err != nil {
			e, _ := errs.FromKernel(err, "input")
			return nil, false, e
		}
		return in, false, nil
	case *gokernelsv1.ExecuteRequest_TypedInput:
		want := string(k.Input.Descriptor().FullName())
		if got := string(p.TypedInput.MessageName()); got != want {
			return nil, true, errs.InvalidFields(fmt.Sprintf("typed_input holds %s, kernel %s takes %s", got, k.ID, want),
				errs.Field("typed_input.type_url", "must be type.googleapis.com/"+want))
		}
		if err := proto.Unmarshal(p.TypedInput.GetValue(), in); err != nil {
			return nil, true, errs.InvalidFields("typed_input is not a valid "+want, errs.Field("typed_input.value", err.Error()))
		}
		return in, true, nil
	}
	return nil, false, errs.InvalidFields("input is required", errs.Field("input", "either input (JSON) or typed_input (binary) must be set"))
}

// admissionError is the answer to a call the pool did not admit.
func admissionError(err error) error {
	var qe *pool.QuarantineError
	switch {
	case errors.Is(err, pool.ErrMailboxFull):
		return errs.WithReason(codes.ResourceExhausted, errs.ReasonQueueFull,
			"server is at capacity: the execution queue is full; retry later", time.Second)
	case errors.As(err, &qe):
		// Whole seconds, rounded up, as Retry-After carries them.
		wait := (qe.Left + time.Second - 1).Truncate(time.Second)
		return errs.WithReason(codes.Unavailable, errs.ReasonKernelQuarantined, fmt.Sprintf(
			"kernel %s is quarantined after %d panics within %s; retry in %s (other kernels are not affected)",
			qe.KernelID, qe.Panics, qe.Window, wait), wait)
	case errors.Is(err, pool.ErrClosed):
		return status.Error(codes.Unavailable, "server is shutting down; retry on another replica")
	}
	e, _ := errs.FromKernel(err, "")
	return e
}
