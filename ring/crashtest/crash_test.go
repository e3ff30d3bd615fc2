// Package crashtest kills the real gokernels binary (SIGKILL) while a
// JOURNAL ring is receiving a stream, restarts it on the same data
// directory and checks that every acknowledged message is in the state and
// that retries with the same client_seq are not applied twice.
package crashtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	temporalv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/temporal/v1"
	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gokernels-crash")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "gokernels")
	build := exec.Command("go", "build", "-o", binary, "./cmd/gokernels")
	build.Dir = filepath.Join("..", "..")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building gokernels:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type proc struct {
	cmd  *exec.Cmd
	conn *grpc.ClientConn
}

func start(t *testing.T, dataDir string) *proc {
	t.Helper()
	grpcAddr := freePort(t)
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), "GOKERNELS_GRPC_ADDR="+grpcAddr, "GOKERNELS_HTTP_ADDR="+freePort(t),
		"GOKERNELS_DATA_DIR="+dataDir, "GOKERNELS_LOG_LEVEL=warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, conn: conn}
	t.Cleanup(func() { conn.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := gokernelsv1.NewRingServiceClient(conn).ListRings(ctx, &gokernelsv1.ListRingsRequest{})
		cancel()
		if err == nil {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// values is a deterministic series with a few spikes.
func values(n int) []float64 {
	out := make([]float64, n)
	x := uint64(42)
	for i := range out {
		x = x*6364136223846793005 + 1442695040888963407
		out[i] = float64(x>>40)/float64(1<<24) - 0.5
		if i%499 == 7 {
			out[i] += 9
		}
	}
	return out
}

func batch(t *testing.T, p *proc, vals []float64) *temporalv1.AnomalyDetectionOutput {
	t.Helper()
	in, _ := anypb.New(&temporalv1.AnomalyDetectionInput{Values: vals})
	resp, err := gokernelsv1.NewKernelServiceClient(p.conn).Execute(context.Background(), &gokernelsv1.ExecuteRequest{
		KernelId: "temporal/anomaly-detection", Payload: &gokernelsv1.ExecuteRequest_TypedInput{TypedInput: in}})
	if err != nil {
		t.Fatal(err)
	}
	out := &temporalv1.AnomalyDetectionOutput{}
	if err := resp.GetTypedOutput().UnmarshalTo(out); err != nil {
		t.Fatal(err)
	}
	return out
}

func snapshot(t *testing.T, p *proc, name string) *temporalv1.AnomalyDetectionOutput {
	t.Helper()
	rep, err := gokernelsv1.NewRingServiceClient(p.conn).Send(context.Background(), &gokernelsv1.SendRequest{Name: name,
		Request: &gokernelsv1.RingRequest{TypedOutput: true, Msg: &gokernelsv1.RingRequest_Snapshot{Snapshot: &gokernelsv1.SnapshotControl{}}}})
	if err != nil {
		t.Fatal(err)
	}
	out := &temporalv1.AnomalyDetectionOutput{}
	if err := rep.GetTypedOutput().UnmarshalTo(out); err != nil {
		t.Fatal(err)
	}
	return out
}

// stream sends vals[from-1:] with client_seq from.., and returns the replies
// by client_seq; kill (optional) is called once `killAfter` replies came.
func stream(t *testing.T, p *proc, name string, vals []float64, from int, killAfter int, kill func()) map[uint64]*gokernelsv1.RingReply {
	t.Helper()
	data := make([]*anypb.Any, len(vals))
	for i, v := range vals {
		data[i], _ = anypb.New(&temporalv1.AnomalyDetectionInput{Values: []float64{v}})
	}
	return streamAny(t, p, name, data, from, killAfter, kill)
}

// streamAny sends data[from-1:] as typed data messages with client_seq
// from.. (ts = client_seq) over one Session, within its credits, and
// returns the replies by client_seq; kill (optional) is called once
// killAfter replies came.
func streamAny(t *testing.T, p *proc, name string, data []*anypb.Any, from int, killAfter int, kill func()) map[uint64]*gokernelsv1.RingReply {
	t.Helper()
	ss, err := gokernelsv1.NewRingServiceClient(p.conn).Session(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Open{Open: &gokernelsv1.SessionOpen{Name: name, ClientId: "feeder"}}})
	opened, err := ss.Recv()
	if err != nil {
		t.Fatal(err)
	}
	credits := make(chan struct{}, opened.GetOpened().GetCredits())
	replies := map[uint64]*gokernelsv1.RingReply{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			m, err := ss.Recv()
			if err != nil {
				if err != io.EOF {
					t.Logf("session broke after %d replies: %v", len(replies), err)
				}
				return
			}
			if e := m.GetEnd(); e != nil && e.GetReason() != gokernelsv1.SessionEnd_REASON_CLIENT_CLOSED {
				// A client within its credits that reads its replies is
				// never ended early (SLOW_CONSUMER was, before sessions
				// stopped counting events against a shared buffer).
				t.Errorf("session ended after %d replies: %v", len(replies), e)
			}
			if r := m.GetReply(); r != nil {
				replies[r.GetClientSeq()] = r
				<-credits
				if kill != nil && len(replies) == killAfter {
					kill()
					return
				}
			}
		}
	}()
	for i := from; i <= len(data); i++ {
		select {
		case credits <- struct{}{}:
		case <-done:
			return replies
		}
		if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Request{Request: &gokernelsv1.RingRequest{
			ClientSeq: uint64(i), Ts: int64(i), Msg: &gokernelsv1.RingRequest_TypedData{TypedData: data[i-1]}}}}); err != nil {
			break
		}
	}
	ss.CloseSend()
	<-done
	return replies
}

