package crashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	orderbookv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/orderbook/v1"
	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/server/jsoninput"
)

// order is one generated order-book message, kept in a form that renders
// both as the proto the ring receives and as the JSON the Python reference
// engine (scripts/fixtures/markets_orderbook.py --replay) reads.
type order struct {
	kind                     string // submit | cancel | modify
	id                       uint64
	symbol, trader, side, tp string
	tif                      string
	price, qty, ts           int64
}

func (o order) json() map[string]any {
	switch o.kind {
	case "cancel":
		return map[string]any{"cancel": map[string]any{"order_id": o.id, "ts": o.ts}}
	case "modify":
		return map[string]any{"modify": map[string]any{"order_id": o.id, "qty": o.qty, "price": o.price, "ts": o.ts}}
	}
	return map[string]any{"submit": map[string]any{"order_id": o.id, "symbol": o.symbol, "trader_id": o.trader,
		"side": o.side, "type": o.tp, "price": o.price, "qty": o.qty, "tif": o.tif, "ts": o.ts}}
}

func (o order) proto() *orderbookv1.OrderMessage {
	switch o.kind {
	case "cancel":
		return &orderbookv1.OrderMessage{Msg: &orderbookv1.OrderMessage_Cancel{Cancel: &orderbookv1.Cancel{OrderId: o.id, Ts: o.ts}}}
	case "modify":
		return &orderbookv1.OrderMessage{Msg: &orderbookv1.OrderMessage_Modify{Modify: &orderbookv1.Modify{OrderId: o.id, Qty: o.qty,
			Price: proto.Int64(o.price), Ts: o.ts}}}
	}
	return &orderbookv1.OrderMessage{Msg: &orderbookv1.OrderMessage_Submit{Submit: &orderbookv1.Submit{OrderId: o.id, Symbol: o.symbol,
		TraderId: o.trader, Side: o.side, Type: o.tp, Price: o.price, Qty: o.qty, Tif: o.tif, Ts: o.ts}}}
}

// orders is a deterministic stream around a mid of 1000 on two symbols:
// 70 % limit orders (a few IOC, FOK or DAY; some replaced later), 20 %
// cancels of earlier ids (some already gone: rejected), 10 % market
// orders, 20 traders so self-trade prevention fires.
func orders(n int) []order {
	x := uint64(7)
	next := func(k uint64) uint64 {
		x = x*6364136223846793005 + 1442695040888963407
		return (x >> 33) % k
	}
	var out []order
	var nid uint64
	for i := range n {
		ts := int64(i)
		u := next(100)
		switch {
		case u < 70 || nid == 0:
			nid++
			side := []string{"BUY", "SELL"}[next(2)]
			off := int64(next(13)) - 6
			price := 1000 - off*2
			if side == "SELL" {
				price = 1000 + off*2
			}
			tif := []string{"GTC", "GTC", "GTC", "GTC", "IOC", "FOK", "DAY"}[next(7)]
			o := order{kind: "submit", id: nid, symbol: []string{"AAA", "BBB"}[next(2)], trader: "t" + string(rune('a'+next(20))),
				side: side, tp: "LIMIT", tif: tif, price: price, qty: int64(1+next(20)) * 10, ts: ts}
			if u < 5 && nid > 1 { // a replace of an earlier order instead
				o = order{kind: "modify", id: 1 + next(nid-1), qty: int64(1+next(20)) * 10, price: 1000 + (int64(next(13))-6)*2, ts: ts}
				nid--
			}
			out = append(out, o)
		case u < 90:
			out = append(out, order{kind: "cancel", id: 1 + next(nid), ts: ts})
		default:
			nid++
			out = append(out, order{kind: "submit", id: nid, symbol: []string{"AAA", "BBB"}[next(2)], trader: "t" + string(rune('a'+next(20))),
				side: []string{"BUY", "SELL"}[next(2)], tp: "MARKET", tif: "IOC", qty: int64(1+next(30)) * 10, ts: ts})
		}
	}
	return out
}

