package observe

import (
	"context"
	"sync"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/reflection"
)

// GRPCServerMetrics are the grpc_server_* families exactly as
// go-grpc-middleware's prometheus.ServerMetrics (with the handling-time
// histogram) defines and counts them, but each method's series are looked
// up once and kept: go-grpc-middleware resolves five label sets (hashing
// the strings, under the vec's lock) and allocates a reporter on every
// call. TestGRPCServerMetricsSameAsMiddleware checks the exposition is
// identical.
type GRPCServerMetrics struct {
	started, handled, received, sent *prometheus.CounterVec
	seconds                          *prometheus.HistogramVec
	series                           sync.Map // full method name → *methodSeries
}

// methodSeries are one method's series. The message counters and handled
// (per code) are made on first use, so that only what happened (or what
// InitializeMetrics made) is exposed, as with the middleware.
type methodSeries struct {
	labels             [3]string // grpc_type, grpc_service, grpc_method
	started            prometheus.Counter
	seconds            prometheus.Observer
	recvOnce, sentOnce sync.Once
	received, sent     prometheus.Counter
	mu                 sync.Mutex
	handled            [codes.Unauthenticated + 1]prometheus.Counter
}

func (s *methodSeries) receivedFor(m *GRPCServerMetrics) prometheus.Counter {
	s.recvOnce.Do(func() { s.received = m.received.WithLabelValues(s.labels[:]...) })
	return s.received
}

func (s *methodSeries) sentFor(m *GRPCServerMetrics) prometheus.Counter {
	s.sentOnce.Do(func() { s.sent = m.sent.WithLabelValues(s.labels[:]...) })
	return s.sent
}

// NewGRPCServerMetrics makes the families; buckets are the histogram's.
func NewGRPCServerMetrics(buckets []float64) *GRPCServerMetrics {
	labels := []string{"grpc_type", "grpc_service", "grpc_method"}
	return &GRPCServerMetrics{
		started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_started_total",
			Help: "Total number of RPCs started on the server.",
		}, labels),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_handled_total",
			Help: "Total number of RPCs completed on the server, regardless of success or failure.",
		}, append(labels[:3:3], "grpc_code")),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_msg_received_total",
			Help: "Total number of RPC stream messages received on the server.",
		}, labels),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_msg_sent_total",
			Help: "Total number of gRPC stream messages sent by the server.",
		}, labels),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "grpc_server_handling_seconds",
			Help:    "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
			Buckets: buckets,
		}, labels),
	}
}

// Describe implements prometheus.Collector.
func (m *GRPCServerMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.started.Describe(ch)
	m.handled.Describe(ch)
	m.received.Describe(ch)
	m.sent.Describe(ch)
	m.seconds.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *GRPCServerMetrics) Collect(ch chan<- prometheus.Metric) {
	m.started.Collect(ch)
	m.handled.Collect(ch)
	m.received.Collect(ch)
	m.sent.Collect(ch)
	m.seconds.Collect(ch)
}

// InitializeMetrics creates every registered method's series at zero, with
// a handled series for every code.
func (m *GRPCServerMetrics) InitializeMetrics(server reflection.ServiceInfoProvider) {
	for service, info := range server.GetServiceInfo() {
		for _, mi := range info.Methods {
			s := m.seriesFor("/"+service+"/"+mi.Name, typeOf(mi.IsClientStream, mi.IsServerStream))
			s.receivedFor(m)
			s.sentFor(m)
			for _, c := range interceptors.AllCodes {
				s.handledFor(m, c)
			}
		}
	}
}

func typeOf(clientStream, serverStream bool) interceptors.GRPCType {
	switch {
	case clientStream && serverStream:
		return interceptors.BidiStream
	case clientStream:
		return interceptors.ClientStream
	case serverStream:
		return interceptors.ServerStream
	}
	return interceptors.Unary
}

// seriesFor returns fullMethod's series, made on first use.
func (m *GRPCServerMetrics) seriesFor(fullMethod string, typ interceptors.GRPCType) *methodSeries {
	if s, ok := m.series.Load(fullMethod); ok {
		return s.(*methodSeries)
	}
	// The middleware's own split of the name ("unknown" for a malformed one).
	meta := interceptors.NewServerCallMeta(fullMethod, nil, nil)
	s := &methodSeries{labels: [3]string{string(typ), meta.Service, meta.Method}}
	l := s.labels[:]
	s.started = m.started.WithLabelValues(l...)
	s.seconds = m.seconds.WithLabelValues(l...)
	got, _ := m.series.LoadOrStore(fullMethod, s)
	return got.(*methodSeries)
}

func (s *methodSeries) handledFor(m *GRPCServerMetrics, code codes.Code) prometheus.Counter {
	if int(code) >= len(s.handled) {
		return m.handled.WithLabelValues(s.labels[0], s.labels[1], s.labels[2], code.String())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handled[code] == nil {
		s.handled[code] = m.handled.WithLabelValues(s.labels[0], s.labels[1], s.labels[2], code.String())
	}
	return s.handled[code]
}

func (s *methodSeries) done(m *GRPCServerMetrics, err error, took time.Duration) {
	s.handledFor(m, grpcprom.FromError(err).Code()).Inc()
	s.seconds.Observe(took.Seconds())
}

// UnaryServerInterceptor counts a unary call as the middleware does: started,
// one message received, one sent when there is no error, handled by code,
// and the handling time. The server's chain counts with StartUnary and
// UnaryCall.End instead, the same steps without an interceptor of its own.
func (m *GRPCServerMetrics) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		call := m.StartUnary(info.FullMethod)
		resp, err := handler(ctx, req)
		call.End(err, time.Since(start))
		return resp, err
	}
}

// UnaryCall is a unary call being counted, from StartUnary to End.
type UnaryCall struct {
	m *GRPCServerMetrics
	s *methodSeries
}

// StartUnary counts the start of a unary call of fullMethod (started, one
// message received).
func (m *GRPCServerMetrics) StartUnary(fullMethod string) UnaryCall {
	s := m.seriesFor(fullMethod, interceptors.Unary)
	s.started.Inc()
	s.receivedFor(m).Inc()
	return UnaryCall{m: m, s: s}
}

// End counts the call's end: one message sent when err is nil, handled by
// code, and took, its handling time.
func (c UnaryCall) End(err error, took time.Duration) {
	if err == nil {
		c.s.sentFor(c.m).Inc()
	}
	c.s.done(c.m, err, took)
}

// StreamServerInterceptor counts a streaming call: started, every message
// received and sent without error, handled by code, the handling time.
func (m *GRPCServerMetrics) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		s := m.seriesFor(info.FullMethod, interceptors.NewServerCallMeta(info.FullMethod, info, nil).Typ)
		s.started.Inc()
		err := handler(srv, &countedStream{ServerStream: ss, m: m, s: s})
		s.done(m, err, time.Since(start))
		return err
	}
}

type countedStream struct {
	grpc.ServerStream
	m *GRPCServerMetrics
	s *methodSeries
}

func (c *countedStream) SendMsg(msg any) error {
	err := c.ServerStream.SendMsg(msg)
	if err == nil {
		c.s.sentFor(c.m).Inc()
	}
	return err
}

func (c *countedStream) RecvMsg(msg any) error {
	err := c.ServerStream.RecvMsg(msg)
	if err == nil {
		c.s.receivedFor(c.m).Inc()
	}
	return err
}
