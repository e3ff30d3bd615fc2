package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gokernels/gokernels/cluster"
	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring"
	"github.com/gokernels/gokernels/server/errs"
	"github.com/gokernels/gokernels/server/reqinfo"
)

// ClusterRings implements RingService in cluster mode: any replica
// accepts every call for every ring; requests go through the ring's
// replicated log to its partition's owner (package cluster). Restore,
// Pause and Resume are not offered in cluster mode yet.
type ClusterRings struct {
	gokernelsv1.UnimplementedRingServiceServer
	Node *cluster.Node
}

func (s *ClusterRings) name(ctx context.Context, name string) (tenant, id string, err error) {
	tenant, id, ok := ring.ParseName(name)
	if !ok {
		return "", "", errs.InvalidFields("invalid ring name", errs.Field("name", "must be tenants/{tenant}/rings/{ring_id}"))
	}
	if tenant != tenantOf(ctx) {
		return "", "", status.Errorf(codes.NotFound, "ring %s not found", name)
	}
	return tenant, id, nil
}

// CreateRing implements RingService.
func (s *ClusterRings) CreateRing(ctx context.Context, req *gokernelsv1.CreateRingRequest) (*gokernelsv1.Ring, error) {
	k, ok := s.Node.Registry().Get(req.GetKernelId())
	if !ok {
		return nil, notFound(req.GetKernelId())
	}
	var configure proto.Message
	var err error
	switch p := req.GetConfigurePayload().(type) {
	case *gokernelsv1.CreateRingRequest_Configure:
		configure, err = decodeStruct(k, p.Configure, "configure")
	case *gokernelsv1.CreateRingRequest_TypedConfigure:
		configure, err = decodeAny(k, p.TypedConfigure, "typed_configure")
	}
	if err != nil {
		return nil, err
	}
	id := req.GetRingId()
	if id == "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		id = "r-" + hex.EncodeToString(b)
	}
	in, err := s.Node.Create(ctx, tenantOf(ctx), id, k.ID, ring.Config{
		Durability: ring.Durability(req.GetDurability()), MailboxCapacity: int(req.GetMailboxCapacity()), Seed: req.GetSeed(),
	}, configure)
	if err != nil {
		return nil, err
	}
	return s.info(in), nil
}

