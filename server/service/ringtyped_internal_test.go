package service

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// maxTypedMessages bounds the data messages each kernel's case sends.
const maxTypedMessages = 40

// TestTypedRingMessagesEveryRingKernel drives every Ring id of the catalog
// (the registry's list, so a new ring kernel is in it) through the typed
// per-kernel ring messages and checks them against the JSON-shaped path:
//
//   - <Kernel>RingRequest, RingReply and RingEvent exist in the kernel's
//     package with the generated shape (request oneof data/configure/
//     snapshot/reset of the input, reply oneof output/snapshot of the
//     declared types, one event field per declared kind), and Ring and
//     KernelInfo name them;
//   - a fixture case fed as typed ring requests (configure, data, snapshot,
//     reset) through Send gives, message by message, the same seq, output
//     and snapshot as the Struct path on a twin ring;
//   - every event the handler emits is declared: it decodes into the
//     kernel's event oneof, on the field its kind names, holding the
//     emitted message (the same as the JSON payload).
func TestTypedRingMessagesEveryRingKernel(t *testing.T) {
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	rt, err := ring.New(reg, ring.Options{Development: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rt.Shutdown(ctx)
	})
	svc := &Rings{Runtime: rt}
	kernels := reg.List("", registry.Ring)
	if len(kernels) < 27 {
		t.Fatalf("the catalog lists %d Ring ids, want at least the 27 of the reference", len(kernels))
	}
	for _, k := range kernels {
		t.Run(k.ID, func(t *testing.T) {
			checkShape(t, k)
			runTyped(t, svc, rt, k)
		})
	}
}

// checkShape checks k's generated typed ring messages against its
// registry declaration.
func checkShape(t *testing.T, k *registry.Kernel) {
	t.Helper()
	names := k.RingTypes()
	find := func(n protoreflect.FullName) protoreflect.MessageDescriptor {
		mt, err := protoregistry.GlobalTypes.FindMessageByName(n)
		if err != nil {
			t.Fatalf("%s: %v (run make generate)", n, err)
		}
		return mt.Descriptor()
	}
	field := func(md protoreflect.MessageDescriptor, name string, num protoreflect.FieldNumber, oneof string, typ protoreflect.FullName) {
		t.Helper()
		fd := md.Fields().ByName(protoreflect.Name(name))
		switch {
		case fd == nil:
			t.Errorf("%s has no field %s", md.FullName(), name)
		case fd.Number() != num || fd.ContainingOneof() == nil || string(fd.ContainingOneof().Name()) != oneof:
			t.Errorf("%s.%s: number %d in oneof %v, want %d in %s", md.FullName(), name, fd.Number(), fd.ContainingOneof(), num, oneof)
		case fd.Message() == nil || fd.Message().FullName() != typ:
			t.Errorf("%s.%s is not a %s", md.FullName(), name, typ)
		}
	}
	in, out := k.Input.Descriptor().FullName(), k.Output.Descriptor().FullName()
	req := find(names.Request)
	field(req, "data", 1, "msg", in)
	field(req, "configure", 2, "msg", in)
	field(req, "snapshot", 3, "msg", (&gokernelsv1.SnapshotControl{}).ProtoReflect().Descriptor().FullName())
	field(req, "reset", 4, "msg", (&gokernelsv1.ResetControl{}).ProtoReflect().Descriptor().FullName())
	if req.Fields().Len() != 4 {
		t.Errorf("%s has %d fields, want 4", req.FullName(), req.Fields().Len())
	}
	msgs := k.RingMessages()
	rep := find(names.Reply)
	replyType := (&emptypb.Empty{}).ProtoReflect().Descriptor().FullName()
	if msgs.Reply != nil {
		replyType = msgs.Reply.ProtoReflect().Descriptor().FullName()
	}
	field(rep, "output", 1, "result", replyType)
	field(rep, "snapshot", 2, "result", out)
	ev := find(names.Event)
	if ev.Fields().Len() != len(msgs.Events) {
		t.Errorf("%s has %d fields, the handler declares %d event kinds", ev.FullName(), ev.Fields().Len(), len(msgs.Events))
	}
	for i, e := range msgs.Events {
		field(ev, string(registry.EventField(e.Kind)), protoreflect.FieldNumber(i+1), "event", e.Message.ProtoReflect().Descriptor().FullName())
		if e.Doc == "" {
			t.Errorf("event kind %q has no Doc", e.Kind)
		}
		// Every declared kind renders typed, whether or not the fixture
		// below makes the handler emit it.
		got := event(k, ring.Event{Kind: e.Kind, Payload: e.Message}, true)
		if got.GetTypedPayload().MessageName() != names.Event || got.GetPayload() != nil {
			t.Errorf("declared kind %q renders as %v", e.Kind, got)
		}
	}
	info := Info(k)
	if info.GetRingRequestType() != string(names.Request) || info.GetRingReplyType() != string(names.Reply) ||
		info.GetRingEventType() != string(names.Event) {
		t.Errorf("KernelInfo names %q %q %q", info.GetRingRequestType(), info.GetRingReplyType(), info.GetRingEventType())
	}
}

