package server_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/gokernels/gokernels/cluster/clustertest"
	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/ring/ringtest"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/servertest"
)

// TestClusterModeAnyReplica runs three gokernels servers in cluster mode
// (GOKERNELS_CLUSTER_NATS_URL) on an embedded three-node JetStream
// cluster: a ring created on one replica is sent to through a second,
// watched and driven by a session on the third, and every replica reports
// the same ring.
func TestClusterModeAnyReplica(t *testing.T) {
	nats := clustertest.StartNATS(t, 3)
	reg := ringRegistry(t)
	var clients []gokernelsv1.RingServiceClient
	var health []gokernelsv1.HealthServiceClient
	for i := range 3 {
		cfg := servertest.Config(t, map[string]string{
			"GOKERNELS_CLUSTER_NATS_URL":   nats.URL(i),
			"GOKERNELS_CLUSTER_PARTITIONS": "2",
			"GOKERNELS_CLUSTER_MEMBER":     fmt.Sprintf("replica-%d", i),
		})
		srv := servertest.Start(t, cfg, reg, server.Options{})
		clients = append(clients, ringClient(t, srv.GRPCAddr()))
		conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		health = append(health, gokernelsv1.NewHealthServiceClient(conn))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	a, b, c := clients[0], clients[1], clients[2]

	for i, h := range health {
		if _, err := h.Ready(ctx, &gokernelsv1.ReadyRequest{}); err != nil {
			t.Fatalf("replica %d not ready: %v", i, err)
		}
	}
	if _, err := a.CreateRing(ctx, &gokernelsv1.CreateRingRequest{KernelId: ringtest.ID, RingId: "x",
		Durability: gokernelsv1.Durability_DURABILITY_NONE}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("NONE durability in cluster mode: %v, want INVALID_ARGUMENT", err)
	}
	cfg, _ := structpb.NewStruct(map[string]any{"scale": 10})
	r, err := a.CreateRing(ctx, &gokernelsv1.CreateRingRequest{KernelId: ringtest.ID, RingId: "sums",
		ConfigurePayload: &gokernelsv1.CreateRingRequest_Configure{Configure: cfg}})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetName() != "tenants/default/rings/sums" || r.GetDurability() != gokernelsv1.Durability_DURABILITY_JOURNAL {
		t.Fatalf("created %v", r)
	}
	if _, err := b.CreateRing(ctx, &gokernelsv1.CreateRingRequest{KernelId: ringtest.ID, RingId: "sums"}); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("second create on another replica: %v, want ALREADY_EXISTS", err)
	}
	w, err := c.Watch(ctx, &gokernelsv1.WatchRequest{Name: r.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Header(); err != nil { // the watch is established
		t.Fatal(err)
	}

	rep, err := b.Send(ctx, &gokernelsv1.SendRequest{Name: r.GetName(), Request: dataReq("a", 1, 100, 1, 2)})
	if err != nil || rep.GetSeq() != 2 || rep.GetDuplicate() {
		t.Fatalf("send through b: %v %v", rep, err)
	}
	// The retry lands on another replica: same reply, not applied again.
	rep, err = c.Send(ctx, &gokernelsv1.SendRequest{Name: r.GetName(), Request: dataReq("a", 1, 100, 50)})
	if err != nil || !rep.GetDuplicate() || rep.GetSeq() != 2 {
		t.Fatalf("retry through c: %v %v", rep, err)
	}
	_, err = a.Send(ctx, &gokernelsv1.SendRequest{Name: r.GetName(), Request: dataReq("a", 2, 99, 1)})
	if status.Code(err) != codes.OutOfRange {
		t.Fatalf("decreasing ts: %v", err)
	}
	ev, err := w.Recv()
	if err != nil || ev.GetKind() != "applied" || ev.GetSeq() != 2 || ev.GetClientId() != "a" || ev.GetTs() != 100 {
		t.Fatalf("watch on c: %v %v", ev, err)
	}

	// A session on c: replies in request order, each after its events.
	ss, err := c.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Open{Open: &gokernelsv1.SessionOpen{
		Name: r.GetName(), ClientId: "s"}}}); err != nil {
		t.Fatal(err)
	}
	opened, err := ss.Recv()
	if err != nil || opened.GetOpened().GetCredits() == 0 {
		t.Fatalf("open: %v %v", opened, err)
	}
	flag, _ := structpb.NewStruct(map[string]any{"flag": true, "pairs": []any{[]any{1, 1}}})
	for i := uint64(1); i <= 10; i++ {
		rq := dataReq("", i, 200, 1)
		if i == 5 {
			rq.Msg = &gokernelsv1.RingRequest_Data{Data: flag}
		}
		if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Request{Request: rq}}); err != nil {
			t.Fatal(err)
		}
	}
	_ = ss.CloseSend()
	var got []string
	for {
		m, err := ss.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case m.GetReply() != nil:
			if m.GetReply().GetStatus().GetCode() != 0 || m.GetReply().GetClientId() != "s" {
				t.Fatalf("reply %v", m.GetReply())
			}
			got = append(got, "r"+itoa(m.GetReply().GetClientSeq()))
		case m.GetEvent() != nil:
			got = append(got, "e"+m.GetEvent().GetKind())
		case m.GetEnd() != nil:
			got = append(got, "end")
		}
	}
	if len(got) != 12 || got[0] != "r1" || got[4] != "eflag" || got[5] != "r5" || got[10] != "r10" || got[11] != "end" {
		t.Fatalf("session stream %v", got)
	}

	// Every replica answers the same: seqs 1 configure, 2 data, 3 the
	// refused decreasing ts, 4-13 the session; 11 data messages applied,
	// sum = 10 × ((1 + 2) + 10 × 1).
	for i, cl := range clients {
		rep, err := cl.Send(ctx, &gokernelsv1.SendRequest{Name: r.GetName(), Request: snapshotReq})
		if err != nil || rep.GetOutput().AsMap()["count"] != 11.0 || rep.GetOutput().AsMap()["scale"] != 130.0 || rep.GetSeq() != 13 {
			t.Fatalf("snapshot through replica %d: %v %v", i, rep, err)
		}
		in, err := cl.GetRing(ctx, &gokernelsv1.GetRingRequest{Name: r.GetName()})
		if err != nil || in.GetSeq() != 13 || in.GetKernelId() != ringtest.ID {
			t.Fatalf("get through replica %d: %v %v", i, in, err)
		}
		list, err := cl.ListRings(ctx, &gokernelsv1.ListRingsRequest{})
		if err != nil || len(list.GetRings()) != 1 || list.GetRings()[0].GetName() != r.GetName() {
			t.Fatalf("list through replica %d: %v %v", i, list, err)
		}
	}
	if _, err := b.PauseRing(ctx, &gokernelsv1.PauseRingRequest{Name: r.GetName()}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("pause in cluster mode: %v, want UNIMPLEMENTED", err)
	}
	if _, err := b.DeleteRing(ctx, &gokernelsv1.DeleteRingRequest{Name: r.GetName()}); err != nil {
		t.Fatal(err)
	}
	for i, cl := range clients {
		if _, err := cl.GetRing(ctx, &gokernelsv1.GetRingRequest{Name: r.GetName()}); status.Code(err) != codes.NotFound {
			t.Fatalf("get after delete through replica %d: %v", i, err)
		}
	}
}
