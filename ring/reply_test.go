package ring

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	testingv1 "github.com/gokernels/gokernels/gen/gokernels/testing/v1"
)

func replyData(b float64) *testingv1.EchoInput {
	return &testingv1.EchoInput{Scale: proto.Float64(0), Pairs: []*testingv1.Pair{{A: 1, B: b}}}
}

// TestReplyOutput: a handler's fold.Reply is the data message's reply
// output; a retry gets the same output back from the anti-replay window,
// before and after a crash — from the snapshot (seqs it covers) and from
// the journal replay that recomputes it (seqs after it) — and the
// recovered state, windows included, is byte for byte the live one.
func TestReplyOutput(t *testing.T) {
	dir := t.TempDir()
	rt := newRuntime(t, dir, func(o *Options) { o.SnapshotEvery = 7 })
	r, err := rt.Create(context.Background(), "acme", "out", sumID, Config{Durability: Journal}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]*testingv1.EchoOutput{}
	sum := 0.0
	for i := 1; i <= 10; i++ {
		sum += float64(i)
		rep := send(t, r, Message{Kind: KindData, ClientID: "c", ClientSeq: uint64(i), TS: int64(i), Payload: replyData(float64(i))})
		out, ok := rep.Output.(*testingv1.EchoOutput)
		if rep.Err != nil || !ok || out.GetCount() != int32(i) || out.GetScale() != sum {
			t.Fatalf("message %d: reply %+v, want count %d and sum %v", i, rep, i, sum)
		}
		want[uint64(i)] = out
	}
	// A message whose handler sets no output has none.
	if rep := send(t, r, Message{Kind: KindData, ClientID: "c", ClientSeq: 11, TS: 11, Payload: data(1)}); rep.Output != nil {
		t.Fatalf("plain message got output %v", rep.Output)
	}
	retry := func(r *Ring, cs uint64) {
		t.Helper()
		rep := send(t, r, Message{Kind: KindData, ClientID: "c", ClientSeq: cs, TS: 99, Payload: replyData(1000)})
		if !rep.Duplicate || rep.Err != nil || rep.Seq != cs || !proto.Equal(rep.Output, want[cs]) {
			t.Fatalf("retry of %d: %+v, want duplicate with output %v", cs, rep, want[cs])
		}
	}
	retry(r, 5)
	live, _ := r.stateBytes(t)
	if !bytes.Contains(live, []byte(`"out":`)) {
		t.Fatal("the snapshot does not keep the reply outputs")
	}
	crash(r)

	rt2 := newRuntime(t, dir, nil)
	r2, err := rt2.Get("acme", "out")
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Load(); err != nil {
		t.Fatal(err)
	}
	if got, _ := r2.stateBytes(t); !bytes.Equal(got, live) {
		t.Fatalf("recovered state differs from the live one:\n%s\n%s", got, live)
	}
	retry(r2, 3) // covered by the snapshot at seq 7
	retry(r2, 9) // recomputed by the journal replay
	if out := snapshotOut(t, r2); out.GetCount() != 11 {
		t.Fatalf("retries were applied: %v", out)
	}
}

// TestReplyOutputByteCaps: outputs kept for retries are bounded per output,
// per client and in total; a retry whose output was dropped is told so
// rather than given an empty success.
func TestReplyOutputByteCaps(t *testing.T) {
	d := newDedup()
	out := func(n int) cachedReply { return cachedReply{Out: bytes.Repeat([]byte{1}, n)} }
	d.mark("a", 1, 1, out(maxOutputBytes+1))
	if c, _ := d.reply("a", 1); c.Out != nil || !c.Dropped {
		t.Fatalf("an output over %d bytes was kept", maxOutputBytes)
	}
	n := clientOutputBytes / (8 << 10)
	for i := 2; i <= n+3; i++ {
		d.mark("a", uint64(i), uint64(i), out(8<<10))
	}
	if c, _ := d.reply("a", 2); c.Out != nil || !c.Dropped {
		t.Fatal("the client's oldest output was kept past its byte cap")
	}
	if c, _ := d.reply("a", uint64(n+3)); len(c.Out) != 8<<10 {
		t.Fatal("the newest output was not kept")
	}
	if w := d.clients["a"]; w.outBytes > clientOutputBytes || d.outBytes != w.outBytes {
		t.Fatalf("client holds %d bytes (cap %d), total %d", w.outBytes, clientOutputBytes, d.outBytes)
	}
	// The total cap: many clients each under their own cap.
	for c := 0; d.outBytes+maxOutputBytes <= totalOutputBytes; c++ {
		d.mark("c"+strings.Repeat("x", c%7)+string(rune('a'+c%26))+string(rune('a'+c/26%26))+string(rune('a'+c/676%26)), 1, uint64(c), out(maxOutputBytes))
	}
	d.mark("last", 1, 1, out(maxOutputBytes))
	if c, _ := d.reply("last", 1); c.Out != nil || !c.Dropped || d.outBytes > totalOutputBytes {
		t.Fatalf("total %d bytes, cap %d: a new output was kept past it", d.outBytes, totalOutputBytes)
	}
	// Bytes are given back when a client is evicted and recounted on load.
	total := d.outBytes
	d2 := newDedup()
	d2.load(d.list())
	if d2.outBytes != total {
		t.Fatalf("reloaded windows count %d output bytes, want %d", d2.outBytes, total)
	}
}

// TestDuplicateOfDroppedOutput: the runtime answers a retry whose output is
// no longer kept with ALREADY_EXISTS, not an OK without its output.
func TestDuplicateOfDroppedOutput(t *testing.T) {
	rt := newRuntime(t, "", nil)
	r, err := rt.Create(context.Background(), "acme", "drop", sumID, Config{Durability: None}, nil)
	if err != nil {
		t.Fatal(err)
	}
	send(t, r, Message{Kind: KindData, ClientID: "c", ClientSeq: 1, TS: 1, Payload: replyData(1)})
	if err := r.do(context.Background(), func() error {
		w := r.dd.clients["c"]
		w.Replies[0].Out, w.Replies[0].Dropped = nil, true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rep := send(t, r, Message{Kind: KindData, ClientID: "c", ClientSeq: 1, TS: 1, Payload: replyData(1)})
	if !rep.Duplicate || rep.Err == nil || rep.Err.Reason != ReasonDuplicate || rep.Output != nil {
		t.Fatalf("retry of a reply whose output was dropped: %+v", rep)
	}
}
