package observe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type fakeServices map[string]grpc.ServiceInfo

func (f fakeServices) GetServiceInfo() map[string]grpc.ServiceInfo { return f }

type fakeStream struct {
	grpc.ServerStream
	recv int
}

func (f *fakeStream) Context() context.Context { return context.Background() }
func (f *fakeStream) SendMsg(any) error        { return nil }
func (f *fakeStream) RecvMsg(any) error {
	if f.recv == 0 {
		return io.EOF
	}
	f.recv--
	return nil
}

// TestGRPCServerMetricsSameAsMiddleware drives GRPCServerMetrics and
// go-grpc-middleware's ServerMetrics (what the server used before) through
// the same calls and compares every series they expose: names, help,
// labels, counter values and histogram counts (the observed durations
// themselves differ).
func TestGRPCServerMetricsSameAsMiddleware(t *testing.T) {
	mw := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(grpcprom.WithHistogramBuckets(grpcHandlingBuckets)))
	ours := NewGRPCServerMetrics(grpcHandlingBuckets)
	services := fakeServices{
		"pkg.v1.Kernels": {Methods: []grpc.MethodInfo{{Name: "Execute"}, {Name: "Watch", IsServerStream: true}}},
		"pkg.v1.Chat":    {Methods: []grpc.MethodInfo{{Name: "Talk", IsClientStream: true, IsServerStream: true}, {Name: "Upload", IsClientStream: true}}},
	}
	type unaryCase struct {
		method string
		err    error
	}
	unary := []unaryCase{
		{"/pkg.v1.Kernels/Execute", nil},
		{"/pkg.v1.Kernels/Execute", nil},
		{"/pkg.v1.Kernels/Execute", status.Error(codes.InvalidArgument, "bad")},
		{"/pkg.v1.Kernels/Execute", context.DeadlineExceeded},
		{"/pkg.v1.Kernels/Execute", errors.New("plain")},
		{"/pkg.v1.Other/Call", status.Error(codes.Code(99), "odd code")},
		{"malformed", nil},
	}
	streams := []struct {
		info *grpc.StreamServerInfo
		recv int
		err  error
	}{
		{&grpc.StreamServerInfo{FullMethod: "/pkg.v1.Kernels/Watch", IsServerStream: true}, 1, nil},
		{&grpc.StreamServerInfo{FullMethod: "/pkg.v1.Chat/Talk", IsClientStream: true, IsServerStream: true}, 3, status.Error(codes.Canceled, "gone")},
		{&grpc.StreamServerInfo{FullMethod: "/pkg.v1.Chat/New"}, 0, nil},
	}
	expose := func(c prometheus.Collector, init func(), ui grpc.UnaryServerInterceptor, si grpc.StreamServerInterceptor) string {
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		init()
		for _, u := range unary {
			_, _ = ui(context.Background(), "req", &grpc.UnaryServerInfo{FullMethod: u.method}, func(context.Context, any) (any, error) {
				return "resp", u.err
			})
		}
		for _, s := range streams {
			_ = si(nil, &fakeStream{recv: s.recv}, s.info, func(_ any, ss grpc.ServerStream) error {
				for ss.RecvMsg(nil) == nil {
					_ = ss.SendMsg("out")
				}
				_ = ss.SendMsg("last")
				return s.err
			})
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, mf := range mfs {
			lines = append(lines, fmt.Sprintf("# %s %s %s", mf.GetName(), mf.GetType(), mf.GetHelp()))
			for _, m := range mf.GetMetric() {
				var ls []string
				for _, lp := range m.GetLabel() {
					ls = append(ls, lp.GetName()+"="+lp.GetValue())
				}
				v := m.GetCounter().GetValue()
				if h := m.GetHistogram(); h != nil {
					v = float64(h.GetSampleCount())
					lines = append(lines, fmt.Sprintf("%s{%s} buckets=%v", mf.GetName(), strings.Join(ls, ","), len(h.GetBucket())))
				}
				lines = append(lines, fmt.Sprintf("%s{%s} %v", mf.GetName(), strings.Join(ls, ","), v))
			}
		}
		sort.Strings(lines)
		return strings.Join(lines, "\n")
	}
	want := expose(mw, func() { mw.InitializeMetrics(services) }, mw.UnaryServerInterceptor(), mw.StreamServerInterceptor())
	got := expose(ours, func() { ours.InitializeMetrics(services) }, ours.UnaryServerInterceptor(), ours.StreamServerInterceptor())
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("line %d:\n got  %s\n want %s", i, g, w)
			}
		}
	}
	if !strings.Contains(want, `grpc_server_handled_total{grpc_code=InvalidArgument,grpc_method=Execute,grpc_service=pkg.v1.Kernels,grpc_type=unary} 1`) {
		t.Fatalf("the comparison saw no calls:\n%s", want)
	}
}

// BenchmarkGRPCServerMetricsUnary: the metrics stage's cost per unary call,
// ours against the middleware's, in one run.
func BenchmarkGRPCServerMetricsUnary(b *testing.B) {
	mw := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(grpcprom.WithHistogramBuckets(grpcHandlingBuckets)))
	for _, c := range []struct {
		name string
		ic   grpc.UnaryServerInterceptor
	}{{"middleware", mw.UnaryServerInterceptor()}, {"cached", NewGRPCServerMetrics(grpcHandlingBuckets).UnaryServerInterceptor()}} {
		b.Run(c.name, func(b *testing.B) {
			info := &grpc.UnaryServerInfo{FullMethod: "/gokernels.v1.KernelService/Execute"}
			h := func(context.Context, any) (any, error) { return "resp", nil }
			b.ReportAllocs()
			for b.Loop() {
				_, _ = c.ic(context.Background(), "req", info, h)
			}
		})
	}
}
