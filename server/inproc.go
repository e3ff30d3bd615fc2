package server

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/fullstorydev/grpchan/inprocgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The REST gateway reaches the services through an in-process connection
// (conn) rather than by dialing the gRPC server over an in-memory HTTP/2
// connection: the registered handler is called directly, through the same
// interceptor chain (s.unary, one definition for both transports), and no
// request or response is framed, marshalled or unmarshalled on the way.
//
// Unary calls run on the caller's goroutine (the HTTP connection's, whose
// stack has already grown). grpchan's inprocgrpc, which this started with
// and which still carries the streaming calls, starts a fresh goroutine per
// call: in a `make bench-serve -profile` run, growing that goroutine's stack
// through the chain (runtime.newstack/copystack) was ~15% of the server CPU
// of a small REST call. Everything else (metadata, peer, header/trailer,
// the server stats handler) is what inprocgrpc does too.
//
// What the hop used to carry as metadata still arrives as metadata (the
// forwarded headers, x-forwarded-for, the trace context); the facts only the
// gateway knows (service.RESTCall) travel as Go values in the context.
func (s *Server) newInproc() *conn {
	sh := s.rpcTracing()
	return &conn{
		methods:     map[string]unaryMethod{},
		unary:       s.unary,
		stats:       sh,
		statsEvents: s.exported,
		streams: new(inprocgrpc.Channel).
			WithServerStreamInterceptor(chainStream(s.streamInterceptors())).
			WithServerStatsHandler(sh).
			WithCloner(handover{}),
	}
}

// inprocNetwork is the peer address network of calls over the in-process
// connection (the rate limiter's "this came through the gateway").
const inprocNetwork = "inproc"

type inprocAddr struct{}

func (inprocAddr) Network() string { return inprocNetwork }
func (inprocAddr) String() string  { return "gateway" }

var inprocPeer = &peer.Peer{Addr: inprocAddr{}}

// conn is the gateway's grpc.ClientConnInterface and a grpc.ServiceRegistrar.
type conn struct {
	methods map[string]unaryMethod // by full method name, set before serving
	unary   grpc.UnaryServerInterceptor
	stats   stats.Handler
	// statsEvents: stats wants the Begin and End of each call (otelgrpc's
	// spans); observe.TraceIDs needs only TagRPC.
	statsEvents bool
	streams     *inprocgrpc.Channel
}

type unaryMethod struct {
	impl    any
	handler grpc.MethodHandler
}

var (
	_ grpc.ClientConnInterface = (*conn)(nil)
	_ grpc.ServiceRegistrar    = (*conn)(nil)
)

// RegisterService implements grpc.ServiceRegistrar.
func (c *conn) RegisterService(desc *grpc.ServiceDesc, impl any) {
	for _, m := range desc.Methods {
		c.methods["/"+desc.ServiceName+"/"+m.MethodName] = unaryMethod{impl: impl, handler: m.Handler}
	}
	c.streams.RegisterService(desc, impl)
}

// NewStream implements grpc.ClientConnInterface (RingService.Watch over REST).
func (c *conn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.streams.NewStream(ctx, desc, method, opts...)
}

// Invoke implements grpc.ClientConnInterface: the unary handler runs here,
// through the chain, with the client's outgoing metadata as its incoming
// metadata.
func (c *conn) Invoke(ctx context.Context, method string, req, resp any, opts ...grpc.CallOption) (err error) {
	m, ok := c.methods[method]
	if !ok {
		return status.Errorf(codes.Unimplemented, "method %s not implemented", method)
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	sctx := metadata.NewIncomingContext(ctx, md)
	sctx = peer.NewContext(sctx, inprocPeer)
	st := &transportStream{method: method}
	sctx = grpc.NewContextWithServerTransportStream(sctx, st)
	if c.stats != nil {
		begin := time.Now()
		sctx = c.stats.TagRPC(sctx, &stats.RPCTagInfo{FullMethodName: method})
		if c.statsEvents {
			c.stats.HandleRPC(sctx, &stats.Begin{BeginTime: begin})
			defer func() { c.stats.HandleRPC(sctx, &stats.End{BeginTime: begin, EndTime: time.Now(), Error: err}) }()
		}
	}
	out, err := m.handler(m.impl, sctx, func(v any) error { return handover{}.Copy(v, req) }, c.unary)
	for _, o := range opts {
		switch o := o.(type) {
		case grpc.HeaderCallOption:
			*o.HeaderAddr = st.header
		case grpc.TrailerCallOption:
			*o.TrailerAddr = st.trailer
		case grpc.PeerCallOption:
			*o.PeerAddr = *inprocPeer
		}
	}
	if err != nil {
		return err
	}
	return handover{}.Copy(resp, out)
}

// transportStream collects the headers and trailers a handler sets.
type transportStream struct {
	method          string
	header, trailer metadata.MD
}

func (t *transportStream) Method() string { return t.method }
func (t *transportStream) SetHeader(md metadata.MD) error {
	t.header = metadata.Join(t.header, md)
	return nil
}
func (t *transportStream) SendHeader(md metadata.MD) error { return t.SetHeader(md) }
func (t *transportStream) SetTrailer(md metadata.MD) error {
	t.trailer = metadata.Join(t.trailer, md)
	return nil
}

// registrars registers every service on the gRPC server and on the
// in-process connection alike.
type registrars []grpc.ServiceRegistrar

func (rs registrars) RegisterService(desc *grpc.ServiceDesc, impl any) {
	for _, r := range rs {
		r.RegisterService(desc, impl)
	}
}

// handover moves unary messages across the in-process call (and is the
// stream channel's Cloner). The gateway builds each request for one call and
// never touches it again, and a response is read only after the handler has
// returned it, so a unary message is handed over by moving its fields (no
// deep copy, no encoding). Stream messages, which a handler may keep using
// after Send, are deep-copied.
type handover struct{}

func (handover) Copy(out, in any) error {
	dst, ok := out.(proto.Message)
	src, ok2 := in.(proto.Message)
	if !ok || !ok2 {
		return fmt.Errorf("inproc: %T and %T are not both protobuf messages", out, in)
	}
	// The same generated type (every unary call): move the struct in one
	// assignment. Field by field through protoreflect was ~4% of the CPU of
	// a small REST call.
	if dv, sv := reflect.ValueOf(dst), reflect.ValueOf(src); dv.Type() == sv.Type() &&
		dv.Kind() == reflect.Pointer && dv.Elem().Kind() == reflect.Struct && !dv.IsNil() && !sv.IsNil() {
		dv.Elem().Set(sv.Elem())
		return nil
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
