// Package observe owns the server's Prometheus metrics, per-kernel
// statistics and the execution error window behind the health check.
//
// One Recorder is shared by every transport, so REST and gRPC requests are
// counted once, in the same families. Kernel ids become label values only
// when they are registered kernels, so a client cannot grow the label space.
package observe

import (
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Rejection reasons for gokernels_rejected_total.
const (
	RejectRateLimit        = "rate_limit"
	RejectQueueFull        = "queue_full"
	RejectTooLarge         = "too_large"
	RejectUnauthenticated  = "unauthenticated"
	RejectPermissionDenied = "permission_denied"
	RejectDraining         = "draining"
	RejectQuarantined      = "kernel_quarantined"
)

// The execution health component is computed over the last 60 s and
// degrades only on a sustained server-side failure rate: at least
// HealthMinExecutions executions in the window, with failures in at least
// HealthFaultSeconds distinct seconds (README, "Probes").
const (
	HealthMinExecutions = 20
	HealthFaultSeconds  = 10
)

// grpcHandlingBuckets are grpc_server_handling_seconds' buckets.
var grpcHandlingBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Recorder holds the metric families and statistics.
type Recorder struct {
	Registry    *prometheus.Registry
	GRPCMetrics *GRPCServerMetrics

	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	queue        prometheus.Histogram
	inflight     prometheus.Gauge
	rejected     *prometheus.CounterVec
	registered   *prometheus.GaugeVec
	gpuFallbacks *prometheus.CounterVec

	Stats  *Stats
	Errors *ErrorWindow

	// execution caches the series of each (kernel, domain, backend, code):
	// WithLabelValues hashes four labels and takes a lock on every call.
	execution sync.Map // executionKey -> *executionSeries
}

type executionKey struct{ kernelID, domain, backend, code string }

type executionSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

func (r *Recorder) executionObservers(kernelID, domain, backend, code string) *executionSeries {
	key := executionKey{kernelID, domain, backend, code}
	if v, ok := r.execution.Load(key); ok {
		return v.(*executionSeries)
	}
	o := &executionSeries{requests: r.requests.WithLabelValues(kernelID, domain, backend, code),
		duration: r.duration.WithLabelValues(kernelID, backend)}
	v, _ := r.execution.LoadOrStore(key, o)
	return v.(*executionSeries)
}

// Options configure the recorder.
type Options struct {
	Version  string
	CUDA     bool
	QueueLen func() float64 // current queue depth
	// MemoryReserved is the memory admission has reserved for running
	// requests (GOKERNELS_MEMORY_BUDGET); nil = not exported.
	MemoryReserved func() float64
	Knownness      func(kernelID string) (domain string, ok bool)
}

// New creates the registry and all families.
func New(opts Options) *Recorder {
	reg := prometheus.NewRegistry()
	r := &Recorder{
		Registry:    reg,
		GRPCMetrics: NewGRPCServerMetrics(grpcHandlingBuckets),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gokernels_kernel_requests_total",
			Help: "Kernel executions by kernel, domain, backend and gRPC code.",
		}, []string{"kernel_id", "domain", "backend", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gokernels_kernel_duration_seconds",
			Help:    "Kernel compute time (excluding queueing), by kernel and backend.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 3, 16),
		}, []string{"kernel_id", "backend"}),
		queue: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gokernels_queue_duration_seconds",
			Help:    "Time requests waited for an execution slot.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 3, 16),
		}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gokernels_inflight_requests",
			Help: "Kernel executions running now.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gokernels_rejected_total",
			Help: "Requests refused before execution, by reason.",
		}, []string{"reason"}),
		registered: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gokernels_kernels_registered",
			Help: "Registered kernels by domain and mode.",
		}, []string{"domain", "mode"}),
		gpuFallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gokernels_gpu_fallbacks_total",
			Help: "Executions that fell back from the GPU to the CPU, by reason.",
		}, []string{"reason"}),
		Stats:  NewStats(1024),
		Errors: NewErrorWindow(60*time.Second, HealthMinExecutions, HealthFaultSeconds),
	}
	cuda := "false"
	if opts.CUDA {
		cuda = "true"
	}
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gokernels_build_info",
		Help: "Build information; the value is always 1.",
	}, []string{"version", "go_version", "cuda"})
	buildInfo.WithLabelValues(opts.Version, runtime.Version(), cuda).Set(1)
	queueLen := opts.QueueLen
	if queueLen == nil {
		queueLen = func() float64 { return 0 }
	}
	if opts.MemoryReserved != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gokernels_memory_reserved_bytes",
			Help: "Estimated working memory reserved by running requests, against GOKERNELS_MEMORY_BUDGET.",
		}, opts.MemoryReserved))
	}
	reg.MustRegister(
		r.GRPCMetrics, r.requests, r.duration, r.queue, r.inflight, r.rejected, r.registered, r.gpuFallbacks,
		buildInfo,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gokernels_queue_depth",
			Help: "Requests waiting for an execution slot.",
		}, queueLen),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for _, reason := range []string{RejectRateLimit, RejectQueueFull, RejectTooLarge, RejectUnauthenticated, RejectPermissionDenied, RejectDraining, RejectQuarantined} {
		r.rejected.WithLabelValues(reason)
	}
	return r
}

// SetRegistered publishes the registry's size by domain and mode.
func (r *Recorder) SetRegistered(counts map[[2]string]int) {
	r.registered.Reset()
	for k, n := range counts {
		r.registered.WithLabelValues(k[0], k[1]).Set(float64(n))
	}
}

// Reject counts a refused request.
func (r *Recorder) Reject(reason string) { r.rejected.WithLabelValues(reason).Inc() }

// GPUFallback counts a GPU-to-CPU fallback.
func (r *Recorder) GPUFallback(reason string) { r.gpuFallbacks.WithLabelValues(reason).Inc() }

// Inflight adjusts the running-executions gauge.
func (r *Recorder) Inflight(delta float64) { r.inflight.Add(delta) }

// Execution records one finished execution of a registered kernel.
// code is the gRPC code name; compute and queue are zero when the request
// never reached that phase.
func (r *Recorder) Execution(kernelID, domain, backend, code string, compute, queue time.Duration, serverFault bool) {
	if backend == "" {
		backend = "CPU"
	}
	o := r.executionObservers(kernelID, domain, backend, code)
	o.requests.Inc()
	if compute > 0 {
		o.duration.Observe(compute.Seconds())
	}
	r.Stats.Record(kernelID, code, compute, queue)
	r.Errors.Record(serverFault)
}

// Queued records time spent waiting for a slot.
func (r *Recorder) Queued(d time.Duration) { r.queue.Observe(d.Seconds()) }