// GetRing implements RingService.
func (s *ClusterRings) GetRing(ctx context.Context, req *gokernelsv1.GetRingRequest) (*gokernelsv1.Ring, error) {
	tenant, id, err := s.name(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	in, err := s.Node.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	return s.info(in), nil
}

// ListRings implements RingService.
func (s *ClusterRings) ListRings(ctx context.Context, _ *gokernelsv1.ListRingsRequest) (*gokernelsv1.ListRingsResponse, error) {
	ins, err := s.Node.List(ctx, tenantOf(ctx))
	if err != nil {
		return nil, err
	}
	resp := &gokernelsv1.ListRingsResponse{}
	for _, in := range ins {
		resp.Rings = append(resp.Rings, s.info(in))
	}
	return resp, nil
}

// DeleteRing implements RingService.
func (s *ClusterRings) DeleteRing(ctx context.Context, req *gokernelsv1.DeleteRingRequest) (*gokernelsv1.DeleteRingResponse, error) {
	tenant, id, err := s.name(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if err := s.Node.Delete(ctx, tenant, id); err != nil {
		return nil, err
	}
	return &gokernelsv1.DeleteRingResponse{}, nil
}

// SnapshotRing implements RingService (asked of the owner).
func (s *ClusterRings) SnapshotRing(ctx context.Context, req *gokernelsv1.SnapshotRingRequest) (*gokernelsv1.SnapshotRingResponse, error) {
	tenant, id, err := s.name(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	data, seq, err := s.Node.SnapshotData(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	return &gokernelsv1.SnapshotRingResponse{Seq: seq, Data: data}, nil
}

func clusterUnsupported(what string) error {
	return status.Errorf(codes.Unimplemented, "%s is not available in cluster mode yet (GOKERNELS_CLUSTER_NATS_URL is set)", what)
}

// RestoreRing implements RingService.
func (s *ClusterRings) RestoreRing(context.Context, *gokernelsv1.RestoreRingRequest) (*gokernelsv1.Ring, error) {
	return nil, clusterUnsupported("RestoreRing")
}

// PauseRing implements RingService.
func (s *ClusterRings) PauseRing(context.Context, *gokernelsv1.PauseRingRequest) (*gokernelsv1.Ring, error) {
	return nil, clusterUnsupported("PauseRing")
}

// ResumeRing implements RingService.
func (s *ClusterRings) ResumeRing(context.Context, *gokernelsv1.ResumeRingRequest) (*gokernelsv1.Ring, error) {
	return nil, clusterUnsupported("ResumeRing")
}

// Send implements RingService.
func (s *ClusterRings) Send(ctx context.Context, req *gokernelsv1.SendRequest) (*gokernelsv1.RingReply, error) {
	tenant, id, err := s.name(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	k, err := s.Node.Kernel(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	reqinfo.From(ctx).KernelID = k.ID
	m, f, err := message(k, req.GetRequest(), "")
	if err != nil {
		return nil, err
	}
	rep, err := s.Node.Send(ctx, tenant, id, m)
	if err != nil {
		return nil, err
	}
	if rep.Err != nil {
		return nil, rep.Err
	}
	return reply(rep, f)
}

// Watch implements RingService: the ring's new events, from whichever
// replica applies them (after_seq replay is not offered in cluster mode).
func (s *ClusterRings) Watch(req *gokernelsv1.WatchRequest, stream grpc.ServerStreamingServer[gokernelsv1.RingEvent]) error {
	ctx := stream.Context()
	tenant, id, err := s.name(ctx, req.GetName())
	if err != nil {
		return err
	}
	if req.AfterSeq != nil {
		return status.Error(codes.Unimplemented, "after_seq replay is not available in cluster mode; watch without it")
	}
	var k *registry.Kernel // only typed events need it
	if req.GetTypedEvents() {
		if k, err = s.Node.Kernel(ctx, tenant, id); err != nil {
			return err
		}
	}
	w, err := s.Node.Watch(ctx, tenant, id)
	if err != nil {
		return err
	}
	defer w.Close()
	// Headers say the subscription is in place: events from here on arrive.
	if err := stream.SendHeader(nil); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.C:
			if !ok {
				return endStatus(ring.EndSlowConsumer)
			}
			if err := stream.Send(event(k, e, req.GetTypedEvents())); err != nil {
				return err
			}
		}
	}
}

// Session implements RingService in cluster mode: up to sessionCredits
// requests in flight through the ring's log; replies (each after its
// events) go out in request order.
func (s *ClusterRings) Session(stream grpc.BidiStreamingServer[gokernelsv1.SessionRequest, gokernelsv1.SessionResponse]) error {
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	open := first.GetOpen()
	if open == nil {
		return errs.InvalidFields("the first session message must be open", errs.Field("open", "is required first"))
	}
	tenant, id, err := s.name(ctx, open.GetName())
	if err != nil {
		return err
	}
	in, err := s.Node.Get(ctx, tenant, id)
	if err != nil {
		return err
	}
	k, err := s.Node.Kernel(ctx, tenant, id)
	if err != nil {
		return err
	}
	if err := stream.Send(&gokernelsv1.SessionResponse{Kind: &gokernelsv1.SessionResponse_Opened{
		Opened: &gokernelsv1.SessionOpened{Ring: s.info(in), Credits: sessionCredits}}}); err != nil {
		return err
	}
	// Futures in request order; the writer below waits for each in turn.
	pending := make(chan chan []*gokernelsv1.SessionResponse, sessionCredits)
	recvDone := make(chan error, 1)
	go func() {
		defer close(pending)
		for {
			msg, err := stream.Recv()
			if err != nil {
				recvDone <- err
				return
			}
			rq := msg.GetRequest()
			f := make(chan []*gokernelsv1.SessionResponse, 1)
			if rq == nil {
				f <- replyMsg(refusal(rq, errs.InvalidFields("only the first session message may be open", errs.Field("request", "is required"))))
			} else {
				if rq.GetClientId() == "" {
					rq.ClientId = open.GetClientId()
				}
				m, fm, err := message(k, rq, "request.")
				fm.typedEvents = fm.perKernel || open.GetTypedEvents()
				if err != nil {
					f <- replyMsg(refusal(rq, err))
				} else {
					go func() {
						rep, err := s.Node.Send(ctx, tenant, id, m)
						if err != nil {
							f <- replyMsg(refusal(rq, err))
							return
						}
						var out []*gokernelsv1.SessionResponse
						for _, e := range rep.Events {
							out = append(out, &gokernelsv1.SessionResponse{Kind: &gokernelsv1.SessionResponse_Event{Event: event(k, e, fm.typedEvents)}})
						}
						rr, cerr := reply(rep, fm)
						if cerr != nil {
							rr = refusal(rq, cerr)
						}
						f <- append(out, replyMsg(rr)...)
					}()
				}
			}
			select {
			case pending <- f: // blocks at sessionCredits in flight: the client's credit
			case <-ctx.Done():
				return
			}
		}
	}()
	for f := range pending {
		select {
		case msgs := <-f:
			for _, m := range msgs {
				if err := stream.Send(m); err != nil {
					return err
				}
			}
		case <-ctx.Done():
			return nil
		}
	}
	if err := <-recvDone; err != nil && status.Code(err) == codes.Canceled {
		return nil
	}
	_ = stream.Send(&gokernelsv1.SessionResponse{Kind: &gokernelsv1.SessionResponse_End{End: &gokernelsv1.SessionEnd{
		Reason: gokernelsv1.SessionEnd_REASON_CLIENT_CLOSED}}})
	return nil
}

func (s *ClusterRings) info(in cluster.Info) *gokernelsv1.Ring {
	out := &gokernelsv1.Ring{Name: in.Name, KernelId: in.KernelID, Durability: gokernelsv1.Durability(in.Durability),
		Seq: in.Seq, CreateTime: timestamppb.New(in.Created), MailboxCapacity: uint32(in.Mailbox),
		State: gokernelsv1.RingState_RING_STATE_ACTIVE}
	switch in.State {
	case "PAUSED":
		out.State = gokernelsv1.RingState_RING_STATE_PAUSED
	case "FAILED":
		out.State = gokernelsv1.RingState_RING_STATE_FAILED
	}
	if k, ok := s.Node.Registry().Get(in.KernelID); ok {
		out.MessageType, out.OutputType = string(k.Input.Descriptor().FullName()), string(k.Output.Descriptor().FullName())
		out.RequestType, out.ReplyType, out.EventType = describeRing(k)
	}
	return out
}