// firstCase returns the input of k's first fixture case that succeeds and
// splits into at least one data message.
func firstCase(t *testing.T, k *registry.Kernel) proto.Message {
	t.Helper()
	h, _ := k.RingHandler()
	f := fixture.Kernel(t, k.Prefix(), strings.TrimPrefix(k.ID, k.Prefix()+"/"))
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		in := k.NewInput()
		if err := jsoninput.Decode(c.Input, in); err != nil {
			t.Fatalf("%s: decode: %v", c.Name, err)
		}
		if _, data := h.Split(in); len(data) > 0 {
			return in
		}
	}
	t.Fatalf("%s: no fixture case with data messages", k.ID)
	return nil
}

func runTyped(t *testing.T, svc *Rings, rt *ring.Runtime, k *registry.Kernel) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	names := k.RingTypes()
	h, _ := k.RingHandler()
	cfg, data := h.Split(firstCase(t, k))
	if len(data) > maxTypedMessages {
		data = data[:maxTypedMessages]
	}
	ringID := strings.NewReplacer("/", "-").Replace(k.ID)
	create := func(id string) *gokernelsv1.Ring {
		r, err := svc.CreateRing(ctx, &gokernelsv1.CreateRingRequest{KernelId: k.ID, RingId: id,
			Durability: gokernelsv1.Durability_DURABILITY_NONE})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	plain, typed := create("s-"+ringID), create("t-"+ringID)
	if typed.GetRequestType() != string(names.Request) || typed.GetReplyType() != string(names.Reply) ||
		typed.GetEventType() != string(names.Event) {
		t.Fatalf("Ring names %q %q %q, want %s %s %s", typed.GetRequestType(), typed.GetReplyType(), typed.GetEventType(),
			names.Request, names.Reply, names.Event)
	}
	r, err := rt.Get(DefaultTenant, "t-"+ringID)
	if err != nil {
		t.Fatal(err)
	}
	w, err := r.Subscribe(ring.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	reqType, _ := protoregistry.GlobalTypes.FindMessageByName(names.Request)
	repType, _ := protoregistry.GlobalTypes.FindMessageByName(names.Reply)
	evType, _ := protoregistry.GlobalTypes.FindMessageByName(names.Event)
	// typedReq packs a <Kernel>RingRequest with field set to v.
	typedReq := func(field string, v proto.Message) *gokernelsv1.RingRequest {
		m := reqType.New()
		m.Set(reqType.Descriptor().Fields().ByName(protoreflect.Name(field)), protoreflect.ValueOfMessage(v.ProtoReflect()))
		a, err := anypb.New(m.Interface())
		if err != nil {
			t.Fatal(err)
		}
		return &gokernelsv1.RingRequest{Msg: &gokernelsv1.RingRequest_TypedData{TypedData: a}}
	}
	send := func(name string, rq *gokernelsv1.RingRequest) *gokernelsv1.RingReply {
		t.Helper()
		rep, err := svc.Send(ctx, &gokernelsv1.SendRequest{Name: name, Request: rq})
		if err != nil {
			t.Fatalf("send %s: %v", prototext.Format(rq), err)
		}
		return rep
	}
	// typedResult unpacks a typed reply: the set field's name and message.
	typedResult := func(rep *gokernelsv1.RingReply) (string, proto.Message) {
		t.Helper()
		a := rep.GetTypedOutput()
		if a == nil || a.MessageName() != names.Reply || rep.GetOutput() != nil {
			t.Fatalf("typed request answered with %v, want a %s in typed_output", rep, names.Reply)
		}
		m := repType.New()
		if err := proto.Unmarshal(a.GetValue(), m.Interface()); err != nil {
			t.Fatal(err)
		}
		fd := m.WhichOneof(repType.Descriptor().Oneofs().ByName("result"))
		if fd == nil {
			return "", nil
		}
		return string(fd.Name()), m.Get(fd).Message().Interface()
	}
	// bare unpacks a typed_output reply of the Struct path.
	bare := func(rep *gokernelsv1.RingReply) proto.Message {
		t.Helper()
		if rep.GetTypedOutput() == nil {
			return nil
		}
		m, err := rep.GetTypedOutput().UnmarshalNew()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// checkEvents reads the typed ring's events up to the "applied" of seq
	// and checks each against the kernel's event oneof.
	declared := map[string]bool{}
	for _, e := range k.RingMessages().Events {
		declared[e.Kind] = true
	}
	events := 0
	checkEvents := func(seq uint64) {
		t.Helper()
		for {
			var e ring.Event
			select {
			case ev, ok := <-w.C:
				if !ok {
					t.Fatalf("watch ended: %v", w.Reason())
				}
				e = ev
			case <-ctx.Done():
				t.Fatalf("no applied event for seq %d", seq)
			}
			if e.Kind == "applied" {
				if e.Seq == seq {
					return
				}
				continue
			}
			events++
			if !declared[e.Kind] {
				t.Fatalf("event kind %q (%T) is not declared in the handler's fold.Messages", e.Kind, e.Payload)
			}
			got := event(k, e, true)
			if got.GetTypedPayload() == nil || got.GetPayload() != nil || got.GetKind() != e.Kind {
				t.Fatalf("event %q rendered typed as %v", e.Kind, got)
			}
			m := evType.New()
			if err := got.GetTypedPayload().UnmarshalTo(m.Interface()); err != nil {
				t.Fatal(err)
			}
			fd := m.WhichOneof(evType.Descriptor().Oneofs().ByName("event"))
			if fd == nil || fd.Name() != registry.EventField(e.Kind) {
				t.Fatalf("event %q decodes to field %v", e.Kind, fd)
			}
			inner := m.Get(fd).Message().Interface()
			if !proto.Equal(inner, e.Payload) {
				t.Fatalf("event %q: typed payload %v, emitted %v", e.Kind, inner, e.Payload)
			}
			st, err := jsoninput.ToStruct(inner)
			if err != nil {
				t.Fatal(err)
			}
			if js := event(k, e, false).GetPayload(); !proto.Equal(js, st) {
				t.Fatalf("event %q: typed payload as JSON %v, JSON payload %v", e.Kind, st, js)
			}
		}
	}

	// Configure.
	cs, err := jsoninput.ToStruct(cfg)
	if err != nil {
		t.Fatal(err)
	}
	send(plain.GetName(), &gokernelsv1.RingRequest{Msg: &gokernelsv1.RingRequest_Configure{Configure: cs}})
	if field, out := typedResult(send(typed.GetName(), typedReq("configure", cfg))); field != "" {
		t.Fatalf("configure answered with %s %v", field, out)
	}
	// Data, one message at a time, ts in the Split order.
	for i, d := range data {
		ds, err := jsoninput.ToStruct(d)
		if err != nil {
			t.Fatal(err)
		}
		want := send(plain.GetName(), &gokernelsv1.RingRequest{Ts: int64(i), TypedOutput: true,
			Msg: &gokernelsv1.RingRequest_Data{Data: ds}})
		rq := typedReq("data", d)
		rq.Ts = int64(i)
		got := send(typed.GetName(), rq)
		if got.GetSeq() != want.GetSeq() {
			t.Fatalf("message %d: seq %d, Struct path %d", i, got.GetSeq(), want.GetSeq())
		}
		field, out := typedResult(got)
		wantOut := bare(want)
		switch {
		case wantOut == nil && field != "":
			t.Fatalf("message %d: typed reply sets %s, the Struct path has no output", i, field)
		case wantOut != nil && (field != "output" || !proto.Equal(out, wantOut)):
			t.Fatalf("message %d: typed reply %s %v, Struct path output %v", i, field, out, wantOut)
		}
		checkEvents(got.GetSeq())
	}
	// Snapshot: the typed reply's snapshot field holds the Struct path's.
	snap := func() (proto.Message, proto.Message) {
		want := bare(send(plain.GetName(), &gokernelsv1.RingRequest{TypedOutput: true,
			Msg: &gokernelsv1.RingRequest_Snapshot{Snapshot: &gokernelsv1.SnapshotControl{}}}))
		field, got := typedResult(send(typed.GetName(), typedReq("snapshot", &gokernelsv1.SnapshotControl{})))
		if field != "snapshot" || want == nil || !proto.Equal(got, want) {
			t.Fatalf("snapshot: typed %s %v, Struct path %v", field, got, want)
		}
		return got, want
	}
	snap()
	// Reset, then Snapshot again: both rings are back to the empty state.
	send(plain.GetName(), &gokernelsv1.RingRequest{Msg: &gokernelsv1.RingRequest_Reset_{Reset_: &gokernelsv1.ResetControl{}}})
	if field, out := typedResult(send(typed.GetName(), typedReq("reset", &gokernelsv1.ResetControl{}))); field != "" {
		t.Fatalf("reset answered with %s %v", field, out)
	}
	// An empty state may have no snapshot (a kernel that needs data): then
	// both paths refuse it alike, as a fresh handler does.
	h2, _ := k.RingHandler()
	fresh, freshErr := h2.Snapshot(ctx)
	if freshErr == nil {
		if empty, _ := snap(); !proto.Equal(empty, fresh) {
			t.Fatalf("after a typed reset the snapshot is %v, a fresh handler's %v", empty, fresh)
		}
	} else {
		_, errPlain := svc.Send(ctx, &gokernelsv1.SendRequest{Name: plain.GetName(), Request: &gokernelsv1.RingRequest{
			Msg: &gokernelsv1.RingRequest_Snapshot{Snapshot: &gokernelsv1.SnapshotControl{}}}})
		_, errTyped := svc.Send(ctx, &gokernelsv1.SendRequest{Name: typed.GetName(), Request: typedReq("snapshot", &gokernelsv1.SnapshotControl{})})
		if errPlain == nil || errTyped == nil || status.Convert(errPlain).Message() != status.Convert(errTyped).Message() ||
			status.Code(errPlain) != status.Code(errTyped) {
			t.Fatalf("snapshot of an empty ring: Struct path %v, typed %v (fresh handler: %v)", errPlain, errTyped, freshErr)
		}
	}
	// An empty typed request is refused, naming the field.
	a, _ := anypb.New(reqType.New().Interface())
	_, err = svc.Send(ctx, &gokernelsv1.SendRequest{Name: typed.GetName(), Request: &gokernelsv1.RingRequest{
		Msg: &gokernelsv1.RingRequest_TypedData{TypedData: a}}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(fmt.Sprint(err), "typed_data") {
		t.Fatalf("empty typed request: %v", err)
	}
	t.Logf("%d data messages, %d events", len(data), events)
}
