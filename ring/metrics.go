package ring

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
)

// metrics are labelled by kernel id only, never by ring: ring ids are
// unbounded. Per-ring detail is GetRing's job.
type metrics struct {
	rt          *Runtime
	messages    *prometheus.CounterVec
	apply       *prometheus.HistogramVec
	fsyncs      *prometheus.HistogramVec
	rejects     *prometheus.CounterVec
	dups        *prometheus.CounterVec
	restarts    *prometheus.CounterVec
	quarantined *prometheus.CounterVec
	passivation *prometheus.CounterVec
	activations *prometheus.HistogramVec
	snapshots   *prometheus.HistogramVec
	replays     *prometheus.CounterVec
	states      *prometheus.Desc
	depth       *prometheus.Desc
}

func newMetrics(rt *Runtime, reg prometheus.Registerer) *metrics {
	lat := []float64{1e-6, 5e-6, 2e-5, 1e-4, 5e-4, 2e-3, 1e-2, 5e-2, 0.25, 1}
	m := &metrics{rt: rt,
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gokernels_ring_messages_total",
			Help: "Messages applied by rings, by kernel and outcome (gRPC code)."}, []string{"kernel", "code"}),
		apply: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gokernels_ring_apply_seconds",
			Help: "Time to apply one message.", Buckets: lat}, []string{"kernel"}),
		fsyncs: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gokernels_ring_journal_fsync_seconds",
			Help: "Journal group-commit write+fsync latency.", Buckets: lat}, []string{"kernel"}),
		rejects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gokernels_ring_rejected_total",
			Help: "Messages or rings refused, by reason."}, []string{"kernel", "reason"}),
		dups: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gokernels_ring_duplicates_total",
			Help: "Retries answered from the anti-replay window."}, []string{"kernel"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gokernels_ring_restarts_total",
			Help: "Ring state rebuilds after a handler panic."}, []string{"kernel"}),
		quarantined: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gokernels_ring_quarantined_total",
			Help: "Messages quarantined after a handler panic."}, []string{"kernel"}),
		passivation: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gokernels_ring_passivations_total",
			Help: "Rings unloaded (or evicted, NONE) after being idle."}, []string{"kernel"}),
		activations: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gokernels_ring_activation_seconds",
			Help: "Time to load a passivated ring (snapshot + journal replay).", Buckets: lat}, []string{"kernel"}),
		snapshots: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gokernels_ring_snapshot_seconds",
			Help: "Time to write a snapshot.", Buckets: lat}, []string{"kernel"}),
		replays: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gokernels_ring_replayed_messages_total",
			Help: "Journal records re-applied during recovery."}, []string{"kernel"}),
		states: prometheus.NewDesc("gokernels_rings", "Rings by kernel and state.", []string{"kernel", "state"}, nil),
		depth:  prometheus.NewDesc("gokernels_ring_mailbox_depth", "Messages waiting in ring mailboxes, summed per kernel.", []string{"kernel"}, nil),
	}
	if reg != nil {
		reg.MustRegister(m.messages, m.apply, m.fsyncs, m.rejects, m.dups, m.restarts, m.quarantined,
			m.passivation, m.activations, m.snapshots, m.replays, m)
	}
	return m
}

// Describe and Collect report the gauges at scrape time.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) { ch <- m.states; ch <- m.depth }

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	type key struct{ kernel, state string }
	states := map[key]int{}
	depth := map[string]int{}
	for _, in := range m.rt.List("") {
		states[key{in.KernelID, in.State.String()}]++
		depth[in.KernelID] += in.MailboxDepth
	}
	for k, n := range states {
		ch <- prometheus.MustNewConstMetric(m.states, prometheus.GaugeValue, float64(n), k.kernel, k.state)
	}
	for k, n := range depth {
		ch <- prometheus.MustNewConstMetric(m.depth, prometheus.GaugeValue, float64(n), k)
	}
}

// kernelMetrics are one kernel's hot-path series, looked up once per ring.
type kernelMetrics struct {
	ok    prometheus.Counter
	apply prometheus.Observer
	fsync prometheus.Observer
}

func (m *metrics) forKernel(kernel string) kernelMetrics {
	return kernelMetrics{ok: m.messages.WithLabelValues(kernel, codes.OK.String()),
		apply: m.apply.WithLabelValues(kernel), fsync: m.fsyncs.WithLabelValues(kernel)}
}

func (m *metrics) applied(km kernelMetrics, kernel string, err *Error, d time.Duration) {
	if err == nil {
		km.ok.Inc()
	} else {
		m.messages.WithLabelValues(kernel, err.Code.String()).Inc()
	}
	km.apply.Observe(d.Seconds())
}

func (m *metrics) rejected(kernel, reason string) { m.rejects.WithLabelValues(kernel, reason).Inc() }
func (m *metrics) duplicate(kernel string)        { m.dups.WithLabelValues(kernel).Inc() }
func (m *metrics) restart(kernel string)          { m.restarts.WithLabelValues(kernel).Inc() }
func (m *metrics) quarantine(kernel string)       { m.quarantined.WithLabelValues(kernel).Inc() }
func (m *metrics) passivated(kernel string)       { m.passivation.WithLabelValues(kernel).Inc() }
func (m *metrics) activation(kernel string, d time.Duration) {
	m.activations.WithLabelValues(kernel).Observe(d.Seconds())
}
func (m *metrics) snapshot(kernel string, d time.Duration, _ int) {
	m.snapshots.WithLabelValues(kernel).Observe(d.Seconds())
}
func (m *metrics) replayed(kernel string, n int) { m.replays.WithLabelValues(kernel).Add(float64(n)) }
