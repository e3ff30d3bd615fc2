package server_test

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	orderbookv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/orderbook/v1"
	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/orderbook"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/errs"
	"github.com/gokernels/gokernels/server/servertest"
)

// crossingOrders is data message i of a busy book: k orders alternating
// buy and sell at crossing prices, so nearly every order trades against
// the one before (Accepted, Executed fills and OrderState events).
func crossingOrders(i, k int) *anypb.Any {
	in := &orderbookv1.MatchingInput{}
	for j := range k {
		id := uint64(i*k + j + 1)
		side, price := "BUY", int64(1001)
		if id%2 == 0 {
			side, price = "SELL", 999
		}
		in.Messages = append(in.Messages, &orderbookv1.OrderMessage{Msg: &orderbookv1.OrderMessage_Submit{Submit: &orderbookv1.Submit{
			OrderId: id, Symbol: "AAA", TraderId: []string{"a", "b", "c"}[id%3], Side: side, Type: "LIMIT",
			Price: price, Qty: int64(10 + id%7*10), Tif: "GTC", Ts: int64(i)}}})
	}
	a, _ := anypb.New(in)
	return a
}

func bookServer(t *testing.T, opts server.Options) (*server.Server, gokernelsv1.RingServiceClient, string) {
	t.Helper()
	reg := registry.New()
	if err := orderbook.Register(reg); err != nil {
		t.Fatal(err)
	}
	srv := servertest.Start(t, servertest.Config(t, map[string]string{"GOKERNELS_DATA_DIR": t.TempDir()}), reg, opts)
	c := ringClient(t, srv.GRPCAddr())
	cfg, _ := anypb.New(&orderbookv1.MatchingInput{Config: &orderbookv1.MatchingConfig{Symbols: []string{"AAA"}, StpMode: "CANCEL_AGGRESSOR"}})
	r, err := c.CreateRing(context.Background(), &gokernelsv1.CreateRingRequest{KernelId: "orderbook/matching", RingId: "book",
		Durability: gokernelsv1.Durability_DURABILITY_JOURNAL, ConfigurePayload: &gokernelsv1.CreateRingRequest_TypedConfigure{TypedConfigure: cfg}})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, r.GetName()
}

func openSession(t *testing.T, ctx context.Context, c gokernelsv1.RingServiceClient, name, client string) (gokernelsv1.RingService_SessionClient, int) {
	t.Helper()
	ss, err := c.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Open{Open: &gokernelsv1.SessionOpen{Name: name, ClientId: client}}}); err != nil {
		t.Fatal(err)
	}
	m, err := ss.Recv()
	if err != nil {
		t.Fatal(err)
	}
	return ss, int(m.GetOpened().GetCredits())
}

// TestRingSessionManyEventsPerMessage: an order-book Session whose messages
// emit many events each (8 crossing orders: ~25 events) keeps all its
// credits in flight for 1,500 messages and reads at its own pace. The
// events in flight are many times what a ring watcher buffers (the old
// session ended such runs with SLOW_CONSUMER); every message must get its
// reply, after its events, and the session must end only when the client
// closes it.
func TestRingSessionManyEventsPerMessage(t *testing.T) {
	const n, perMsg = 1500, 8
	_, c, name := bookServer(t, server.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	ss, credits := openSession(t, ctx, c, name, "feeder")
	if credits < 64 {
		t.Fatalf("credits %d", credits)
	}
	window := make(chan struct{}, credits)
	type result struct {
		replies, events int
		maxEvents       int
		end             *gokernelsv1.SessionEnd
		err             error
	}
	res := make(chan result, 1)
	go func() {
		var r result
		pending := 0
		next := uint64(1)
		for {
			m, err := ss.Recv()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					r.err = err
				}
				res <- r
				return
			}
			switch {
			case m.GetEvent() != nil:
				if m.GetEvent().GetClientSeq() != next {
					r.err = errors.New("an event for another message arrived before this message's reply")
				}
				pending++
				r.events++
			case m.GetReply() != nil:
				rep := m.GetReply()
				if rep.GetStatus().GetCode() != 0 || rep.GetClientSeq() != next {
					r.err = errors.New("reply " + rep.String())
				}
				r.maxEvents = max(r.maxEvents, pending)
				pending = 0
				next++
				r.replies++
				<-window
			case m.GetEnd() != nil:
				r.end = m.GetEnd()
			}
		}
	}()
	for i := range n {
		window <- struct{}{}
		if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Request{Request: &gokernelsv1.RingRequest{
			ClientSeq: uint64(i + 1), Ts: int64(i), Msg: &gokernelsv1.RingRequest_TypedData{TypedData: crossingOrders(i, perMsg)}}}}); err != nil {
			t.Fatal(err)
		}
	}
	_ = ss.CloseSend()
	r := <-res
	if r.err != nil {
		t.Fatalf("after %d replies: %v", r.replies, r.err)
	}
	if r.replies != n {
		t.Fatalf("%d replies, want %d (end: %v)", r.replies, n, r.end)
	}
	if r.end.GetReason() != gokernelsv1.SessionEnd_REASON_CLIENT_CLOSED {
		t.Fatalf("session ended with %v, want CLIENT_CLOSED", r.end)
	}
	// The run must have been able to overflow the old per-session event
	// buffer (1024 events): credits × events per message well above it.
	if per := r.events / n; per*credits < 4*1024 {
		t.Fatalf("only %d events per message (%d in total): the test no longer stresses event volume", per, r.events)
	}
	t.Logf("%d messages, %d events (%.1f per message, at most %d before one reply), %d credits", n, r.events,
		float64(r.events)/n, r.maxEvents, credits)
}