func TestKillMidStream(t *testing.T) {
	const n, killAfter = 3000, 1200
	dataDir := t.TempDir()
	vals := values(n)
	p := start(t, dataDir)
	rc := gokernelsv1.NewRingServiceClient(p.conn)
	r, err := rc.CreateRing(context.Background(), &gokernelsv1.CreateRingRequest{KernelId: "temporal/anomaly-detection",
		RingId: "crash", Durability: gokernelsv1.Durability_DURABILITY_JOURNAL, SnapshotEvery: 500})
	if err != nil {
		t.Fatal(err)
	}
	replies := stream(t, p, r.GetName(), vals, 1, killAfter, func() { _ = p.cmd.Process.Kill() })
	_ = p.cmd.Wait()
	acked := 0
	for cs := uint64(1); replies[cs] != nil; cs++ {
		if replies[cs].GetStatus().GetCode() != 0 {
			t.Fatalf("reply %d: %v", cs, replies[cs].GetStatus())
		}
		acked = int(cs)
	}
	if acked < killAfter {
		t.Fatalf("acknowledged %d before the kill, want %d", acked, killAfter)
	}

	p2 := start(t, dataDir)
	// GetRing loads the passivated ring: newest snapshot + journal replay.
	info, err := gokernelsv1.NewRingServiceClient(p2.conn).GetRing(context.Background(), &gokernelsv1.GetRingRequest{Name: r.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	applied := int(info.GetSeq()) // data messages were journaled in client_seq order, no configure
	if applied < acked {
		t.Fatalf("after restart the ring has %d messages; %d were acknowledged", applied, acked)
	}
	if got, want := snapshot(t, p2, r.GetName()), batch(t, p2, vals[:applied]); !proto.Equal(got, want) {
		t.Fatalf("state after restart differs from the Batch twin over the first %d messages", applied)
	}
	// The client retries everything after the last reply it saw, and a few
	// acknowledged ones: journaled messages answer as duplicates.
	retry := stream(t, p2, r.GetName(), vals, acked-100, 0, nil)
	dups := 0
	for cs := acked - 100; cs <= n; cs++ {
		rep := retry[uint64(cs)]
		// A duplicate whose reply left the cache (the last 256 per client)
		// answers ALREADY_EXISTS; it is still not applied again.
		if rep == nil || (rep.GetStatus().GetCode() != 0 && !(rep.GetDuplicate() && rep.GetStatus().GetCode() == 6)) {
			t.Fatalf("retry %d: %v", cs, rep)
		}
		if rep.GetDuplicate() != (cs <= applied) {
			t.Fatalf("retry %d: duplicate=%v, applied before the kill: %v", cs, rep.GetDuplicate(), cs <= applied)
		}
		if rep.GetDuplicate() {
			dups++
		}
	}
	info, _ = gokernelsv1.NewRingServiceClient(p2.conn).GetRing(context.Background(), &gokernelsv1.GetRingRequest{Name: r.GetName()})
	if int(info.GetSeq()) != n {
		t.Fatalf("ring seq %d after the retries, want %d: something was applied twice or lost", info.GetSeq(), n)
	}
	if got, want := snapshot(t, p2, r.GetName()), batch(t, p2, vals); !proto.Equal(got, want) {
		t.Fatal("final state differs from the Batch twin over the whole stream")
	}
	t.Logf("killed after %d acknowledged replies; %d messages were journaled (all acknowledged ones present); "+
		"%d retries answered as duplicates; final state equals Batch over %d messages", acked, applied, dups, n)
}
