package cuda

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gokernels/gokernels/server/observe"
)

// Bind connects the backend to the server's metrics: fallbacks go to
// gokernels_gpu_fallbacks_total, and the GPU families below are registered
// in the same Prometheus registry. server.New calls it once for the
// backend it is given.
//
//	gokernels_gpu_memory_used_bytes{device}      driver view, all processes
//	gokernels_gpu_memory_total_bytes{device}
//	gokernels_gpu_budget_bytes{device}           GOKERNELS_GPU_MEMORY_LIMIT or 90%
//	gokernels_gpu_budget_reserved_bytes{device}  held by running executions
//	gokernels_gpu_transfer_bytes_total{device,direction}
//	gokernels_gpu_transfer_seconds_total{device,direction}
//	gokernels_gpu_kernel_launches_total{device}
//	gokernels_gpu_execution_seconds{kernel_id,outcome}  GPU wall time incl. transfers
func (s *Selector) Bind(rec *observe.Recorder) error {
	s.SetRecorder(rec)
	if rec.Registry == nil {
		return nil
	}
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gokernels_gpu_execution_seconds",
		Help:    "GPU executions by kernel and outcome: wall time including host-device transfers.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 3, 14),
	}, []string{"kernel_id", "outcome"})
	if err := rec.Registry.Register(hist); err != nil {
		return err
	}
	if err := rec.Registry.Register(&collector{s: s}); err != nil {
		return err
	}
	s.mu.Lock()
	s.observer = histObserver{hist}
	s.mu.Unlock()
	return nil
}

type histObserver struct{ h *prometheus.HistogramVec }

func (o histObserver) gpuExecution(id string, d time.Duration, ok bool) {
	outcome := "ok"
	if !ok {
		outcome = "error"
	}
	o.h.WithLabelValues(id, outcome).Observe(d.Seconds())
}

var (
	descUsed     = prometheus.NewDesc("gokernels_gpu_memory_used_bytes", "Device memory in use (all processes).", []string{"device"}, nil)
	descTotal    = prometheus.NewDesc("gokernels_gpu_memory_total_bytes", "Device memory.", []string{"device"}, nil)
	descBudget   = prometheus.NewDesc("gokernels_gpu_budget_bytes", "Device-memory budget of the CUDA backend.", []string{"device"}, nil)
	descReserved = prometheus.NewDesc("gokernels_gpu_budget_reserved_bytes", "Budget held by running GPU executions.", []string{"device"}, nil)
	descXferB    = prometheus.NewDesc("gokernels_gpu_transfer_bytes_total", "Bytes copied between host and device.", []string{"device", "direction"}, nil)
	descXferS    = prometheus.NewDesc("gokernels_gpu_transfer_seconds_total", "Time spent in host-device copies.", []string{"device", "direction"}, nil)
	descLaunches = prometheus.NewDesc("gokernels_gpu_kernel_launches_total", "Device kernel launches.", []string{"device"}, nil)
)

// collector reads the devices at scrape time.
type collector struct{ s *Selector }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUsed, descTotal, descBudget, descReserved, descXferB, descXferS, descLaunches} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for _, sl := range c.s.devices {
		dev := strconv.Itoa(sl.info.Ordinal)
		if free, total, err := sl.dev.MemInfo(); err == nil {
			ch <- prometheus.MustNewConstMetric(descUsed, prometheus.GaugeValue, float64(total-free), dev)
			ch <- prometheus.MustNewConstMetric(descTotal, prometheus.GaugeValue, float64(total), dev)
		}
		ch <- prometheus.MustNewConstMetric(descBudget, prometheus.GaugeValue, float64(sl.budget.Limit()), dev)
		ch <- prometheus.MustNewConstMetric(descReserved, prometheus.GaugeValue, float64(sl.budget.Reserved()), dev)
		st := sl.dev.Stats()
		ch <- prometheus.MustNewConstMetric(descXferB, prometheus.CounterValue, float64(st.HtoDBytes), dev, "htod")
		ch <- prometheus.MustNewConstMetric(descXferB, prometheus.CounterValue, float64(st.DtoHBytes), dev, "dtoh")
		ch <- prometheus.MustNewConstMetric(descXferS, prometheus.CounterValue, st.HtoDSeconds, dev, "htod")
		ch <- prometheus.MustNewConstMetric(descXferS, prometheus.CounterValue, st.DtoHSeconds, dev, "dtoh")
		ch <- prometheus.MustNewConstMetric(descLaunches, prometheus.CounterValue, float64(st.Launches), dev)
	}
}
