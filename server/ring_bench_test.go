package server_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/anypb"

	testingv1 "github.com/gokernels/gokernels/gen/gokernels/testing/v1"
	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/ring"
	"github.com/gokernels/gokernels/ring/ringtest"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/servertest"
)

// The ring benchmarks (make bench-ring) report, for one ring of the test
// kernel with a one-record data message: messages applied per second and
// the p50/p99 latency from send to reply, in process (NONE and JOURNAL) and
// over a gRPC Session on loopback (JOURNAL). A pipeline of `window`
// messages is kept in flight, as a streaming client does.
const benchWindow = 64

func benchMsg() *testingv1.EchoInput {
	return &testingv1.EchoInput{Pairs: []*testingv1.Pair{{A: 1, B: 1}}}
}

func report(b *testing.B, elapsed time.Duration, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50_us")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99_us")
	b.ReportMetric(0, "ns/op")
}

func benchInProcess(b *testing.B, d ring.Durability) {
	reg := ringRegistry(&testing.T{})
	rt, err := ring.New(reg, ring.Options{Dir: b.TempDir(), IdleTimeout: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Shutdown(context.Background())
	r, err := rt.Create(context.Background(), "default", "bench", ringtest.ID, ring.Config{Durability: d}, nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := benchMsg()
	lat := make([]time.Duration, b.N)
	sem := make(chan struct{}, benchWindow)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		sem <- struct{}{}
		wg.Add(1)
		t0 := time.Now()
		i := i
		for {
			err := r.Submit(ring.Message{Kind: ring.KindData, ClientID: "bench", ClientSeq: uint64(i + 1), TS: 1, Payload: msg},
				func(rep ring.Reply) {
					lat[i] = time.Since(t0)
					<-sem
					wg.Done()
				})
			if err == nil {
				break
			}
			time.Sleep(10 * time.Microsecond)
		}
	}
	wg.Wait()
	report(b, time.Since(start), lat)
}

func BenchmarkRingInProcessNone(b *testing.B)    { benchInProcess(b, ring.None) }
func BenchmarkRingInProcessJournal(b *testing.B) { benchInProcess(b, ring.Journal) }

func BenchmarkRingSessionJournal(b *testing.B) {
	t := &testing.T{}
	cfg := servertest.Config(t, map[string]string{"GOKERNELS_DATA_DIR": b.TempDir()})
	srv, err := server.New(cfg, ringRegistry(t), server.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	c := ringClient(t, srv.GRPCAddr())
	ctx := context.Background()
	r, err := c.CreateRing(ctx, &gokernelsv1.CreateRingRequest{KernelId: ringtest.ID, RingId: "bench",
		Durability: gokernelsv1.Durability_DURABILITY_JOURNAL})
	if err != nil {
		b.Fatal(err)
	}
	ss, err := c.Session(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Open{Open: &gokernelsv1.SessionOpen{Name: r.GetName(), ClientId: "bench"}}})
	if _, err := ss.Recv(); err != nil {
		b.Fatal(err)
	}
	payload, _ := anypb.New(benchMsg())
	lat := make([]time.Duration, b.N)
	sent := make([]time.Time, b.N)
	sem := make(chan struct{}, benchWindow)
	done := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	go func() {
		for n := 0; n < b.N; {
			m, err := ss.Recv()
			if err != nil {
				done <- err
				return
			}
			if rep := m.GetReply(); rep != nil {
				if rep.GetStatus().GetCode() != 0 {
					done <- replyErr(rep)
					return
				}
				i := rep.GetClientSeq() - 1
				lat[i] = time.Since(sent[i])
				<-sem
				n++
			}
		}
		done <- nil
	}()
	for i := 0; i < b.N; i++ {
		sem <- struct{}{}
		sent[i] = time.Now()
		if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Request{Request: &gokernelsv1.RingRequest{
			ClientSeq: uint64(i + 1), Ts: 1, Msg: &gokernelsv1.RingRequest_TypedData{TypedData: payload}}}}); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	report(b, time.Since(start), lat)
	ss.CloseSend()
}

type statusErr struct{ *gokernelsv1.RingReply }

func (s statusErr) Error() string { return s.GetStatus().GetMessage() }

func replyErr(r *gokernelsv1.RingReply) error { return statusErr{r} }
