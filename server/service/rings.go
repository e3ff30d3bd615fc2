package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring"
	"github.com/gokernels/gokernels/server/errs"
	"github.com/gokernels/gokernels/server/jsoninput"
	"github.com/gokernels/gokernels/server/reqinfo"
)

// Rings implements RingService over a ring.Runtime. A caller sees only the
// rings of its own tenant (the principal's; "default" without auth).
type Rings struct {
	gokernelsv1.UnimplementedRingServiceServer
	Runtime *ring.Runtime
	// SlowConsumerAfter: a session write blocked this long closes the
	// session with SLOW_CONSUMER (DefaultSlowConsumerAfter when 0).
	SlowConsumerAfter time.Duration
}

// DefaultTenant owns the rings of unauthenticated callers.
const DefaultTenant = "default"

func tenantOf(ctx context.Context) string {
	if t := reqinfo.From(ctx).Tenant; t != "" {
		return t
	}
	return DefaultTenant
}

// lookup resolves a ring name within the caller's tenant. Another tenant's
// ring is reported as not found, so names do not leak across tenants.
func (s *Rings) lookup(ctx context.Context, name string) (*ring.Ring, error) {
	tenant, id, ok := ring.ParseName(name)
	if !ok {
		return nil, errs.InvalidFields("invalid ring name", errs.Field("name", "must be tenants/{tenant}/rings/{ring_id}"))
	}
	if tenant != tenantOf(ctx) {
		return nil, status.Errorf(codes.NotFound, "ring %s not found", name)
	}
	return s.Runtime.Get(tenant, id)
}

// CreateRing implements RingService.
func (s *Rings) CreateRing(ctx context.Context, req *gokernelsv1.CreateRingRequest) (*gokernelsv1.Ring, error) {
	k, ok := s.Runtime.Registry().Get(req.GetKernelId())
	if !ok {
		return nil, notFound(req.GetKernelId())
	}
	var configure proto.Message
	switch p := req.GetConfigurePayload().(type) {
	case *gokernelsv1.CreateRingRequest_Configure:
		m, err := decodeStruct(k, p.Configure, "configure")
		if err != nil {
			return nil, err
		}
		configure = m
	case *gokernelsv1.CreateRingRequest_TypedConfigure:
		m, err := decodeAny(k, p.TypedConfigure, "typed_configure")
		if err != nil {
			return nil, err
		}
		configure = m
	}
	id := req.GetRingId()
	if id == "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		id = "r-" + hex.EncodeToString(b)
	}
	r, err := s.Runtime.Create(ctx, tenantOf(ctx), id, k.ID, ring.Config{
		Durability:      ring.Durability(req.GetDurability()),
		MailboxCapacity: int(req.GetMailboxCapacity()),
		SnapshotEvery:   int(req.GetSnapshotEvery()),
		Seed:            req.GetSeed(),
	}, configure)
	if err != nil {
		return nil, err
	}
	return ringInfo(r), nil
}