var bookConfig = &orderbookv1.MatchingConfig{Symbols: []string{"AAA", "BBB"}, StpMode: "CANCEL_AGGRESSOR"}

// reference runs the Python SortedDict engine over msgs. Without Debian's
// python3-sortedcontainers it returns nil and the caller says so.
func reference(t *testing.T, msgs []order) *orderbookv1.MatchingOutput {
	t.Helper()
	js := make([]map[string]any, len(msgs))
	for i, m := range msgs {
		js[i] = m.json()
	}
	in, _ := json.Marshal(map[string]any{"config": map[string]any{"symbols": bookConfig.Symbols, "stp_mode": bookConfig.StpMode}, "messages": js})
	cmd := exec.Command("/usr/bin/python3", "../../scripts/fixtures/markets_orderbook.py", "--replay")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Logf("Python reference engine unavailable (%v: %s)", err, stderr.String())
		return nil
	}
	out := &orderbookv1.MatchingOutput{}
	if err := jsoninput.Decode(b, out); err != nil {
		t.Fatalf("decoding the Python engine's output: %v", err)
	}
	return out
}

func bookSnapshot(t *testing.T, p *proc, name string) *orderbookv1.MatchingOutput {
	t.Helper()
	rep, err := gokernelsv1.NewRingServiceClient(p.conn).Send(context.Background(), &gokernelsv1.SendRequest{Name: name,
		Request: &gokernelsv1.RingRequest{TypedOutput: true, Msg: &gokernelsv1.RingRequest_Snapshot{Snapshot: &gokernelsv1.SnapshotControl{}}}})
	if err != nil {
		t.Fatal(err)
	}
	out := &orderbookv1.MatchingOutput{}
	if err := rep.GetTypedOutput().UnmarshalTo(out); err != nil {
		t.Fatal(err)
	}
	return out
}

// bookBatch is the Batch twin over msgs (the fallback reference).
func bookBatch(t *testing.T, p *proc, msgs []order) *orderbookv1.MatchingOutput {
	t.Helper()
	in := &orderbookv1.MatchingInput{Config: bookConfig}
	for _, m := range msgs {
		in.Messages = append(in.Messages, m.proto())
	}
	a, _ := anypb.New(in)
	resp, err := gokernelsv1.NewKernelServiceClient(p.conn).Execute(context.Background(), &gokernelsv1.ExecuteRequest{
		KernelId: "orderbook/matching", Payload: &gokernelsv1.ExecuteRequest_TypedInput{TypedInput: a}})
	if err != nil {
		t.Fatal(err)
	}
	out := &orderbookv1.MatchingOutput{}
	if err := resp.GetTypedOutput().UnmarshalTo(out); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameBook compares the ring's state with the reference over the same
// messages: the event log, every order row, the L2 book and the match count.
func sameBook(t *testing.T, what string, got, want *orderbookv1.MatchingOutput) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Fatalf("%s: ring state differs from the reference\nring %.800s\nref  %.800s", what, prototext.Format(got), prototext.Format(want))
	}
}

// streamOrders sends msgs[from-1:] with client_seq from.. over one Session
// and returns the replies by client_seq; kill runs once killAfter replies
// came.
func streamOrders(t *testing.T, p *proc, name string, msgs []order, from, killAfter int, kill func()) map[uint64]*gokernelsv1.RingReply {
	t.Helper()
	data := make([]*anypb.Any, len(msgs))
	for i, m := range msgs {
		data[i], _ = anypb.New(&orderbookv1.MatchingInput{Messages: []*orderbookv1.OrderMessage{m.proto()}})
	}
	return streamAny(t, p, name, data, from, killAfter, kill)
}