// TestRingSessionStoppedReaderIsClosed: a client sends its credits' worth
// of busy order-book messages and then stops reading. Its replies fill the
// transport's window, the session's write blocks, and after
// RingSlowConsumerAfter the server closes the session. The ring runs on
// meanwhile: another client's Sends are answered while the stalled session
// is open and after it was closed, and the ring's seq counts every message
// of both once.
func TestRingSessionStoppedReaderIsClosed(t *testing.T) {
	const slowAfter = 400 * time.Millisecond
	_, c, name := bookServer(t, server.Options{RingSlowConsumerAfter: slowAfter})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ss, credits := openSession(t, ctx, c, name, "stalled")
	for i := range credits {
		if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Request{Request: &gokernelsv1.RingRequest{
			ClientSeq: uint64(i + 1), Ts: 0, Msg: &gokernelsv1.RingRequest_TypedData{TypedData: crossingOrders(i, 16)}}}}); err != nil {
			t.Fatal(err)
		}
	}
	// Every stalled message is applied (the ring does not wait for readers).
	for {
		info, err := c.GetRing(ctx, &gokernelsv1.GetRingRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if info.GetSeq() >= uint64(1+credits) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	other := 0
	sendOther := func() {
		t.Helper()
		other++
		rep, err := c.Send(ctx, &gokernelsv1.SendRequest{Name: name, Request: &gokernelsv1.RingRequest{ClientId: "other",
			ClientSeq: uint64(other), Ts: 1, Msg: &gokernelsv1.RingRequest_TypedData{TypedData: crossingOrders(100000+other, 2)}}})
		if err != nil {
			t.Fatalf("the ring stopped answering others while a session stalled: %v", err)
		}
		if rep.GetSeq() == 0 {
			t.Fatalf("reply without seq: %v", rep)
		}
	}
	// While the stalled session is open (it cannot have been closed yet):
	// the ring answers others at once.
	t0 := time.Now()
	for range 20 {
		sendOther()
	}
	if time.Since(t0) > slowAfter {
		t.Logf("the other client's 20 sends took %s (loaded machine)", time.Since(t0))
	}
	// The client now reads again, after the server has had time to cut it
	// off: the stream must end with an error rather than run on, and long
	// before all its replies and events were delivered.
	time.Sleep(3 * slowAfter)
	for range 20 {
		sendOther()
	}
	replies := 0
	var end *gokernelsv1.SessionEnd
	var err error
	for {
		var m *gokernelsv1.SessionResponse
		if m, err = ss.Recv(); err != nil {
			break
		}
		if m.GetReply() != nil {
			replies++
		}
		if m.GetEnd() != nil {
			end = m.GetEnd()
		}
	}
	// The reason reaches the client once it reads: as the SessionEnd when
	// the writer could still send it, else as the stream's status (queued
	// behind the replies the transport already held).
	st := status.Convert(err)
	inBand := end != nil && end.GetReason() == gokernelsv1.SessionEnd_REASON_SLOW_CONSUMER
	if !inBand && (st.Code() != codes.ResourceExhausted || errs.Reason(st) != ring.ReasonSlowConsumer) {
		t.Fatalf("the stalled session ended after %d replies with end %v, status %v; want reason %s", replies, end, err,
			ring.ReasonSlowConsumer)
	}
	if replies >= credits {
		t.Fatalf("the stalled session received all %d replies: its writes never blocked, so the test proves nothing", replies)
	}
	info, gerr := c.GetRing(ctx, &gokernelsv1.GetRingRequest{Name: name})
	if gerr != nil {
		t.Fatal(gerr)
	}
	if info.GetState() != gokernelsv1.RingState_RING_STATE_ACTIVE {
		t.Fatalf("ring state %v", info.GetState())
	}
	// seq 1 is the Configure; every message of both clients applied once.
	if want := uint64(1 + credits + other); info.GetSeq() != want {
		t.Fatalf("ring seq %d, want %d", info.GetSeq(), want)
	}
	sendOther()
	t.Logf("stalled session got %d of %d replies before it was closed (%v, end %v); the other client was answered %d times",
		replies, credits, err, end, other)
}

// TestRingReplyOutputOrderBook: a data message's reply carries the order
// book's answer (fold.Reply): a MatchingOutput with the message's events,
// fills and the resulting state of each order it submitted. Each order's
// state equals its row in the Batch output over the messages so far (the
// Batch engine is the reference); the output follows the request's
// typed_output choice; a retried client_seq gets the same output back.
func TestRingReplyOutputOrderBook(t *testing.T) {
	srv, c, name := bookServer(t, server.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	kc := gokernelsv1.NewKernelServiceClient(conn)
	const n, k = 12, 3
	batch := &orderbookv1.MatchingInput{Config: &orderbookv1.MatchingConfig{Symbols: []string{"AAA"}, StpMode: "CANCEL_AGGRESSOR"}}
	for i := range n {
		data := crossingOrders(i, k)
		rep, err := c.Send(ctx, &gokernelsv1.SendRequest{Name: name, Request: &gokernelsv1.RingRequest{ClientId: "o", ClientSeq: uint64(i + 1),
			Ts: int64(i), TypedOutput: true, Msg: &gokernelsv1.RingRequest_TypedData{TypedData: data}}})
		if err != nil {
			t.Fatal(err)
		}
		out := &orderbookv1.MatchingOutput{}
		if err := rep.GetTypedOutput().UnmarshalTo(out); err != nil {
			t.Fatalf("message %d: typed_output %v: %v", i+1, rep.GetTypedOutput(), err)
		}
		in := &orderbookv1.MatchingInput{}
		_ = data.UnmarshalTo(in)
		batch.Messages = append(batch.Messages, in.GetMessages()...)

		// The reference: the Batch output over every message so far.
		a, _ := anypb.New(batch)
		resp, err := kc.Execute(ctx, &gokernelsv1.ExecuteRequest{KernelId: "orderbook/matching",
			Payload: &gokernelsv1.ExecuteRequest_TypedInput{TypedInput: a}})
		if err != nil {
			t.Fatal(err)
		}
		ref := &orderbookv1.MatchingOutput{}
		if err := resp.GetTypedOutput().UnmarshalTo(ref); err != nil {
			t.Fatal(err)
		}
		rows := map[uint64]*orderbookv1.OrderState{}
		for _, o := range ref.GetOrders() {
			rows[o.GetOrderId()] = o
		}
		if len(out.GetOrders()) != k {
			t.Fatalf("message %d: %d order states, want %d", i+1, len(out.GetOrders()), k)
		}
		for j, o := range out.GetOrders() {
			if id := in.GetMessages()[j].GetSubmit().GetOrderId(); o.GetOrderId() != id || !proto.Equal(o, rows[id]) {
				t.Fatalf("message %d: order %d state %v, Batch row %v", i+1, id, o, rows[o.GetOrderId()])
			}
		}
		// Its events are the tail of the Batch event log; its fills counted.
		tail := ref.GetEvents()[len(ref.GetEvents())-len(out.GetEvents()):]
		fills := uint64(0)
		for j, e := range out.GetEvents() {
			if !proto.Equal(e, tail[j]) {
				t.Fatalf("message %d: event %d %v, Batch %v", i+1, j, e, tail[j])
			}
			if e.GetExecuted() != nil {
				fills++
			}
		}
		if out.GetMatches() != fills || (i > 0 && fills == 0) {
			t.Fatalf("message %d: matches %d, %d Executed events", i+1, out.GetMatches(), fills)
		}

		// A retry: the same output, from the anti-replay window.
		again, err := c.Send(ctx, &gokernelsv1.SendRequest{Name: name, Request: &gokernelsv1.RingRequest{ClientId: "o", ClientSeq: uint64(i + 1),
			Ts: int64(i), TypedOutput: true, Msg: &gokernelsv1.RingRequest_TypedData{TypedData: data}}})
		if err != nil {
			t.Fatal(err)
		}
		if !again.GetDuplicate() || again.GetSeq() != rep.GetSeq() || !proto.Equal(again.GetTypedOutput(), rep.GetTypedOutput()) {
			t.Fatalf("message %d: retry %v, first reply %v", i+1, again, rep)
		}
	}
	// JSON-shaped when typed_output is not asked for.
	rep, err := c.Send(ctx, &gokernelsv1.SendRequest{Name: name, Request: &gokernelsv1.RingRequest{ClientId: "o", ClientSeq: n + 1,
		Ts: n, Msg: &gokernelsv1.RingRequest_TypedData{TypedData: crossingOrders(1000, 1)}}})
	if err != nil {
		t.Fatal(err)
	}
	orders := rep.GetOutput().GetFields()["orders"].GetListValue().GetValues()
	if rep.GetTypedOutput() != nil || len(orders) != 1 ||
		orders[0].GetStructValue().GetFields()["order_id"].GetNumberValue() != 1001 {
		t.Fatalf("JSON-shaped reply output: %v", rep)
	}
}

// TestRingSessionJournalFailureAnswersEveryRequest: when the journal's
// fsync fails, every request the session had in flight is answered
// UNAVAILABLE (never acknowledged) before the SessionEnd RING_FAILED — the
// end must not overtake the replies owed.
func TestRingSessionJournalFailureAnswersEveryRequest(t *testing.T) {
	// The failing fsync is held until the server has taken every request
	// of the test, so all of them are in flight when the ring fails.
	var failSync atomic.Bool
	hold := make(chan struct{})
	_, c, name := bookServer(t, server.Options{RingJournalFault: func(op string) error {
		if op == "sync" && failSync.Load() {
			<-hold
			return syscall.EIO
		}
		return nil
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ss, credits := openSession(t, ctx, c, name, "w")
	if credits < 8 {
		t.Fatalf("credits %d", credits)
	}
	// One message acknowledged normally first.
	send := func(seq int) {
		t.Helper()
		if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Request{Request: &gokernelsv1.RingRequest{
			ClientId: "w", ClientSeq: uint64(seq), Ts: int64(seq), Msg: &gokernelsv1.RingRequest_TypedData{TypedData: crossingOrders(seq, 2)}}}}); err != nil {
			t.Fatal(err)
		}
	}
	replies := map[uint64]*gokernelsv1.RingReply{}
	recvReply := func() (*gokernelsv1.SessionResponse, error) {
		for {
			m, err := ss.Recv()
			if err != nil || m.GetEvent() == nil {
				return m, err
			}
		}
	}
	send(1)
	m, err := recvReply()
	if err != nil || m.GetReply().GetStatus().GetCode() != 0 {
		t.Fatalf("first reply: %v %v", m, err)
	}
	failSync.Store(true)
	const n = 8
	for i := 2; i < 2+n; i++ {
		send(i)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		r, err := c.GetRing(ctx, &gokernelsv1.GetRingRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if r.GetSeq()+uint64(r.GetMailboxDepth()) >= 2+n { // seq 1 is the create, 2 the first message
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not take the %d requests: %v", n, r)
		}
	}
	close(hold)
	var end *gokernelsv1.SessionEnd
	for end == nil {
		m, err := recvReply()
		if err != nil {
			t.Fatalf("stream ended without SessionEnd after %d replies: %v", len(replies), err)
		}
		if r := m.GetReply(); r != nil {
			replies[r.GetClientSeq()] = r
		}
		end = m.GetEnd()
	}
	if end.GetReason() != gokernelsv1.SessionEnd_REASON_RING_FAILED {
		t.Fatalf("end %v", end)
	}
	for i := 2; i < 2+n; i++ {
		r := replies[uint64(i)]
		if r == nil {
			t.Fatalf("client_seq %d: no reply before the SessionEnd (got %d replies)", i, len(replies))
		}
		// The batch whose fsync failed (and any queued behind it) is answered
		// UNAVAILABLE; what arrives after the ring is FAILED is refused
		// FAILED_PRECONDITION. Nothing is acknowledged.
		switch c := codes.Code(r.GetStatus().GetCode()); {
		case i == 2 && c != codes.Unavailable, c != codes.Unavailable && c != codes.FailedPrecondition:
			t.Fatalf("client_seq %d acknowledged or wrong code after a failed fsync: %v", i, r.GetStatus())
		}
	}
}
