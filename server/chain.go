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

// The unary chain: every unary call on every transport (native gRPC, gRPC
// over h2c, REST through the in-process connection) passes these stages,
// outermost first:
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
//
// The stages are one interceptor (unary, below), written out in that order,
// not nine interceptors chained by grpc: a chain makes a closure per stage
// per call (getChainUnaryHandler) and a call frame per stage on the way in
// and out, and that was most of what the stages cost around a small kernel
// call (BenchmarkChainTyped). unary is installed as the gRPC server's only
// unary interceptor and is the in-process connection's chain, so both
// transports run this one definition.
var stageNames = []string{"recovery", "request_id", "logging", "metrics", "draining", "auth", "rate_limit", "deadline", "protovalidate"}

// StageNames lists the unary chain in order (for docs and tests): auth and
// rate_limit only when configured.
func (s *Server) StageNames() []string {
	var names []string
	for _, n := range stageNames {
		if (n == "auth" && s.auth == nil) || (n == "rate_limit" && s.limiter == nil) {
			continue
		}
		names = append(names, n)
	}
	return names
}

// unary is the unary chain: the stages listed above, in that order.
func (s *Server) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	// 1. recovery. resp stays nil on a panic, as with go-grpc-middleware's
	// recovery interceptor, which this replaces.
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, s.onPanic(ctx, p)
		}
	}()
	// 2. request id
	ri := newRequestInfo(ctx)
	ctx = reqinfo.With(ctx, ri)
	// 3. logging and 4. metrics: one reading of the clock at each end
	// serves both (the log's duration and grpc_server_handling_seconds).
	start := time.Now()
	call := s.metrics.GRPCMetrics.StartUnary(info.FullMethod)
	resp, err = s.admitted(ctx, req, info, handler)
	took := time.Since(start)
	call.End(err, took)
	s.logRequest(ctx, info, ri, took, err)
	return resp, err
}

// admitted is stages 5 (draining) to 9 and the handler.
func (s *Server) admitted(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	health := isHealth(info.FullMethod)
	if !health {
		// 5. draining
		if s.state.Phase() >= service.Refusing {
			s.metrics.Reject(observe.RejectDraining)
			return nil, errs.WithReason(codes.Unavailable, errs.ReasonDraining, "server is shutting down; retry on another replica", 0)
		}
		// 6. auth
		if s.auth != nil {
			if err := s.auth.Authorize(ctx, info.FullMethod); err != nil {
				return nil, err
			}
		}
		// 7. rate limit
		if s.limiter != nil {
			if err := s.limiter.Limit(ctx); err != nil {
				return nil, err
			}
		}
	}
	// 8. deadline
	ctx, cancel := boundDeadline(ctx, s.cfg.DefaultTimeout, s.cfg.MaxTimeout)
	defer cancel()
	// 9. protovalidate
	if err := s.validate(req); err != nil {
		return nil, err
	}
	return handler(ctx, req)
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

func notHealth(_ context.Context, c interceptors.CallMeta) bool {
	return !isHealth(c.FullMethod())
}

// isHealth is auth.Public: the health checks, the one list of them.
func isHealth(method string) bool { return auth.Public(method) }

func (s *Server) onPanic(ctx context.Context, p any) error {
	s.log.ErrorContext(ctx, "panic in request", "request_id", reqinfo.From(ctx).RequestID, "panic", p)
	return status.Error(codes.Internal, "internal error")
}

// newRequestInfo is the request id stage: it echoes a client's
// x-request-id (if sane) or makes one, and returns it in the response
// header.
func newRequestInfo(ctx context.Context) *reqinfo.Info {
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
	return info
}

// logRequest is the logging stage: one line per request.
func (s *Server) logRequest(ctx context.Context, info *grpc.UnaryServerInfo, ri *reqinfo.Info, took time.Duration, err error) {
	level := slog.LevelInfo
	if isHealth(info.FullMethod) {
		level = slog.LevelDebug
	}
	if !s.log.Enabled(ctx, level) {
		return
	}
	code := status.Code(err)
	// Room for every attribute below: a constant-size make stays on the
	// stack, where appending past a 4-element literal grew it on the heap.
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		slog.String("method", info.FullMethod),
		slog.String("code", code.String()),
		slog.Duration("duration", took),
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

// validate is the protovalidate stage: it checks the request message
// against its rules. It answers like go-grpc-middleware's protovalidate
// interceptor but with google.rpc.BadRequest field violations, which REST
// clients and most gRPC client libraries understand, instead of
// buf.validate.Violations alone.
func (s *Server) validate(req any) error {
	if m, ok := req.(proto.Message); ok {
		if err := s.validator.Validate(m); err != nil {
			e, _ := errs.FromKernel(err, "")
			return e
		}
	}
	return nil
}
