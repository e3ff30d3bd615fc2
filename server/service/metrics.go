package service

import (
	"bytes"
	"context"

	"github.com/prometheus/common/expfmt"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/server/observe"
)

// Metrics implements MetricsService.
type Metrics struct {
	gokernelsv1.UnimplementedMetricsServiceServer
	Recorder *observe.Recorder
}

// Metrics renders the Prometheus text exposition format.
func (m *Metrics) Metrics(context.Context, *gokernelsv1.MetricsRequest) (*httpbody.HttpBody, error) {
	families, err := m.Recorder.Registry.Gather()
	if err != nil {
		return nil, status.Error(codes.Internal, "gathering metrics failed")
	}
	var buf bytes.Buffer
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	enc := expfmt.NewEncoder(&buf, format)
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return nil, status.Error(codes.Internal, "encoding metrics failed")
		}
	}
	return &httpbody.HttpBody{ContentType: string(format), Data: buf.Bytes()}, nil
}

// GetStats returns per-kernel statistics.
func (m *Metrics) GetStats(_ context.Context, req *gokernelsv1.GetStatsRequest) (*gokernelsv1.GetStatsResponse, error) {
	resp := &gokernelsv1.GetStatsResponse{}
	for _, s := range m.Recorder.Stats.Snapshot(req.GetKernelId()) {
		ks := &gokernelsv1.KernelStats{
			KernelId: s.KernelID, SuccessCount: s.Success, FailureCount: s.Failures,
			ComputeSecondsTotal: s.ComputeTotal.Seconds(), QueueSecondsTotal: s.QueueTotal.Seconds(),
			P50Ms: float64(s.P50.Microseconds()) / 1000, P90Ms: float64(s.P90.Microseconds()) / 1000,
			P99Ms: float64(s.P99.Microseconds()) / 1000,
		}
		if !s.Last.IsZero() {
			ks.LastExecutionUnix = float64(s.Last.UnixNano()) / 1e9
		}
		resp.Kernels = append(resp.Kernels, ks)
	}
	return resp, nil
}