// GetRing implements RingService. A passivated ring is loaded, so the
// answer shows its recovered seq.
func (s *Rings) GetRing(ctx context.Context, req *gokernelsv1.GetRingRequest) (*gokernelsv1.Ring, error) {
	r, err := s.lookup(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if err := r.Load(); err != nil {
		return nil, err
	}
	return ringInfo(r), nil
}

// ListRings implements RingService.
func (s *Rings) ListRings(ctx context.Context, _ *gokernelsv1.ListRingsRequest) (*gokernelsv1.ListRingsResponse, error) {
	resp := &gokernelsv1.ListRingsResponse{}
	for _, in := range s.Runtime.List(tenantOf(ctx)) {
		r, err := s.Runtime.Get(in.Tenant, in.ID)
		if err != nil {
			continue // deleted meanwhile
		}
		resp.Rings = append(resp.Rings, ringInfo(r))
	}
	return resp, nil
}

// DeleteRing implements RingService.
func (s *Rings) DeleteRing(ctx context.Context, req *gokernelsv1.DeleteRingRequest) (*gokernelsv1.DeleteRingResponse, error) {
	r, err := s.lookup(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if err := s.Runtime.Delete(r.Tenant, r.ID); err != nil {
		return nil, err
	}
	return &gokernelsv1.DeleteRingResponse{}, nil
}

// SnapshotRing implements RingService.
func (s *Rings) SnapshotRing(ctx context.Context, req *gokernelsv1.SnapshotRingRequest) (*gokernelsv1.SnapshotRingResponse, error) {
	r, err := s.lookup(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	data, seq, err := r.SnapshotNow(ctx)
	if err != nil {
		return nil, err
	}
	return &gokernelsv1.SnapshotRingResponse{Seq: seq, Data: data}, nil
}

// RestoreRing implements RingService.
func (s *Rings) RestoreRing(ctx context.Context, req *gokernelsv1.RestoreRingRequest) (*gokernelsv1.Ring, error) {
	r, err := s.lookup(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if err := r.Restore(ctx, req.GetData()); err != nil {
		return nil, err
	}
	return ringInfo(r), nil
}

// PauseRing implements RingService.
func (s *Rings) PauseRing(ctx context.Context, req *gokernelsv1.PauseRingRequest) (*gokernelsv1.Ring, error) {
	r, err := s.lookup(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if err := r.Pause(); err != nil {
		return nil, err
	}
	return ringInfo(r), nil
}

// ResumeRing implements RingService.
func (s *Rings) ResumeRing(ctx context.Context, req *gokernelsv1.ResumeRingRequest) (*gokernelsv1.Ring, error) {
	r, err := s.lookup(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if err := r.Resume(); err != nil {
		return nil, err
	}
	return ringInfo(r), nil
}

// Send implements RingService.
func (s *Rings) Send(ctx context.Context, req *gokernelsv1.SendRequest) (*gokernelsv1.RingReply, error) {
	r, err := s.lookup(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	info := reqinfo.From(ctx)
	info.KernelID = r.KernelID()
	m, f, err := message(r.Kernel(), req.GetRequest(), "")
	if err != nil {
		return nil, err
	}
	rep, err := r.Send(ctx, m)
	if err != nil {
		return nil, err
	}
	if rep.Err != nil {
		return nil, rep.Err
	}
	return reply(rep, f)
}

// Watch implements RingService.
func (s *Rings) Watch(req *gokernelsv1.WatchRequest, stream grpc.ServerStreamingServer[gokernelsv1.RingEvent]) error {
	ctx := stream.Context()
	r, err := s.lookup(ctx, req.GetName())
	if err != nil {
		return err
	}
	w, err := r.Watch(req.GetAfterSeq(), req.AfterSeq != nil)
	if err != nil {
		return err
	}
	defer w.Close()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.C:
			if !ok {
				return endStatus(w.Reason())
			}
			if err := stream.Send(event(r.Kernel(), e, req.GetTypedEvents())); err != nil {
				return err
			}
		}
	}
}

// endStatus is the status a watch ends with.
func endStatus(why ring.EndReason) error {
	switch why {
	case ring.EndDraining:
		return errs.WithReason(codes.Unavailable, errs.ReasonDraining, "the server is draining; reconnect with after_seq", 0)
	case ring.EndDeleted:
		return status.Error(codes.NotFound, "the ring was deleted")
	case ring.EndIdleEvicted:
		return errs.WithReason(codes.Unavailable, ring.ReasonEvicted, "the ring was passivated after being idle; reconnect with after_seq", 0)
	case ring.EndFailed:
		return errs.WithReason(codes.FailedPrecondition, ring.ReasonFailed, "the ring FAILED", 0)
	case ring.EndSlowConsumer:
		return errs.WithReason(codes.ResourceExhausted, ring.ReasonSlowConsumer, "the watcher read too slowly and fell "+
			"behind the ring; reconnect with after_seq", 0)
	}
	return nil
}

// sessionCredits bounds a session's requests in flight.
const sessionCredits = 256

// DefaultSlowConsumerAfter is how long a session's write may stay blocked
// (the client has stopped reading and the transport's window is full)
// before the session is closed with SLOW_CONSUMER.
const DefaultSlowConsumerAfter = 10 * time.Second

// endGrace is how long a session that must end is given to write its
// SessionEnd before the stream is closed with the end's status instead.
const endGrace = 500 * time.Millisecond

// Session implements RingService: requests in, events and replies out in
// apply order, credit-based flow control.
//
// What the client has to read is bounded by what it asked for: one reply
// (with the events its message emitted) per credited request, so a client
// that keeps up with its own replies is never cut off however many events
// a message emits. Only watch=true adds other clients' events, up to the
// ring's watcher buffer. A client that stops reading is closed with
// SLOW_CONSUMER when a write has been blocked for SlowConsumerAfter (or its
// watch fell a buffer behind), while the ring runs on.
func (s *Rings) Session(stream grpc.BidiStreamingServer[gokernelsv1.SessionRequest, gokernelsv1.SessionResponse]) error {
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	open := first.GetOpen()
	if open == nil {
		return errs.InvalidFields("the first session message must be open", errs.Field("open", "is required first"))
	}
	r, err := s.lookup(ctx, open.GetName())
	if err != nil {
		return err
	}
	// Without watch the session follows only the ring's end; with it, the
	// other clients' events (its own come with its replies).
	w, err := r.Subscribe(ring.WatchOptions{EndOnly: !open.GetWatch(), SkipClient: open.GetClientId()})
	if err != nil {
		return err
	}
	defer w.Close()
	credits := min(sessionCredits, r.Info().MailboxCap)
	sess := &session{out: make(chan outBundle, credits+64), credits: credits, stop: make(chan struct{})}
	if err := stream.Send(&gokernelsv1.SessionResponse{Kind: &gokernelsv1.SessionResponse_Opened{
		Opened: &gokernelsv1.SessionOpened{Ring: ringInfo(r), Credits: uint32(credits)}}}); err != nil {
		return err
	}

	// Reader: requests go to the ring; refusals are answered at once.
	recvErr := make(chan error, 1)
	go func() {
		for {
			in, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			rq := in.GetRequest()
			if rq == nil {
				sess.push(outBundle{refusal: refusal(rq, errs.InvalidFields("only the first session message may be open", errs.Field("request", "is required")))})
				continue
			}
			if rq.GetClientId() == "" {
				rq.ClientId = open.GetClientId()
			}
			if !sess.take() {
				sess.push(outBundle{refusal: refusal(rq, errs.WithReason(codes.ResourceExhausted, ring.ReasonMailboxFull,
					fmt.Sprintf("no credit: at most %d requests may be in flight on a session", credits), 0))})
				continue
			}
			m, f, err := message(r.Kernel(), rq, "request.")
			if err == nil {
				f.typedEvents = f.perKernel || open.GetTypedEvents()
				// Called on the ring's goroutines: only queue the reply; it is
				// rendered on this session's writer.
				err = r.Submit(m, func(rep ring.Reply) { sess.push(outBundle{rep: &rep, rq: rq, form: f, credit: true}) })
			}
			if err != nil {
				sess.push(outBundle{refusal: refusal(rq, err), credit: true})
			}
		}
	}()

	// Writer: the only goroutine that sends. The handler's goroutine below
	// watches it, so a write the client never reads cannot hold the
	// session (and its credits) open forever.
	// sends counts the writes begun and ended (odd: one is in progress), so
	// the watchdog can tell a blocked write without a clock read per write.
	var sends atomic.Uint64
	send := func(m *gokernelsv1.SessionResponse) error {
		sends.Add(1)
		err := stream.Send(m)
		sends.Add(1)
		return err
	}
	end := func(why gokernelsv1.SessionEnd_Reason, st error) error {
		e := &gokernelsv1.SessionEnd{Reason: why}
		if st != nil {
			e.Status = status.Convert(st).Proto()
		}
		_ = send(&gokernelsv1.SessionResponse{Kind: &gokernelsv1.SessionResponse_End{End: e}})
		return nil
	}
	writerDone := make(chan error, 1)
	go func() {
		writerDone <- func() error {
			// ringEnded is set once the ring's watch ends (failed, deleted,
			// evicted, draining). The session then ends only after the replies
			// still owed for accepted requests are delivered: a journal failure
			// answers them UNAVAILABLE, and that answer must not lose the race
			// against the SessionEnd.
			wc := w.C
			ringEnded := false
			for {
				select {
				case <-ctx.Done():
					return nil
				case err := <-recvErr:
					// The client closed its side: deliver what is in flight, then end.
					sess.closeWhenIdle()
					if err != nil && status.Code(err) == codes.Canceled {
						return nil
					}
				case <-sess.stop:
					return end(gokernelsv1.SessionEnd_REASON_SLOW_CONSUMER, slowConsumer())
				case b, ok := <-sess.out:
					if !ok {
						if ringEnded {
							return end(sessionReason(w.Reason()), endStatus(w.Reason()))
						}
						return end(gokernelsv1.SessionEnd_REASON_CLIENT_CLOSED, nil)
					}
					// The credit returns before the reply is written: a client may
					// send its next request the moment it reads this one.
					if b.credit {
						sess.give()
					}
					for _, m := range b.render() {
						if err := send(m); err != nil {
							return err
						}
					}
				case e, ok := <-wc:
					if !ok {
						wc, ringEnded = nil, true
						sess.closeWhenIdle()
						continue
					}
					if e.ClientID != open.GetClientId() {
						if err := send(&gokernelsv1.SessionResponse{Kind: &gokernelsv1.SessionResponse_Event{Event: event(r.Kernel(), e, open.GetTypedEvents())}}); err != nil {
							return err
						}
					}
				}
			}
		}()
	}()

	slowAfter := s.SlowConsumerAfter
	if slowAfter <= 0 {
		slowAfter = DefaultSlowConsumerAfter
	}
	tick := time.NewTicker(min(slowAfter/4, time.Second))
	defer tick.Stop()
	var grace <-chan time.Time
	ending := func() {
		if grace == nil {
			grace = time.After(endGrace)
		}
	}
	stopC, wDone := sess.stop, w.Done()
	var blocked uint64 // the write in progress at the last tick
	var blockedSince time.Time
	for {
		select {
		case err := <-writerDone:
			return err
		case <-stopC:
			stopC = nil
			ending()
		case <-wDone:
			wDone = nil
			ending()
		case <-grace:
			// The writer could not deliver the SessionEnd: the client is not
			// reading. Close the stream with the end's status.
			select {
			case <-sess.stop:
				return slowConsumer()
			default:
			}
			if st := endStatus(w.Reason()); st != nil {
				return st
			}
			return slowConsumer()
		case now := <-tick.C:
			switch v := sends.Load(); {
			case v%2 == 0 || v != blocked:
				blocked, blockedSince = v, now
			case now.Sub(blockedSince) >= slowAfter:
				return slowConsumer()
			}
		}
	}
}

func slowConsumer() error {
	return errs.WithReason(codes.ResourceExhausted, ring.ReasonSlowConsumer, "the session read its replies too slowly; "+
		"reconnect and retry with the same client_seq to collect them", 0)
}

// session is one Session stream's flow control: credits in flight and the
// bounded outbound queue the ring goroutine pushes replies into without
// ever blocking.
type session struct {
	mu       sync.Mutex
	out      chan outBundle
	credits  int
	inflight int
	closing  bool
	stop     chan struct{}
	stopped  bool
}

func (s *session) take() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight >= s.credits {
		return false
	}
	s.inflight++
	return true
}

func (s *session) give() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight--
	if s.closing && s.inflight == 0 && !s.stopped {
		s.stopped = true
		close(s.out)
	}
}

// outBundle is a ring reply (rendered with the events before it by the
// writer) or a refusal; credit says whether sending it returns a credit
// (refusals for lack of credit took none).
type outBundle struct {
	rep     *ring.Reply
	rq      *gokernelsv1.RingRequest
	form    form
	refusal *gokernelsv1.RingReply
	credit  bool
}

func (b outBundle) render() []*gokernelsv1.SessionResponse {
	if b.rep == nil {
		return replyMsg(b.refusal)
	}
	msgs := make([]*gokernelsv1.SessionResponse, 0, len(b.rep.Events)+1)
	for _, e := range b.rep.Events {
		msgs = append(msgs, &gokernelsv1.SessionResponse{Kind: &gokernelsv1.SessionResponse_Event{Event: event(b.form.k, e, b.form.typedEvents)}})
	}
	rr, err := reply(*b.rep, b.form)
	if err != nil {
		rr = refusal(b.rq, err)
	}
	return append(msgs, replyMsg(rr)...)
}

// push queues b without blocking. The queue holds every credited reply
// (one per request in flight) plus room for refusals; only a client that
// sends past its credits without reading can overflow it.
func (s *session) push(b outBundle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	select {
	case s.out <- b:
	default:
		s.stopped = true
		close(s.stop)
	}
}

func (s *session) closeWhenIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	if s.inflight == 0 && !s.stopped {
		s.stopped = true
		close(s.out)
	}
}

func sessionReason(why ring.EndReason) gokernelsv1.SessionEnd_Reason {
	switch why {
	case ring.EndIdleEvicted:
		return gokernelsv1.SessionEnd_REASON_IDLE_EVICTED
	case ring.EndDraining:
		return gokernelsv1.SessionEnd_REASON_DRAINING
	case ring.EndDeleted:
		return gokernelsv1.SessionEnd_REASON_DELETED
	case ring.EndFailed:
		return gokernelsv1.SessionEnd_REASON_RING_FAILED
	case ring.EndSlowConsumer:
		return gokernelsv1.SessionEnd_REASON_SLOW_CONSUMER
	}
	return gokernelsv1.SessionEnd_REASON_CLIENT_CLOSED
}

// message converts an API request to a runtime message, and says how its
// reply and events are to be rendered.
func message(k *registry.Kernel, rq *gokernelsv1.RingRequest, prefix string) (ring.Message, form, error) {
	m := ring.Message{ClientID: rq.GetClientId(), ClientSeq: rq.GetClientSeq(), TS: rq.GetTs()}
	f := form{k: k, typedOutput: rq.GetTypedOutput()}
	var err error
	switch p := rq.GetMsg().(type) {
	case *gokernelsv1.RingRequest_Data:
		m.Kind = ring.KindData
		m.Payload, err = decodeStruct(k, p.Data, prefix+"data")
	case *gokernelsv1.RingRequest_TypedData:
		// The kernel's typed ring request (any of its four messages), or
		// its bare input message as a data message.
		if t := typesOf(k); t != nil && p.TypedData.MessageName() == t.reqName {
			f.perKernel = true
			err = t.decodeTyped(&m, p.TypedData.GetValue(), prefix+"typed_data")
			break
		}
		m.Kind = ring.KindData
		m.Payload, err = decodeAny(k, p.TypedData, prefix+"typed_data")
	case *gokernelsv1.RingRequest_Configure:
		m.Kind = ring.KindConfigure
		m.Payload, err = decodeStruct(k, p.Configure, prefix+"configure")
	case *gokernelsv1.RingRequest_TypedConfigure:
		m.Kind = ring.KindConfigure
		m.Payload, err = decodeAny(k, p.TypedConfigure, prefix+"typed_configure")
	case *gokernelsv1.RingRequest_Snapshot:
		m.Kind = ring.KindSnapshot
	case *gokernelsv1.RingRequest_Reset_:
		m.Kind = ring.KindReset
	default:
		return m, f, errs.InvalidFields("the request carries no message", errs.Field(prefix+"msg",
			"one of data, typed_data, configure, typed_configure, snapshot, reset is required"))
	}
	f.kind = m.Kind
	return m, f, err
}

func decodeStruct(k *registry.Kernel, st *structpb.Struct, field string) (proto.Message, error) {
	in := k.NewInput()
	if err := jsoninput.FromStruct(st, in); err != nil {
		e, _ := errs.FromKernel(err, field)
		return nil, e
	}
	return in, nil
}

func decodeAny(k *registry.Kernel, a *anypb.Any, field string) (proto.Message, error) {
	want := string(k.Input.Descriptor().FullName())
	if got := string(a.MessageName()); got != want {
		also := ""
		if t := typesOf(k); t != nil && field != "typed_configure" && !strings.HasSuffix(field, ".typed_configure") {
			also = " or its typed ring request " + string(t.reqName)
		}
		return nil, errs.InvalidFields(fmt.Sprintf("%s holds %s, kernel %s takes %s%s", field, got, k.ID, want, also),
			errs.Field(field+".type_url", "must be type.googleapis.com/"+want))
	}
	in := k.NewInput()
	if err := proto.Unmarshal(a.GetValue(), in); err != nil {
		return nil, errs.InvalidFields(field+" is not a valid "+want, errs.Field(field+".value", err.Error()))
	}
	return in, nil
}

func reply(rep ring.Reply, f form) (*gokernelsv1.RingReply, error) {
	out := &gokernelsv1.RingReply{Seq: rep.Seq, ClientId: rep.ClientID, ClientSeq: rep.ClientSeq, Duplicate: rep.Duplicate}
	if rep.Err != nil {
		out.Status = rep.Err.GRPCStatus().Proto()
	} else {
		out.Status = status.New(codes.OK, "").Proto()
	}
	if f.perKernel && rep.Err == nil {
		// A typed ring request gets the typed ring reply, output or not.
		a, err := typesOf(f.k).typedReply(rep.Output, f.kind)
		if err != nil {
			return nil, err
		}
		out.TypedOutput = a
		return out, nil
	}
	if rep.Output != nil {
		if f.typedOutput {
			a, err := anypb.New(rep.Output)
			if err != nil {
				return nil, status.Error(codes.Internal, "internal error")
			}
			out.TypedOutput = a
		} else {
			st, err := jsoninput.ToStruct(rep.Output)
			if err != nil {
				return nil, status.Error(codes.Internal, "internal error")
			}
			out.Output = st
		}
	}
	return out, nil
}

func refusal(rq *gokernelsv1.RingRequest, err error) *gokernelsv1.RingReply {
	return &gokernelsv1.RingReply{ClientId: rq.GetClientId(), ClientSeq: rq.GetClientSeq(), Status: status.Convert(err).Proto()}
}

func replyMsg(r *gokernelsv1.RingReply) []*gokernelsv1.SessionResponse {
	return []*gokernelsv1.SessionResponse{{Kind: &gokernelsv1.SessionResponse_Reply{Reply: r}}}
}

// event renders e; typed asks for the kernel's typed ring event in
// typed_payload (kinds without one keep the JSON-shaped payload).
func event(k *registry.Kernel, e ring.Event, typed bool) *gokernelsv1.RingEvent {
	out := &gokernelsv1.RingEvent{Seq: e.Seq, Ts: e.TS, Kind: e.Kind, ClientId: e.ClientID, ClientSeq: e.ClientSeq, Code: int32(e.Code)}
	if typed && e.Payload != nil {
		if t := typesOf(k); t != nil {
			if a := t.typedEvent(e); a != nil {
				out.TypedPayload = a
				return out
			}
		}
	}
	if e.Payload != nil {
		if st, err := jsoninput.ToStruct(e.Payload); err == nil {
			out.Payload = st
		}
	}
	return out
}

func ringInfo(r *ring.Ring) *gokernelsv1.Ring {
	in := r.Info()
	k := r.Kernel()
	req, rep, ev := describeRing(k)
	return &gokernelsv1.Ring{
		Name: in.Name, KernelId: in.KernelID, Durability: gokernelsv1.Durability(in.Durability),
		State: ringState(in.State), FailReason: in.FailReason, Seq: in.Seq,
		MailboxDepth: uint32(in.MailboxDepth), MailboxCapacity: uint32(in.MailboxCap),
		Restarts: in.Restarts, Quarantined: in.Quarantined,
		CreateTime: timestamppb.New(in.Created), LastActiveTime: timestamppb.New(in.LastActive),
		SnapshotEvery: uint32(in.SnapshotEvery),
		MessageType:   string(k.Input.Descriptor().FullName()), OutputType: string(k.Output.Descriptor().FullName()),
		RequestType: req, ReplyType: rep, EventType: ev,
	}
}

func ringState(s ring.State) gokernelsv1.RingState {
	switch s {
	case ring.Active:
		return gokernelsv1.RingState_RING_STATE_ACTIVE
	case ring.Paused:
		return gokernelsv1.RingState_RING_STATE_PAUSED
	case ring.Passivated:
		return gokernelsv1.RingState_RING_STATE_PASSIVATED
	case ring.Failed:
		return gokernelsv1.RingState_RING_STATE_FAILED
	}
	return gokernelsv1.RingState_RING_STATE_UNSPECIFIED
}
