package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/server/auth"
	"github.com/gokernels/gokernels/server/errs"
	"github.com/gokernels/gokernels/server/observe"
	"github.com/gokernels/gokernels/server/reqinfo"
	"github.com/gokernels/gokernels/server/service"
)

// stage is one named interceptor of the request path.
type stage struct {
	name  string
	unary grpc.UnaryServerInterceptor
}

// chain builds the one interceptor chain every transport goes through.
// Order (outermost first), and why:
//
//  1. recovery      — a panic anywhere below becomes a plain INTERNAL (no
//     panic text or stack to the client), logged with the request id.
//  2. request id    — everything after it can log and echo the id.
//  3. logging       — one line per request with the final code and duration.
//  4. metrics       — grpc_server_* families; counts refusals below too.
//  5. draining      — after the drain grace, new requests get UNAVAILABLE.
//  6. auth          — who is calling and may they (production preset).
//  7. rate limit    — per principal, else per real client address, then global.
//  8. deadline      — default when the client set none, capped at the max.
//  9. protovalidate — request messages checked against their proto rules.
//
// Health checks skip auth and rate limits and log at debug level.
func (s *Server) chain() []stage {
	stages := []stage{
		{"recovery", recovery.UnaryServerInterceptor(recovery.WithRecoveryHandlerContext(s.onPanic))},
		{"request_id", requestIDStage},
		{"logging", s.loggingStage},
		{"metrics", s.metrics.GRPCMetrics.UnaryServerInterceptor()},
		{"draining", s.drainingStage},
	}
	if s.auth != nil {
		stages = append(stages, stage{"auth", unlessHealth(s.auth.Unary())})
	}
	if s.limiter != nil {
		stages = append(stages, stage{"rate_limit", unlessHealth(s.limiter.Unary())})
	}
	stages = append(stages,
		stage{"deadline", s.deadlineStage},
		stage{"protovalidate", s.validateStage},
	)
	return stages
}

// streamInterceptors guard the streaming RPCs (server reflection, health
// Watch): recovery, metrics and auth (health exempt), like the unary chain.
func (s *Server) streamInterceptors() []grpc.StreamServerInterceptor {
	out := []grpc.StreamServerInterceptor{
		s.endStreams,
		recovery.StreamServerInterceptor(recovery.WithRecoveryHandlerContext(s.onPanic)),
		streamInfoStage,
		s.metrics.GRPCMetrics.StreamServerInterceptor(),
	}
	if s.auth != nil {
		out = append(out, selector.StreamServerInterceptor(s.auth.Stream(), selector.MatchFunc(notHealth)))
	}
	return out
}

// streamInfoStage gives a stream its reqinfo, so that auth can record the
// caller's tenant for the handler (RingService scopes rings by tenant).
func streamInfoStage(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	info := &reqinfo.Info{}
	if v := metadata.ValueFromIncomingContext(ss.Context(), "x-request-id"); len(v) > 0 && reqinfo.Valid(v[0]) {
		info.RequestID = v[0]
	}
	return handler(srv, &infoStream{ServerStream: ss, ctx: reqinfo.With(ss.Context(), info)})
}

type infoStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *infoStream) Context() context.Context { return s.ctx }

// StageNames lists the chain in order (for docs and tests).
func (s *Server) StageNames() []string {
	var names []string
	for _, st := range s.chain() {
		names = append(names, st.name)
	}
	return names
}

func unaryInterceptors(stages []stage) []grpc.UnaryServerInterceptor {
	out := make([]grpc.UnaryServerInterceptor, len(stages))
	for i, st := range stages {
		out[i] = st.unary
	}
	return out
}

// unlessHealth runs next for every method but the health checks. (The
// go-grpc-middleware selector does the same, but builds its CallMeta's full
// method name with fmt.Sprintf on every call.)
func unlessHealth(next grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if isHealth(info.FullMethod) {
			return handler(ctx, req)
		}
		return next(ctx, req, info, handler)
	}
}

