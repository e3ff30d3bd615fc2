package server

import (
	"context"
	"fmt"

	"github.com/fullstorydev/grpchan/inprocgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gokernels/gokernels/server/observe"
	"github.com/gokernels/gokernels/server/service"
)

// The REST gateway reaches the services through an in-process channel
// (grpchan's inprocgrpc) rather than by dialing the gRPC server over an
// in-memory HTTP/2 connection: the handler is called directly, through the
// same interceptor chain (s.chain(), one definition for both transports),
// and no request or response is framed, marshalled or unmarshalled on the
// way. Measured with `make bench-serve` (docs/benchmarks.md).
//
// What the hop used to carry as metadata still arrives as metadata (the
// forwarded headers, x-forwarded-for, the trace context); the facts only the
// gateway knows (service.RESTCall) are handed over as the Go value itself.
func (s *Server) newInproc() *inprocgrpc.Channel {
	unary := chainUnary(append([]grpc.UnaryServerInterceptor{fromGateway}, unaryInterceptors(s.chain())...))
	return new(inprocgrpc.Channel).
		WithServerUnaryInterceptor(unary).
		WithServerStreamInterceptor(chainStream(s.streamInterceptors())).
		WithServerStatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(s.tracer), otelgrpc.WithPropagators(observe.Propagator))).
		WithCloner(handover{})
}

// inprocNetwork is the peer address network of calls over the in-process
// channel (the rate limiter's "this came through the gateway").
const inprocNetwork = "inproc"

// registrars registers every service on the gRPC server and on the
// in-process channel alike.
type registrars []grpc.ServiceRegistrar

func (rs registrars) RegisterService(desc *grpc.ServiceDesc, impl any) {
	for _, r := range rs {
		r.RegisterService(desc, impl)
	}
}

// fromGateway moves the gateway's RESTCall from the client side of the
// in-process call (whose context values inprocgrpc does not pass on) to the
// server side.
func fromGateway(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if cc := inprocgrpc.ClientContext(ctx); cc != nil {
		if c := service.RESTCallFrom(cc); c != nil {
			ctx = service.WithRESTCall(ctx, c)
		}
	}
	return handler(ctx, req)
}

// handover is the channel's Cloner. The gateway builds each request for
// one call and never touches it again, and a response is read only after
// the handler has returned it, so a unary message is handed over by moving
// its fields (no deep copy, no encoding). Stream messages, which a handler
// may keep using after Send, are deep-copied.
type handover struct{}

func (handover) Copy(out, in any) error {
	dst, ok := out.(proto.Message)
	src, ok2 := in.(proto.Message)
	if !ok || !ok2 {
		return fmt.Errorf("inproc: %T and %T are not both protobuf messages", out, in)
	}
	d, m := dst.ProtoReflect(), src.ProtoReflect()
	if d.Descriptor().FullName() != m.Descriptor().FullName() {
		return fmt.Errorf("inproc: cannot hand a %s over as a %s", m.Descriptor().FullName(), d.Descriptor().FullName())
	}
	proto.Reset(dst)
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		d.Set(fd, v)
		return true
	})
	if u := m.GetUnknown(); len(u) > 0 {
		d.SetUnknown(u)
	}
	return nil
}

func (handover) Clone(in any) (any, error) {
	m, ok := in.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("inproc: %T is not a protobuf message", in)
	}
	return proto.Clone(m), nil
}

// chainUnary is grpc.ChainUnaryInterceptor for a single interceptor slot.
func chainUnary(ics []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return ics[0](ctx, req, info, unaryNext(ics, 0, info, handler))
	}
}

func unaryNext(ics []grpc.UnaryServerInterceptor, i int, info *grpc.UnaryServerInfo, last grpc.UnaryHandler) grpc.UnaryHandler {
	if i == len(ics)-1 {
		return last
	}
	return func(ctx context.Context, req any) (any, error) {
		return ics[i+1](ctx, req, info, unaryNext(ics, i+1, info, last))
	}
}

// chainStream is grpc.ChainStreamInterceptor for a single interceptor slot.
func chainStream(ics []grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return ics[0](srv, ss, info, streamNext(ics, 0, info, handler))
	}
}

func streamNext(ics []grpc.StreamServerInterceptor, i int, info *grpc.StreamServerInfo, last grpc.StreamHandler) grpc.StreamHandler {
	if i == len(ics)-1 {
		return last
	}
	return func(srv any, ss grpc.ServerStream) error {
		return ics[i+1](srv, ss, info, streamNext(ics, i+1, info, last))
	}
}
