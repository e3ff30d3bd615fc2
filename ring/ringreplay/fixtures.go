package ringreplay

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// Case is one fixture case replayed through a ring: its Batch output and
// the ring's Snapshot after the case's input was fed as data messages.
type Case struct {
	fixture.Case
	Input        proto.Message
	Batch, Ring  proto.Message
	DataMessages int
}

// Fixtures is the replay law on a kernel's reference fixtures: every case
// of testdata/fixtures/<id>.json that succeeds as Batch and splits into at
// least two data messages goes through Run (a JOURNAL ring, then the
// byte-identical journal rebuild), and the ring's Snapshot must pass the
// case's expectations with the case's own tolerances — the check the Batch
// output passes — so an incremental handler may differ from Batch only
// within the fixture's documented tolerance. It fails t when no case ran
// and returns the cases for kernel-specific checks (exact equality, say).
func Fixtures(t *testing.T, reg *registry.Registry, id string) []Case {
	t.Helper()
	cases := Replay(t, reg, id)
	for _, c := range cases {
		st, err := jsoninput.ToStruct(c.Ring)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Strict(st.AsMap()); err != nil {
			t.Errorf("%s %s: ring snapshot against the fixture: %v\nbatch %.400s\nring  %.400s",
				id, c.Name, err, prototext.Format(c.Batch), prototext.Format(c.Ring))
		}
	}
	return cases
}

// Replay is Fixtures without the comparison with the fixture: for a
// kernel whose ring documents its own tolerance against Batch (a warm
// PageRank), which its test then checks on the returned cases.
func Replay(t *testing.T, reg *registry.Registry, id string) []Case {
	t.Helper()
	k, ok := reg.Get(id)
	if !ok {
		t.Fatalf("%s is not registered", id)
	}
	h, ok := k.RingHandler()
	if !ok {
		t.Fatalf("%s has no ring handler", id)
	}
	f := fixture.Kernel(t, k.Prefix(), strings.TrimPrefix(id, k.Prefix()+"/"))
	var out []Case
	for _, c := range f.Cases {
		if c.ErrorField != "" {
			continue
		}
		in := k.NewInput()
		if err := jsoninput.Decode(c.Input, in); err != nil {
			t.Fatalf("%s: decode: %v", c.Name, err)
		}
		want, err := k.Run(context.Background(), in)
		if err != nil {
			t.Fatalf("%s: batch: %v", c.Name, err)
		}
		_, msgs := h.Split(in)
		if len(msgs) < 2 {
			continue // a one-message input is no stream
		}
		got, _ := Run(t, reg, id, in)
		out = append(out, Case{Case: c, Input: in, Batch: want, Ring: got, DataMessages: len(msgs)})
	}
	if len(out) == 0 {
		t.Fatalf("%s: no fixture case ran through the ring", id)
	}
	return out
}

// RoundTrip feeds in's Split messages to h directly, then checks that
// MarshalState → UnmarshalState into a fresh handler (fresh()) restores
// an equal state (equal bytes) with an equal Snapshot. It returns the
// Snapshot.
func RoundTrip(t testing.TB, h fold.Handler, fresh func() fold.Handler, in proto.Message) proto.Message {
	t.Helper()
	ctx := context.Background()
	cfg, msgs := h.Split(in)
	if err := h.Configure(ctx, cfg); err != nil {
		t.Fatalf("configure: %v", err)
	}
	for i, m := range msgs {
		if err := h.Apply(NewContext(uint64(i+1), int64(i)), m); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	state, err := h.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	h2 := fresh()
	if err := h2.UnmarshalState(state); err != nil {
		t.Fatalf("unmarshal state: %v", err)
	}
	again, err := h2.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(state, again) {
		t.Fatalf("state changes in a round trip:\n%.300s\n%.300s", state, again)
	}
	a, err := h.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := h2.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(a, b) {
		t.Fatalf("snapshot after a state round trip differs:\n%.300s\n%.300s", prototext.Format(a), prototext.Format(b))
	}
	return a
}

// Context is the fold.Context for calling handlers directly in tests and
// benchmarks: foldtest's, kept under this name for its callers.
type Context = foldtest.Context

// NewContext returns a Context for message seq at ts.
func NewContext(seq uint64, ts int64) *Context {
	return &foldtest.Context{Context: context.Background(), Sequence: seq, Timestamp: ts}
}

// BenchApply measures one handler's Apply after prior data messages: it
// configures h with cfg, applies msg(0..prior-1) untimed, then times b.N
// more (msg(prior), msg(prior+1), ...). Comparing prior = 10k with 100k in
// one run shows whether Apply's cost grows with the history.
func BenchApply(b *testing.B, h fold.Handler, cfg proto.Message, prior int, msg func(i int) proto.Message) {
	b.Helper()
	if err := h.Configure(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	rc := NewContext(0, 0)
	// at moves rc to the next message; Clear keeps the events' array, so
	// the timed loop allocates nothing for them.
	at := func(seq uint64, ts int64) *Context {
		rc.Clear()
		rc.Sequence, rc.Timestamp = seq, ts
		return rc
	}
	for i := range prior {
		if err := h.Apply(at(uint64(i+1), int64(i)), msg(i)); err != nil {
			b.Fatal(err)
		}
	}
	msgs := make([]proto.Message, b.N)
	for i := range msgs {
		msgs[i] = msg(prior + i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i, m := range msgs {
		if err := h.Apply(at(uint64(prior+i+1), int64(prior+i)), m); err != nil {
			b.Fatal(err)
		}
	}
}
