package server_test

import (
	"context"
	"io"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/compliance"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/servertest"
)

// TestRingServiceSanctionsSession: a sanctions-screening ring over a gRPC
// Session. The list is loaded by one data message; each query's result is
// emitted before its reply, with a SanctionsHit event after it when the
// query is a hit; the snapshot lists the results in order.
func TestRingServiceSanctionsSession(t *testing.T) {
	reg := registry.New()
	if err := compliance.Register(reg); err != nil {
		t.Fatal(err)
	}
	srv := servertest.Start(t, servertest.Config(t, nil), reg, server.Options{})
	c := ringClient(t, srv.GRPCAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, _ := structpb.NewStruct(map[string]any{"hit_threshold": 0.9})
	r, err := c.CreateRing(ctx, &gokernelsv1.CreateRingRequest{KernelId: "compliance/sanctions-screening", RingId: "ofac",
		Durability: gokernelsv1.Durability_DURABILITY_JOURNAL, ConfigurePayload: &gokernelsv1.CreateRingRequest_Configure{Configure: cfg}})
	if err != nil {
		t.Fatal(err)
	}
	list, _ := structpb.NewStruct(map[string]any{"entries": []any{
		map[string]any{"id": "SDN-1", "name": "John Smith", "aliases": []any{"Johnny Smith"}, "source": "OFAC"},
		map[string]any{"id": "SDN-2", "name": "Olga Petrova", "source": "UN"},
	}})
	q := func(name string) *structpb.Struct {
		s, _ := structpb.NewStruct(map[string]any{"queries": []any{map[string]any{"name": name}}})
		return s
	}
	ss, err := c.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Open{Open: &gokernelsv1.SessionOpen{Name: r.GetName(), ClientId: "s"}}})
	if _, err := ss.Recv(); err != nil {
		t.Fatal(err)
	}
	for i, d := range []*structpb.Struct{list, q("Jon Smith"), q("Zhang Wei")} {
		rq := &gokernelsv1.RingRequest{ClientSeq: uint64(i + 1), Ts: 100, Msg: &gokernelsv1.RingRequest_Data{Data: d}}
		if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Request{Request: rq}}); err != nil {
			t.Fatal(err)
		}
	}
	ss.CloseSend()
	var got []string
	var hit *structpb.Struct
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
			if m.GetReply().GetStatus().GetCode() != 0 {
				t.Fatalf("reply %v", m.GetReply())
			}
			got = append(got, "r"+itoa(m.GetReply().GetClientSeq()))
		case m.GetEvent() != nil:
			got = append(got, m.GetEvent().GetKind())
			if m.GetEvent().GetKind() == "SanctionsHit" {
				hit = m.GetEvent().GetPayload()
			}
		}
	}
	want := []string{"r1", "SanctionsResult", "SanctionsHit", "r2", "SanctionsResult", "r3"}
	if len(got) != len(want) {
		t.Fatalf("session stream %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("session stream %v, want %v", got, want)
		}
	}
	matches, _ := hit.AsMap()["matches"].([]any)
	if len(matches) == 0 || matches[0].(map[string]any)["entryId"] != "SDN-1" && matches[0].(map[string]any)["entry_id"] != "SDN-1" {
		t.Fatalf("hit payload %v", hit.AsMap())
	}
	rep, err := c.Send(ctx, &gokernelsv1.SendRequest{Name: r.GetName(), Request: snapshotReq})
	if err != nil {
		t.Fatal(err)
	}
	results, _ := rep.GetOutput().AsMap()["results"].([]any)
	if len(results) != 2 || results[0].(map[string]any)["query"] != "Jon Smith" {
		t.Fatalf("snapshot %v", rep.GetOutput().AsMap())
	}
}
