package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	orderbookv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/orderbook/v1"
	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/orderbook"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/jsoninput"
	"github.com/gokernels/gokernels/server/servertest"
)

// TestRingTypedSessionOrderbook drives orderbook/matching end to end over
// a gRPC Session with its typed ring messages only: MatchingRingRequest
// (configure, data, snapshot, reset) in typed_data, MatchingRingReply in
// typed_output, and the book's events — fills included — as
// MatchingRingEvent in typed_payload. Each reply's output and events equal
// the in-process handler's for the same message; the typed Snapshot equals
// the in-process snapshot (and the Batch output when the whole case is
// sent); a Watch with typed_events replays the same typed events.
func TestRingTypedSessionOrderbook(t *testing.T) {
	reg := registry.New()
	if err := orderbook.Register(reg); err != nil {
		t.Fatal(err)
	}
	srv := servertest.Start(t, servertest.Config(t, nil), reg, server.Options{})
	c := ringClient(t, srv.GRPCAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	k, _ := reg.Get("orderbook/matching")
	h, _ := k.RingHandler()

	// The first fixture case whose messages fill orders, as messages.
	var (
		in   *orderbookv1.MatchingInput
		cfg  *orderbookv1.MatchingInput
		data []*orderbookv1.MatchingInput
	)
	const maxMsgs = 80
	for _, cs := range fixture.Kernel(t, "orderbook", "matching").Cases {
		if cs.ErrorField != "" {
			continue
		}
		m := &orderbookv1.MatchingInput{}
		if err := jsoninput.Decode(cs.Input, m); err != nil {
			t.Fatal(err)
		}
		c, d := h.Split(m)
		data = data[:0]
		for _, x := range d[:min(len(d), maxMsgs)] {
			data = append(data, x.(*orderbookv1.MatchingInput))
		}
		in, cfg = m, c.(*orderbookv1.MatchingInput)
		break
	}
	if in == nil {
		t.Fatal("no orderbook/matching fixture case")
	}
	// The in-process expectation, message by message.
	local, _ := k.RingHandler()
	if err := local.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	var wantEvents [][]foldtest.Event
	var wantReplies []proto.Message
	wantFills := 0
	for i, d := range data {
		rc := foldtest.New(ctx, uint64(i+1))
		if err := local.Apply(rc, d); err != nil {
			t.Fatal(err)
		}
		wantEvents = append(wantEvents, append([]foldtest.Event(nil), rc.Events()...))
		wantReplies = append(wantReplies, rc.Reply())
		wantFills += len(foldtest.Emitted[*orderbookv1.Event](rc, orderbook.EventExecuted))
	}
	if wantFills == 0 {
		t.Fatalf("the case's %d messages fill nothing: pick a case with fills", len(data))
	}
	wantSnap, err := local.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}

	r, err := c.CreateRing(ctx, &gokernelsv1.CreateRingRequest{KernelId: k.ID, RingId: "typed-book",
		Durability: gokernelsv1.Durability_DURABILITY_JOURNAL})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetRequestType() != "gokernels.kernels.orderbook.v1.MatchingRingRequest" ||
		r.GetReplyType() != "gokernels.kernels.orderbook.v1.MatchingRingReply" ||
		r.GetEventType() != "gokernels.kernels.orderbook.v1.MatchingRingEvent" {
		t.Fatalf("ring names %q %q %q", r.GetRequestType(), r.GetReplyType(), r.GetEventType())
	}
	// An observer session (watch, typed_events) sees the other client's
	// events typed too.
	obs, err := c.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := obs.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Open{Open: &gokernelsv1.SessionOpen{
		Name: r.GetName(), ClientId: "observer", Watch: true, TypedEvents: true}}}); err != nil {
		t.Fatal(err)
	}
	if m, err := obs.Recv(); err != nil || m.GetOpened() == nil {
		t.Fatalf("observer open: %v %v", m, err)
	}
	ss, err := c.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Open{Open: &gokernelsv1.SessionOpen{
		Name: r.GetName(), ClientId: "typed"}}}); err != nil {
		t.Fatal(err)
	}
	if m, err := ss.Recv(); err != nil || m.GetOpened() == nil {
		t.Fatalf("open: %v %v", m, err)
	}
	seq, ringSeq := uint64(0), uint64(0)
	// call sends one typed request and returns its events (typed, unpacked)
	// and its typed reply.
	call := func(ts int64, rq *orderbookv1.MatchingRingRequest) ([]*orderbookv1.MatchingRingEvent, []string, *orderbookv1.MatchingRingReply) {
		t.Helper()
		a, err := anypb.New(rq)
		if err != nil {
			t.Fatal(err)
		}
		seq++
		if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Request{Request: &gokernelsv1.RingRequest{
			ClientSeq: seq, Ts: ts, Msg: &gokernelsv1.RingRequest_TypedData{TypedData: a}}}}); err != nil {
			t.Fatal(err)
		}
		var evs []*orderbookv1.MatchingRingEvent
		var kinds []string
		for {
			m, err := ss.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if e := m.GetEvent(); e != nil {
				if e.GetPayload() != nil || e.GetTypedPayload() == nil {
					t.Fatalf("request %d: event %q not typed: %v", seq, e.GetKind(), e)
				}
				me := &orderbookv1.MatchingRingEvent{}
				if err := e.GetTypedPayload().UnmarshalTo(me); err != nil {
					t.Fatal(err)
				}
				evs, kinds = append(evs, me), append(kinds, e.GetKind())
				continue
			}
			rep := m.GetReply()
			if rep == nil || rep.GetClientSeq() != seq || rep.GetStatus().GetCode() != 0 || rep.GetOutput() != nil {
				t.Fatalf("request %d: got %v", seq, m)
			}
			ringSeq = rep.GetSeq()
			out := &orderbookv1.MatchingRingReply{}
			if err := rep.GetTypedOutput().UnmarshalTo(out); err != nil {
				t.Fatalf("request %d: typed_output %v: %v", seq, rep.GetTypedOutput(), err)
			}
			return evs, kinds, out
		}
	}

	if _, _, rep := call(0, &orderbookv1.MatchingRingRequest{Msg: &orderbookv1.MatchingRingRequest_Configure{Configure: cfg}}); rep.GetResult() != nil {
		t.Fatalf("configure answered %v", rep)
	}
	fills := 0
	for i, d := range data {
		evs, kinds, rep := call(int64(i), &orderbookv1.MatchingRingRequest{Msg: &orderbookv1.MatchingRingRequest_Data{Data: d}})
		if len(evs) != len(wantEvents[i]) {
			t.Fatalf("message %d: %d events %v, in-process %d", i, len(evs), kinds, len(wantEvents[i]))
		}
		for j, me := range evs {
			want := wantEvents[i][j]
			if kinds[j] != want.Kind {
				t.Fatalf("message %d event %d: kind %q, in-process %q", i, j, kinds[j], want.Kind)
			}
			// The oneof field is the kind's; it holds the emitted message.
			var got proto.Message
			switch want.Kind {
			case orderbook.EventExecuted:
				if me.GetExecuted().GetExecuted() == nil {
					t.Fatalf("message %d: Executed event decodes to %v", i, me)
				}
				fills++
				got = me.GetExecuted()
			case orderbook.EventOrderState:
				got = me.GetOrderState()
			default:
				fd := me.ProtoReflect().WhichOneof(me.ProtoReflect().Descriptor().Oneofs().ByName("event"))
				if fd == nil || fd.Name() != registry.EventField(want.Kind) {
					t.Fatalf("message %d: %q decodes to field %v", i, want.Kind, fd)
				}
				got = me.ProtoReflect().Get(fd).Message().Interface()
			}
			if !proto.Equal(got, want.Msg) {
				t.Fatalf("message %d event %q: %v, in-process %v", i, want.Kind, got, want.Msg)
			}
		}
		if !proto.Equal(rep.GetOutput(), wantReplies[i]) {
			t.Fatalf("message %d: reply output %v, in-process %v", i, rep.GetOutput(), wantReplies[i])
		}
	}
	if fills != wantFills {
		t.Fatalf("%d typed fills, in-process %d", fills, wantFills)
	}
	lastData := ringSeq

	_, _, rep := call(0, &orderbookv1.MatchingRingRequest{Msg: &orderbookv1.MatchingRingRequest_Snapshot{Snapshot: &gokernelsv1.SnapshotControl{}}})
	if !proto.Equal(rep.GetSnapshot(), wantSnap) {
		t.Fatalf("typed snapshot differs:\nwant %.500s\ngot  %.500s", prototext.Format(wantSnap), prototext.Format(rep.GetSnapshot()))
	}
	if _, d := h.Split(in); len(d) <= maxMsgs {
		batch, err := k.Run(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(rep.GetSnapshot(), batch) {
			t.Fatalf("typed snapshot is not the Batch output:\nwant %.500s\ngot  %.500s", prototext.Format(batch), prototext.Format(rep.GetSnapshot()))
		}
	}
	if _, _, rep := call(0, &orderbookv1.MatchingRingRequest{Msg: &orderbookv1.MatchingRingRequest_Reset_{Reset_: &gokernelsv1.ResetControl{}}}); rep.GetResult() != nil {
		t.Fatalf("reset answered %v", rep)
	}
	fresh, _ := k.RingHandler()
	emptySnap, err := fresh.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, rep := call(0, &orderbookv1.MatchingRingRequest{Msg: &orderbookv1.MatchingRingRequest_Snapshot{Snapshot: &gokernelsv1.SnapshotControl{}}}); !proto.Equal(rep.GetSnapshot(), emptySnap) {
		t.Fatalf("snapshot after a typed reset: %v, want the empty book %v", rep.GetSnapshot(), emptySnap)
	}
	_ = ss.CloseSend()
	for {
		m, err := ss.Recv()
		if err != nil {
			t.Fatalf("session ended without SessionEnd: %v", err)
		}
		if m.GetEnd() != nil {
			break
		}
	}

	observed := 0
	for {
		m, err := obs.Recv()
		if err != nil {
			t.Fatal(err)
		}
		e := m.GetEvent()
		if e == nil {
			t.Fatalf("observer got %v", m)
		}
		if e.GetKind() == "applied" {
			if e.GetSeq() >= lastData {
				break
			}
			continue
		}
		me := &orderbookv1.MatchingRingEvent{}
		if e.GetClientId() != "typed" || e.GetPayload() != nil || e.GetTypedPayload().UnmarshalTo(me) != nil {
			t.Fatalf("observed event %q: %v", e.GetKind(), e)
		}
		if me.GetExecuted() != nil {
			observed++
		}
	}
	if observed != wantFills {
		t.Fatalf("the observer saw %d typed fills, want %d", observed, wantFills)
	}
	_ = obs.CloseSend()

	// A Watch with typed_events replays the same events, typed.
	after := uint64(0)
	w, err := c.Watch(ctx, &gokernelsv1.WatchRequest{Name: r.GetName(), AfterSeq: &after, TypedEvents: true})
	if err != nil {
		t.Fatal(err)
	}
	watched := 0
	for {
		e, err := w.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if e.GetKind() == "applied" {
			if e.GetSeq() >= lastData {
				break
			}
			continue
		}
		me := &orderbookv1.MatchingRingEvent{}
		if e.GetPayload() != nil || e.GetTypedPayload().UnmarshalTo(me) != nil ||
			me.ProtoReflect().WhichOneof(me.ProtoReflect().Descriptor().Oneofs().ByName("event")).Name() != registry.EventField(e.GetKind()) {
			t.Fatalf("watched event %q: %v", e.GetKind(), e)
		}
		if me.GetExecuted() != nil {
			watched++
		}
	}
	if watched != wantFills {
		t.Fatalf("watch replayed %d typed fills, want %d", watched, wantFills)
	}
}