// TestKillMidOrderStream: kill -9 the server while a JOURNAL order-book
// ring receives 3000 orders, restart on the same directory. The book then
// equals the Python SortedDict engine's over exactly the journaled prefix,
// which holds every acknowledged message; retrying from before the last
// reply applies nothing twice, and the final book equals the Python
// engine's over the whole stream.
func TestKillMidOrderStream(t *testing.T) {
	const n, killAfter = 3000, 1200
	msgs := orders(n)
	dataDir := t.TempDir()
	p := start(t, dataDir)
	cfg, _ := anypb.New(&orderbookv1.MatchingInput{Config: bookConfig})
	r, err := gokernelsv1.NewRingServiceClient(p.conn).CreateRing(context.Background(), &gokernelsv1.CreateRingRequest{
		KernelId: "orderbook/matching", RingId: "book", Durability: gokernelsv1.Durability_DURABILITY_JOURNAL, SnapshotEvery: 500,
		ConfigurePayload: &gokernelsv1.CreateRingRequest_TypedConfigure{TypedConfigure: cfg}})
	if err != nil {
		t.Fatal(err)
	}
	// One session to the kill: a session that reads its replies is never
	// cut off, however many events each order emits.
	replies := streamOrders(t, p, r.GetName(), msgs, 1, killAfter, func() { _ = p.cmd.Process.Kill() })
	acked := 0
	for cs := uint64(1); replies[cs] != nil; cs++ {
		if replies[cs].GetStatus().GetCode() != 0 {
			t.Fatalf("reply %d: %v", cs, replies[cs].GetStatus())
		}
		acked = int(cs)
	}
	_ = p.cmd.Wait()
	if acked < killAfter {
		t.Fatalf("acknowledged %d before the kill, want %d", acked, killAfter)
	}

	p2 := start(t, dataDir)
	info, err := gokernelsv1.NewRingServiceClient(p2.conn).GetRing(context.Background(), &gokernelsv1.GetRingRequest{Name: r.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	applied := int(info.GetSeq()) - 1 // seq 1 is the Configure
	if applied < acked {
		t.Fatalf("after restart the ring holds %d orders; %d were acknowledged", applied, acked)
	}
	ref := "the Python SortedDict engine"
	want := reference(t, msgs[:applied])
	if want == nil {
		ref = "the Batch twin (Python unavailable; the fixtures tie it to the Python engine)"
		want = bookBatch(t, p2, msgs[:applied])
	}
	sameBook(t, "after restart", bookSnapshot(t, p2, r.GetName()), want)

	retry := streamOrders(t, p2, r.GetName(), msgs, acked-100, 0, nil)
	dups := 0
	for cs := acked - 100; cs <= n; cs++ {
		rep := retry[uint64(cs)]
		if rep == nil || (rep.GetStatus().GetCode() != 0 && !(rep.GetDuplicate() && rep.GetStatus().GetCode() == 6)) {
			t.Fatalf("retry %d: %v", cs, rep)
		}
		// Exactly the journaled prefix is answered from the anti-replay
		// window; everything after it is applied now, once.
		if rep.GetDuplicate() != (cs <= applied) {
			t.Fatalf("retry %d: duplicate=%v, journaled before the kill: %v", cs, rep.GetDuplicate(), cs <= applied)
		}
		if rep.GetDuplicate() {
			dups++
		}
	}
	info, _ = gokernelsv1.NewRingServiceClient(p2.conn).GetRing(context.Background(), &gokernelsv1.GetRingRequest{Name: r.GetName()})
	if int(info.GetSeq()) != n+1 {
		t.Fatalf("ring seq %d after the retries, want %d: something was applied twice or lost", info.GetSeq(), n+1)
	}
	final := reference(t, msgs)
	if final == nil {
		final = bookBatch(t, p2, msgs)
	}
	sameBook(t, "after the retries", bookSnapshot(t, p2, r.GetName()), final)
	t.Logf("killed after %d acknowledged replies; %d orders were journaled (all acknowledged ones present) and the "+
		"book equals %s over them; %d retries answered as duplicates; final book equals it over all %d", acked, applied, ref, dups, n)
}
