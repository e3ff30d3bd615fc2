package behavioral_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/behavioral"
	"github.com/gokernels/gokernels/kernels/behavioral/anomaly"
	"github.com/gokernels/gokernels/kernels/behavioral/simuser"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/servertest"
)

// TestAnomalyOverRingService drives behavioral/anomaly over a gRPC
// Session on a JOURNAL ring, one event per request: every anomalous event
// raises its "anomaly" event before its reply, the alerts are exactly the
// Batch twin's anomalous events in order, and Snapshot lists all results.
func TestAnomalyOverRingService(t *testing.T) {
	reg := registry.New()
	if err := behavioral.Register(reg); err != nil {
		t.Fatal(err)
	}
	srv := servertest.Start(t, servertest.Config(t, nil), reg, server.Options{})
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := gokernelsv1.NewRingServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	evs := simuser.Events(3, 3, 150, 5)
	in := &behavioralv1.AnomalyInput{Events: evs, MinEvents: ptr(int32(5)), Threshold: ptr(40.0)}
	j, err := anomaly.Kernel.Prepare(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := anomaly.Kernel.CPU(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	var wantAlerts []string
	for _, r := range want.Events {
		if r.IsAnomaly {
			wantAlerts = append(wantAlerts, r.EventId)
		}
	}
	if len(wantAlerts) == 0 {
		t.Fatal("the input raises no anomaly: the test would check nothing")
	}

	cfg, _ := structpb.NewStruct(map[string]any{"min_events": 5, "threshold": 40})
	r, err := c.CreateRing(ctx, &gokernelsv1.CreateRingRequest{KernelId: anomaly.Kernel.ID, RingId: "anom",
		Durability: gokernelsv1.Durability_DURABILITY_JOURNAL, ConfigurePayload: &gokernelsv1.CreateRingRequest_Configure{Configure: cfg}})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := c.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Open{Open: &gokernelsv1.SessionOpen{Name: r.GetName(), ClientId: "feed"}}}); err != nil {
		t.Fatal(err)
	}
	if m, err := ss.Recv(); err != nil || m.GetOpened() == nil {
		t.Fatalf("open: %v %v", m, err)
	}
	done := make(chan error, 1)
	go func() {
		for i, e := range j.Events {
			ev := map[string]any{"id": e.Id, "user_id": e.UserId, "event_type": e.EventType, "ts": float64(e.Ts)}
			if e.DeviceId != "" {
				ev["device_id"] = e.GetDeviceId()
			}
			if e.Location != "" {
				ev["location"] = e.GetLocation()
			}
			data, err := structpb.NewStruct(map[string]any{"events": []any{ev}})
			if err != nil {
				done <- err
				return
			}
			rq := &gokernelsv1.RingRequest{ClientSeq: uint64(i + 1), Ts: e.Ts, Msg: &gokernelsv1.RingRequest_Data{Data: data}}
			if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Request{Request: rq}}); err != nil {
				done <- err
				return
			}
		}
		done <- ss.CloseSend()
	}()
	var alerts []string
	pending := ""
	replies := 0
	for {
		m, err := ss.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case m.GetEvent() != nil && m.GetEvent().GetKind() == anomaly.EventAlert:
			pending = fmt.Sprint(m.GetEvent().GetPayload().AsMap()["event_id"])
		case m.GetReply() != nil:
			if code := m.GetReply().GetStatus().GetCode(); code != 0 {
				t.Fatalf("reply %v", m.GetReply())
			}
			// The alert of event i precedes reply i.
			i := m.GetReply().GetClientSeq() - 1
			if pending != "" {
				if pending != j.Events[i].Id {
					t.Fatalf("alert %s arrived before the reply of event %s", pending, j.Events[i].Id)
				}
				alerts = append(alerts, pending)
				pending = ""
			}
			replies++
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if replies != len(j.Events) || fmt.Sprint(alerts) != fmt.Sprint(wantAlerts) {
		t.Fatalf("%d replies for %d events; alerts %v, Batch %v", replies, len(j.Events), alerts, wantAlerts)
	}
	rep, err := c.Send(ctx, &gokernelsv1.SendRequest{Name: r.GetName(), Request: &gokernelsv1.RingRequest{
		Msg: &gokernelsv1.RingRequest_Snapshot{Snapshot: &gokernelsv1.SnapshotControl{}}}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := rep.GetOutput().AsMap()["events"].([]any)
	if len(got) != len(want.Events) {
		t.Fatalf("snapshot lists %d results, Batch %d", len(got), len(want.Events))
	}
	for i, g := range got {
		gm := g.(map[string]any)
		if gm["event_id"] != want.Events[i].EventId || (gm["is_anomaly"] == true) != want.Events[i].IsAnomaly {
			t.Fatalf("snapshot result %d: %v, Batch %v", i, gm, want.Events[i])
		}
	}
}

func ptr[T any](v T) *T { return &v }
