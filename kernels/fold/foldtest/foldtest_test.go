package foldtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	testingv1 "github.com/gokernels/gokernels/gen/gokernels/testing/v1"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring"
	"github.com/gokernels/gokernels/ring/ringtest"
)

// feed is test/sum's messages: flags emit, a scale asks for a reply.
func feed() []*testingv1.EchoInput {
	var out []*testingv1.EchoInput
	for i := range 12 {
		m := &testingv1.EchoInput{Pairs: []*testingv1.Pair{{B: float64(i + 1)}}, Flag: i%3 == 0}
		if i%4 == 1 {
			m.Scale = proto.Float64(1)
		}
		out = append(out, m)
	}
	return out
}

// TestMatchesRuntime drives test/sum (which draws from Rand, reads Time,
// emits and replies) through a real ring with a seed and through Contexts
// with the same seed, sequence numbers and times: the handler's state must
// be byte-identical, and every message's events and reply equal.
func TestMatchesRuntime(t *testing.T) {
	const seed = 42
	ctx := context.Background()
	reg := registry.New()
	if err := ringtest.Register(reg); err != nil {
		t.Fatal(err)
	}
	rt, err := ring.New(reg, ring.Options{IdleTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rt.Shutdown(ctx) }()
	r, err := rt.Create(ctx, "default", "x", ringtest.ID, ring.Config{Durability: ring.None, Seed: seed}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := ringtest.Spec.New()
	rc := &foldtest.Context{Context: ctx, Seed: seed}
	base := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for i, m := range feed() {
		at := base.Add(time.Duration(i) * time.Second)
		rep, err := r.Send(ctx, ring.Message{Kind: ring.KindData, TS: int64(i), Time: at.UnixNano(), Payload: m})
		if err != nil || rep.Err != nil {
			t.Fatalf("message %d: %v %v", i, err, rep.Err)
		}
		rc.Clear()
		rc.Sequence, rc.Timestamp, rc.Accepted = rep.Seq, int64(i), at
		if err := h.Apply(rc, m); err != nil {
			t.Fatal(err)
		}
		if len(rc.Events()) != len(rep.Events) {
			t.Fatalf("message %d: events %v, runtime %v", i, rc.Kinds(), rep.Events)
		}
		for j, e := range rep.Events {
			if got := rc.Events()[j]; got.Kind != e.Kind || !proto.Equal(got.Msg, e.Payload) {
				t.Fatalf("message %d event %d: %s %v, runtime %s %v", i, j, got.Kind, got.Msg, e.Kind, e.Payload)
			}
		}
		if (rc.Reply() == nil) != (m.Scale == nil) || !proto.Equal(rc.Reply(), rep.Output) {
			t.Fatalf("message %d: reply %v, runtime %v", i, rc.Reply(), rep.Output)
		}
	}
	snap, _, err := r.SnapshotNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		State []byte `json:"state"`
	}
	if err := json.Unmarshal(snap, &file); err != nil {
		t.Fatal(err)
	}
	got, err := h.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, file.State) {
		t.Fatalf("state under foldtest:\n%s\nunder the runtime:\n%s", got, file.State)
	}
}

// TestRecordsInOrder: events come back in Emit order with their messages,
// the last Reply wins, and Clear forgets both.
func TestRecordsInOrder(t *testing.T) {
	rc := foldtest.New(context.Background(), 7)
	a, b := &testingv1.EchoOutput{Count: 1}, &testingv1.EchoOutput{Count: 2}
	rc.Emit("x", a)
	rc.Emit("y", b)
	rc.Emit("x", nil)
	if k := rc.Kinds(); len(k) != 3 || k[0] != "x" || k[1] != "y" || k[2] != "x" {
		t.Fatalf("kinds %v", k)
	}
	if ev := rc.Events(); ev[0].Msg != a || ev[1].Msg != b || ev[2].Msg != nil {
		t.Fatalf("events %v", ev)
	}
	if xs := foldtest.Emitted[*testingv1.EchoOutput](rc, "x"); len(xs) != 2 || xs[0] != a || xs[1] != nil {
		t.Fatalf("Emitted x: %v", xs)
	}
	if ys := foldtest.Emitted[*testingv1.EchoOutput](rc, "y"); len(ys) != 1 || ys[0] != b {
		t.Fatalf("Emitted y: %v", ys)
	}
	rc.SetReply(a)
	rc.SetReply(b)
	if rc.Reply() != b {
		t.Fatalf("reply %v, want the last one set", rc.Reply())
	}
	rc.Clear()
	if rc.Kinds() != nil || len(rc.Events()) != 0 || rc.Reply() != nil {
		t.Fatalf("after Clear: %v %v", rc.Events(), rc.Reply())
	}
	if rc.Seq() != 7 || rc.TS() != 0 || !rc.Time().Equal(time.Unix(0, 0)) {
		t.Fatalf("seq %d ts %d time %v", rc.Seq(), rc.TS(), rc.Time())
	}
}

// TestRandPerSeq: within a message Rand is one stream; the same (seed,
// seq) restarts the same stream, another seq or seed gives another one.
func TestRandPerSeq(t *testing.T) {
	ctx := context.Background()
	draw := func(seed, seq uint64) [3]uint64 {
		rc := &foldtest.Context{Context: ctx, Seed: seed, Sequence: seq}
		return [3]uint64{rc.Rand().Uint64(), rc.Rand().Uint64(), rc.Rand().Uint64()}
	}
	d := draw(1, 5)
	if d[0] == d[1] || d[1] == d[2] {
		t.Fatalf("Rand restarted within a message: %v", d)
	}
	if draw(1, 5) != d {
		t.Fatal("same seed and seq gave another stream")
	}
	if draw(1, 6) == d || draw(2, 5) == d {
		t.Fatal("another seq or seed gave the same stream")
	}
	// A reused Context follows its Sequence.
	rc := &foldtest.Context{Context: ctx, Seed: 1, Sequence: 6}
	first := rc.Rand().Uint64()
	rc.Sequence = 5
	if got := rc.Rand().Uint64(); got != d[0] {
		t.Fatalf("after changing Sequence to 5: %d, want %d (first draw of seq 6 was %d)", got, d[0], first)
	}
}
