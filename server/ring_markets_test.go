package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/clearing"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/orderbook"
	"github.com/gokernels/gokernels/kernels/payments"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/jsoninput"
	"github.com/gokernels/gokernels/server/servertest"
)

// TestRingServiceMarketsSessions: each of the four financial Ring ids over
// a gRPC Session on a JOURNAL ring. The first fixture case is split into
// its Configure and data messages (at most 80); over the wire every reply
// comes after exactly the events its message emitted (same kinds, same
// order as the handler run in-process), and the Snapshot decodes to the
// in-process handler's snapshot.
func TestRingServiceMarketsSessions(t *testing.T) {
	reg := registry.New()
	for _, f := range []func(*registry.Registry) error{orderbook.Register, clearing.Register, payments.Register} {
		if err := f(reg); err != nil {
			t.Fatal(err)
		}
	}
	srv := servertest.Start(t, servertest.Config(t, nil), reg, server.Options{})
	c := ringClient(t, srv.GRPCAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	domain := map[string]string{"orderbook/matching": "orderbook", "clearing/dvp-matching": "clearing",
		"clearing/settlement": "clearing", "payments/processing": "payments"}
	for _, id := range []string{"orderbook/matching", "clearing/dvp-matching", "clearing/settlement", "payments/processing"} {
		t.Run(id, func(t *testing.T) {
			k, _ := reg.Get(id)
			var in proto.Message
			for _, cs := range fixture.KernelFile(t, fixture.DomainFiles(t, domain[id]), id).Cases {
				if cs.ErrorField == "" {
					in = k.NewInput()
					if err := jsoninput.Decode(cs.Input, in); err != nil {
						t.Fatal(err)
					}
					break
				}
			}
			h, _ := k.RingHandler()
			cfg, data := h.Split(in)
			if len(data) > 80 {
				data = data[:80]
			}
			// The in-process expectation.
			local, _ := k.RingHandler()
			if err := local.Configure(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			var wantKinds [][]string
			for _, d := range data {
				rc := foldtest.New(ctx, 1)
				if err := local.Apply(rc, d); err != nil {
					t.Fatal(err)
				}
				wantKinds = append(wantKinds, rc.Kinds())
			}
			wantSnap, err := local.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}

			ringID := map[string]string{"orderbook/matching": "book", "clearing/dvp-matching": "dvp",
				"clearing/settlement": "settle", "payments/processing": "rtgs"}[id]
			r, err := c.CreateRing(ctx, &gokernelsv1.CreateRingRequest{KernelId: id, RingId: ringID,
				Durability: gokernelsv1.Durability_DURABILITY_JOURNAL, ConfigurePayload: &gokernelsv1.CreateRingRequest_Configure{Configure: toStruct(t, cfg)}})
			if err != nil {
				t.Fatal(err)
			}
			ss, err := c.Session(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Open{Open: &gokernelsv1.SessionOpen{Name: r.GetName(), ClientId: "s"}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := ss.Recv(); err != nil {
				t.Fatal(err)
			}
			for i, d := range data {
				rq := &gokernelsv1.RingRequest{ClientSeq: uint64(i + 1), Ts: int64(i), Msg: &gokernelsv1.RingRequest_Data{Data: toStruct(t, d)}}
				if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Request{Request: rq}}); err != nil {
					t.Fatal(err)
				}
				var kinds []string
				for {
					m, err := ss.Recv()
					if err != nil {
						t.Fatal(err)
					}
					if ev := m.GetEvent(); ev != nil {
						if ev.GetClientSeq() != uint64(i+1) {
							t.Fatalf("message %d: event for client_seq %d before its reply", i+1, ev.GetClientSeq())
						}
						kinds = append(kinds, ev.GetKind())
						continue
					}
					rep := m.GetReply()
					if rep == nil || rep.GetClientSeq() != uint64(i+1) || rep.GetStatus().GetCode() != 0 {
						t.Fatalf("message %d: got %v", i+1, m)
					}
					break
				}
				if len(kinds) != len(wantKinds[i]) {
					t.Fatalf("message %d: events %v, in-process %v", i+1, kinds, wantKinds[i])
				}
				for j := range kinds {
					if kinds[j] != wantKinds[i][j] {
						t.Fatalf("message %d: events %v, in-process %v", i+1, kinds, wantKinds[i])
					}
				}
			}
			_ = ss.CloseSend()
			rep, err := c.Send(ctx, &gokernelsv1.SendRequest{Name: r.GetName(), Request: snapshotReq})
			if err != nil {
				t.Fatal(err)
			}
			b, err := protojson.Marshal(rep.GetOutput())
			if err != nil {
				t.Fatal(err)
			}
			got := k.Output.New().Interface()
			if err := jsoninput.Decode(b, got); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, wantSnap) {
				t.Fatalf("snapshot over gRPC differs:\nwant %.500s\ngot  %.500s", prototext.Format(wantSnap), prototext.Format(got))
			}
		})
	}
}

func toStruct(t *testing.T, m proto.Message) *structpb.Struct {
	t.Helper()
	b, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	s := &structpb.Struct{}
	if err := protojson.Unmarshal(b, s); err != nil {
		t.Fatal(err)
	}
	return s
}
