package observe

// Tracing: W3C trace context propagation always, spans only when they can
// be exported over OTLP (an endpoint is configured). Without an endpoint the
// server makes no spans: TraceIDs gives each RPC its trace id (the caller's
// traceparent, continued through the gateway, or a fresh one), which the
// logs carry, and nothing leaves the process.

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
)

// Version is the build's version, set by the Makefile's
// -X github.com/gokernels/gokernels/server/observe.Version=… flag.
var Version = "dev"

// Propagator is W3C trace context plus baggage.
var Propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// TracerProvider builds the tracer provider. endpoint "" means no export.
// protocol is "grpc" or "http". The returned shutdown flushes exporters.
func TracerProvider(ctx context.Context, endpoint, protocol string) (trace.TracerProvider, func(context.Context) error, error) {
	res := resource.NewSchemaless(
		semconv.ServiceName("gokernels"),
		semconv.ServiceVersion(Version),
	)
	// Without an exporter nothing would read recorded spans, so only traces a
	// caller marked sampled are recorded; every span still gets real trace
	// and span ids, which reach the logs and propagate downstream.
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample()))}
	if endpoint != "" {
		opts[1] = sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample()))
		exp, err := exporter(ctx, endpoint, protocol)
		if err != nil {
			return nil, nil, fmt.Errorf("GOKERNELS_OTLP_ENDPOINT: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	return tp, tp.Shutdown, nil
}

func exporter(ctx context.Context, endpoint, protocol string) (sdktrace.SpanExporter, error) {
	insecure := strings.HasPrefix(endpoint, "http://") || !strings.Contains(endpoint, "://")
	host := strings.TrimPrefix(strings.TrimPrefix(endpoint, "http://"), "https://")
	if protocol == "http" {
		o := []otlptracehttp.Option{otlptracehttp.WithEndpoint(host)}
		if insecure {
			o = append(o, otlptracehttp.WithInsecure())
		}
		return otlptracehttp.New(ctx, o...)
	}
	o := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(host)}
	if insecure {
		o = append(o, otlptracegrpc.WithInsecure())
	}
	return otlptracegrpc.New(ctx, o...)
}

// TraceIDs is the gRPC server stats handler that stands in for otelgrpc's
// when no span can be exported (no GOKERNELS_OTLP_ENDPOINT and the server's
// own provider, whose spans have no processor to end in). It gives each RPC
// the trace context otelgrpc's span would have had — the caller's W3C trace
// id and flags (traceparent metadata, which the gateway forwards for REST)
// or a new random trace id, and a new span id — and nothing more: no span,
// attributes, events or baggage per call, which nothing could read. The
// request log's trace_id comes from it.
type TraceIDs struct{}

var _ stats.Handler = TraceIDs{}

// TagRPC implements stats.Handler.
func (TraceIDs) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	cfg := trace.SpanContextConfig{}
	if v := metadata.ValueFromIncomingContext(ctx, "traceparent"); len(v) > 0 {
		remote := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), incomingCarrier{ctx}))
		if remote.IsValid() {
			cfg.TraceID, cfg.TraceFlags, cfg.TraceState = remote.TraceID(), remote.TraceFlags()&trace.FlagsSampled, remote.TraceState()
		}
	}
	if !cfg.TraceID.IsValid() {
		binary.BigEndian.PutUint64(cfg.TraceID[:8], rand.Uint64())
		binary.BigEndian.PutUint64(cfg.TraceID[8:], rand.Uint64()|1) // never all zero
	}
	binary.BigEndian.PutUint64(cfg.SpanID[:], rand.Uint64()|1)
	return trace.ContextWithSpanContext(ctx, trace.NewSpanContext(cfg))
}

// HandleRPC implements stats.Handler.
func (TraceIDs) HandleRPC(context.Context, stats.RPCStats) {}

// TagConn implements stats.Handler.
func (TraceIDs) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

// HandleConn implements stats.Handler.
func (TraceIDs) HandleConn(context.Context, stats.ConnStats) {}

// incomingCarrier reads trace headers from incoming gRPC metadata, one key
// at a time (no copy of the metadata).
type incomingCarrier struct{ ctx context.Context }

func (c incomingCarrier) Get(key string) string {
	if v := metadata.ValueFromIncomingContext(c.ctx, key); len(v) > 0 {
		return v[0]
	}
	return ""
}
func (incomingCarrier) Set(string, string) {}
func (incomingCarrier) Keys() []string     { return nil }