func notHealth(_ context.Context, c interceptors.CallMeta) bool {
	return !isHealth(c.FullMethod())
}

// isHealth is auth.Public: the health checks, the one list of them.
func isHealth(method string) bool { return auth.Public(method) }

func (s *Server) onPanic(ctx context.Context, p any) error {
	s.log.ErrorContext(ctx, "panic in request", "request_id", reqinfo.From(ctx).RequestID, "panic", p)
	return status.Error(codes.Internal, "internal error")
}

// requestIDStage echoes a client's x-request-id (if sane) or makes one, and
// returns it in the response header.
func requestIDStage(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	info := &reqinfo.Info{}
	// ValueFromIncomingContext reads the one key; FromIncomingContext would
	// copy all the metadata.
	if v := metadata.ValueFromIncomingContext(ctx, "x-request-id"); len(v) > 0 && reqinfo.Valid(v[0]) {
		info.RequestID = v[0]
	}
	if info.RequestID == "" {
		info.RequestID = reqinfo.NewID()
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		info.TraceID = sc.TraceID().String()
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs("x-request-id", info.RequestID))
	return handler(reqinfo.With(ctx, info), req)
}

// loggingStage writes one line per request.
func (s *Server) loggingStage(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	level := slog.LevelInfo
	if isHealth(info.FullMethod) {
		level = slog.LevelDebug
	}
	if !s.log.Enabled(ctx, level) {
		return resp, err
	}
	ri := reqinfo.From(ctx)
	code := status.Code(err)
	// Room for every attribute below: a constant-size make stays on the
	// stack, where appending past a 4-element literal grew it on the heap.
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		slog.String("method", info.FullMethod),
		slog.String("code", code.String()),
		slog.Duration("duration", time.Since(start)),
		slog.String("request_id", ri.RequestID),
	)
	if ri.KernelID != "" {
		attrs = append(attrs, slog.String("kernel_id", ri.KernelID))
	}
	if ri.Backend != "" {
		attrs = append(attrs, slog.String("backend", ri.Backend))
	}
	if ri.TraceID != "" {
		attrs = append(attrs, slog.String("trace_id", ri.TraceID))
	}
	if err != nil && code != codes.OK {
		attrs = append(attrs, slog.String("error", status.Convert(err).Message()))
	}
	s.log.LogAttrs(ctx, level, "request", attrs...)
	return resp, err
}

// drainingStage refuses new work once the drain grace has passed.
func (s *Server) drainingStage(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if isHealth(info.FullMethod) {
		return handler(ctx, req)
	}
	if s.state.Phase() >= service.Refusing {
		s.metrics.Reject(observe.RejectDraining)
		return nil, errs.WithReason(codes.Unavailable, errs.ReasonDraining, "server is shutting down; retry on another replica", 0)
	}
	return handler(ctx, req)
}

// deadlineStage applies the default deadline and the cap.
func (s *Server) deadlineStage(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, cancel := boundDeadline(ctx, s.cfg.DefaultTimeout, s.cfg.MaxTimeout)
	defer cancel()
	return handler(ctx, req)
}

// boundDeadline gives ctx the default timeout when it has no deadline and
// caps a later one at limit. A client deadline within the cap is kept as it
// is: ctx is returned unwrapped (the remaining time is read once; comparing
// two readings of the clock never matched).
func boundDeadline(ctx context.Context, def, limit time.Duration) (context.Context, context.CancelFunc) {
	timeout := def
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= limit {
			return ctx, func() {}
		}
		timeout = limit
	}
	return context.WithTimeout(ctx, timeout)
}

// validateStage checks the request message against its protovalidate rules.
// It answers like go-grpc-middleware's protovalidate interceptor but with
// google.rpc.BadRequest field violations, which REST clients and most gRPC
// client libraries understand, instead of buf.validate.Violations alone.
func (s *Server) validateStage(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if m, ok := req.(proto.Message); ok {
		if err := s.validator.Validate(m); err != nil {
			e, _ := errs.FromKernel(err, "")
			return nil, e
		}
	}
	return handler(ctx, req)
}
