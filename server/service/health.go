package service

import (
	"context"
	"fmt"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/pool"
	"github.com/gokernels/gokernels/server/observe"
)

// Health statuses, ordered from best to worst.
const (
	Healthy   = "healthy"
	Degraded  = "degraded"
	Unhealthy = "unhealthy"
)

func rank(s string) int {
	switch s {
	case Healthy:
		return 0
	case Degraded:
		return 1
	}
	return 2
}

// GPUHealth reports the GPU component; the CPU-only build says "absent".
type GPUHealth interface {
	Health() *gokernelsv1.ComponentHealth
}

// NoGPUHealth is the GPU component of a server without a CUDA backend.
type NoGPUHealth struct{}

// Health implements GPUHealth.
func (NoGPUHealth) Health() *gokernelsv1.ComponentHealth {
	return &gokernelsv1.ComponentHealth{Status: Healthy, Message: "absent: built without the CUDA backend",
		Details: map[string]string{"present": "false"}}
}

// Health implements HealthService.
type Health struct {
	gokernelsv1.UnimplementedHealthServiceServer
	Registry *registry.Registry
	Pool     *pool.Pool
	Metrics  *observe.Recorder
	State    *State
	GPU      GPUHealth
	// Cluster is the cluster-mode node (nil on a single node): readiness
	// fails while it cannot reach NATS.
	Cluster ClusterHealth
}

// ClusterHealth reports whether the replica can reach the cluster's NATS.
type ClusterHealth interface {
	Ready() error
}

// Check implements HealthService: overall = worst component. Over REST an
// unhealthy answer is a 503 (the gateway reads the status from the answer).
func (h *Health) Check(_ context.Context, _ *gokernelsv1.CheckRequest) (*gokernelsv1.CheckResponse, error) {
	resp := &gokernelsv1.CheckResponse{
		Version:       observe.Version,
		UptimeSeconds: h.State.Uptime().Seconds(),
		Components:    map[string]*gokernelsv1.ComponentHealth{},
	}
	n := h.Registry.Len()
	reg := &gokernelsv1.ComponentHealth{Status: Healthy, KernelCount: proto.Int32(int32(n))}
	if n == 0 {
		reg.Status, reg.Message = Unhealthy, "no kernels registered"
	}
	resp.Components["registry"] = reg

	rate, total := h.Metrics.Errors.Rate()
	exe := &gokernelsv1.ComponentHealth{Status: Healthy, ErrorRate: proto.Float64(rate),
		Details: map[string]string{"window_executions": strconv.Itoa(total)}}
	switch {
	case rate >= 0.5:
		exe.Status, exe.Message = Unhealthy, fmt.Sprintf("%.0f%% of recent executions failed server-side", rate*100)
	case rate >= 0.1:
		exe.Status, exe.Message = Degraded, fmt.Sprintf("%.0f%% of recent executions failed server-side", rate*100)
	}
	resp.Components["execution"] = exe

	st := h.Pool.Stats()
	waiting, capQ := st.Waiting, st.MailboxCapacity
	q := &gokernelsv1.ComponentHealth{Status: Healthy, Details: map[string]string{
		"running": strconv.Itoa(st.Running), "workers": strconv.Itoa(st.Workers),
		"waiting": strconv.Itoa(waiting), "queue_capacity": strconv.Itoa(capQ),
	}}
	if capQ > 0 && float64(waiting) >= 0.9*float64(capQ) {
		q.Status, q.Message = Degraded, "execution queue is nearly full"
	}
	resp.Components["queue"] = q

	gpu := h.GPU
	if gpu == nil {
		gpu = NoGPUHealth{}
	}
	resp.Components["gpu"] = gpu.Health()
	if h.Cluster != nil {
		c := &gokernelsv1.ComponentHealth{Status: Healthy}
		if err := h.Cluster.Ready(); err != nil {
			c.Status, c.Message = Unhealthy, err.Error()
		}
		resp.Components["cluster"] = c
	}

	worst := Healthy
	for _, c := range resp.Components {
		if rank(c.Status) > rank(worst) {
			worst = c.Status
		}
	}
	resp.Status = worst
	return resp, nil
}

// Live implements HealthService: the process answers, so it is live.
func (h *Health) Live(context.Context, *gokernelsv1.LiveRequest) (*gokernelsv1.LiveResponse, error) {
	return &gokernelsv1.LiveResponse{Status: "alive"}, nil
}

// Ready implements HealthService.
func (h *Health) Ready(context.Context, *gokernelsv1.ReadyRequest) (*gokernelsv1.ReadyResponse, error) {
	if p := h.State.Phase(); p != Ready {
		return nil, status.Errorf(codes.Unavailable, "not ready: %s", p)
	}
	if h.Cluster != nil {
		if err := h.Cluster.Ready(); err != nil {
			return nil, status.Errorf(codes.Unavailable, "not ready: ring cluster: %v", err)
		}
	}
	return &gokernelsv1.ReadyResponse{Status: "ready"}, nil
}
