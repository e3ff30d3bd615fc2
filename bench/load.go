package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/bojand/ghz/runner"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
)

// sample is the outcome of one load run.
type sample struct {
	N         int             // requests sent
	Errors    int             // non-OK answers
	Wall      time.Duration   // first request sent to last answer
	Latencies []time.Duration // of successful requests
	FirstErr  string
	CPU       time.Duration // server process CPU time during the run
}

func (s *sample) add(o *sample) {
	s.N += o.N
	s.Errors += o.Errors
	s.Wall += o.Wall
	s.CPU += o.CPU
	s.Latencies = append(s.Latencies, o.Latencies...)
	if s.FirstErr == "" {
		s.FirstErr = o.FirstErr
	}
}

// cpuPerReq is the server's CPU time per request.
func (s *sample) cpuPerReq() time.Duration {
	if s.N == 0 {
		return 0
	}
	return s.CPU / time.Duration(s.N)
}

func (s *sample) rps() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return float64(s.N-s.Errors) / s.Wall.Seconds()
}

// pct is the nearest-rank percentile of the latencies.
func (s *sample) pct(q float64) time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	l := slices.Clone(s.Latencies)
	slices.Sort(l)
	i := int(q*float64(len(l))+0.5) - 1
	return l[max(0, min(i, len(l)-1))]
}

// protoset is the FileDescriptorSet of gokernels.v1.KernelService and its
// imports, dependencies first, for ghz.
func protoset() ([]byte, error) {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName("gokernels.v1.KernelService")
	if err != nil {
		return nil, err
	}
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		for i := 0; i < fd.Imports().Len(); i++ {
			add(fd.Imports().Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
	}
	add(d.ParentFile())
	return proto.Marshal(set)
}

// ghzRun drives Execute with ghz: concurrency c over one connection, n
// requests (or, with rps > 0, at that rate for dur).
func ghzRun(addr string, set, req []byte, apiKey string, c, n, rps int, dur time.Duration) (*sample, error) {
	opts := []runner.Option{
		runner.WithProtosetBinary(set),
		runner.WithBinaryData(req),
		runner.WithInsecure(true),
		runner.WithConcurrency(uint(c)),
		runner.WithConnections(1),
		runner.WithMetadata(map[string]string{"x-api-key": apiKey}),
		runner.WithTimeout(60 * time.Second),
		runner.WithDisableTemplateData(true),
		runner.WithDisableTemplateFuncs(true),
	}
	if rps > 0 {
		opts = append(opts, runner.WithRPS(uint(rps)))
	}
	if dur > 0 {
		// "wait": requests in flight when the time is up finish normally
		// instead of being cancelled (and counted as errors).
		opts = append(opts, runner.WithRunDuration(dur), runner.WithDurationStopAction("wait"))
	} else {
		opts = append(opts, runner.WithTotalRequests(uint(n)))
	}
	rep, err := runner.Run("gokernels.v1.KernelService.Execute", addr, opts...)
	if err != nil {
		return nil, err
	}
	s := &sample{N: int(rep.Count), Wall: rep.Total}
	for _, d := range rep.Details {
		if d.Status != "OK" {
			s.Errors++
			if s.FirstErr == "" {
				s.FirstErr = d.Status + ": " + d.Error
			}
			continue
		}
		s.Latencies = append(s.Latencies, d.Latency)
	}
	return s, nil
}

// countPacer sends n requests as fast as the workers allow (closed loop).
type countPacer struct{ n uint64 }

func (p countPacer) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	return 0, hits >= p.n
}

func (p countPacer) Rate(time.Duration) float64 { return 0 }

// vegetaRun drives POST /execute with vegeta: c workers, c keep-alive
// connections, n requests (or for dur).
func vegetaRun(addr string, body []byte, apiKey string, c, n int, dur time.Duration) (*sample, error) {
	if dur > 0 {
		n = 1 << 40
	}
	hdr := http.Header{"Content-Type": {"application/json"}, "X-Api-Key": {apiKey}}
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodPost, URL: "http://" + addr + "/execute", Body: body, Header: hdr})
	// Our own client (vegeta's defaults otherwise) so that its keep-alive
	// connections are closed afterwards: idle connections would hold server
	// goroutines and memory that the soak's baseline must not include.
	tp := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}
	defer tp.CloseIdleConnections()
	atk := vegeta.NewAttacker(vegeta.Workers(uint64(c)), vegeta.MaxWorkers(uint64(c)),
		vegeta.Client(&http.Client{Transport: tp, Timeout: 60 * time.Second}))
	s := &sample{}
	start := time.Now()
	for r := range atk.Attack(tr, countPacer{uint64(n)}, dur, "") {
		s.N++
		if r.Code != 200 || r.Error != "" {
			s.Errors++
			if s.FirstErr == "" {
				s.FirstErr = strconv.Itoa(int(r.Code)) + " " + r.Error + " " + string(bytes.TrimSpace(r.Body))
			}
			continue
		}
		s.Latencies = append(s.Latencies, r.Latency)
	}
	s.Wall = time.Since(start)
	return s, nil
}

// probe is one request of the concurrency-1 overhead run.
type probe struct {
	Client    time.Duration // round trip seen by the client
	Compute   time.Duration // metadata.duration_us
	RequestID string
}

// probeRun sends n sequential Execute calls on one connection and records
// each call's round trip and the compute time the server reports.
func probeRun(addr string, req *gokernelsv1.ExecuteRequest, apiKey string, n int) ([]probe, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	cl := gokernelsv1.NewKernelServiceClient(conn)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-api-key", apiKey)
	out := make([]probe, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		resp, err := cl.Execute(ctx, req)
		d := time.Since(start)
		if err != nil {
			return nil, fmt.Errorf("probe: %v", err)
		}
		out = append(out, probe{Client: d, Compute: time.Duration(resp.GetMetadata().GetDurationUs()) * time.Microsecond, RequestID: resp.GetRequestId()})
	}
	return out, nil
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	return d[(len(d)-1)/2]
}

func quantileD(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	i := int(q*float64(len(d))+0.5) - 1
	return d[max(0, min(i, len(d)-1))]
}

// grpcScores runs the workload once over gRPC and returns output.scores.
func grpcScores(addr string, w *workload, apiKey string) ([]float64, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-api-key", apiKey)
	resp, err := gokernelsv1.NewKernelServiceClient(conn).Execute(ctx, w.request())
	if err != nil {
		return nil, err
	}
	var out []float64
	for _, v := range resp.GetOutput().GetFields()["scores"].GetListValue().GetValues() {
		out = append(out, v.GetNumberValue())
	}
	return out, nil
}
