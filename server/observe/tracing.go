package observe

// Tracing: W3C trace context propagation always, span export over OTLP only
// when an endpoint is configured. Without an endpoint spans still exist
// (trace ids reach the logs and traceparent is continued through the
// gateway) but nothing leaves the process.

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
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
