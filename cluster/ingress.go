package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring"
)

// Meta is a ring's identity and configuration, written once by Create.
type Meta struct {
	Tenant     string          `json:"tenant"`
	ID         string          `json:"id"`
	KernelID   string          `json:"kernel_id"`
	Durability ring.Durability `json:"durability"`
	Mailbox    int             `json:"mailbox_capacity"`
	Seed       uint64          `json:"seed"`
	Created    time.Time       `json:"created"`
	read       time.Time       // when this copy was read
}

// Info describes a ring in cluster mode.
type Info struct {
	Meta
	Name  string
	Owner string // member owning its partition now ("" = vacant)
	State string // the owner's view (ACTIVE, PAUSED, FAILED); "" before its first message
	Seq   uint64
}

func rerr(code codes.Code, reason, format string, args ...any) error {
	return &ring.Error{Code: code, Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

func unavailable(err error) error {
	return &ring.Error{Code: codes.Unavailable, Msg: "the cluster's NATS JetStream is not reachable: " + err.Error() +
		"; retry with the same client_id and client_seq", RetryAfter: 500 * time.Millisecond}
}

// metaTTL bounds how long a replica trusts its cached copy of a ring's
// metadata (a ring deleted and created again with another kernel).
const metaTTL = 5 * time.Second

// meta reads a ring's metadata, cached for metaTTL: it never changes while
// the ring exists. Owners read it fresh (metaFresh) before hosting a ring.
func (n *Node) meta(ctx context.Context, tenant, id string) (*Meta, error) {
	key := metaKey(tenant, id)
	n.mu.Lock()
	m := n.metas[key]
	n.mu.Unlock()
	if m != nil && time.Since(m.read) < metaTTL {
		return m, nil
	}
	return n.metaFresh(ctx, tenant, id)
}

func (n *Node) metaFresh(ctx context.Context, tenant, id string) (*Meta, error) {
	key := metaKey(tenant, id)
	e, err := n.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, rerr(codes.NotFound, ring.ReasonNotFound, "ring %s not found", ring.Name(tenant, id))
	}
	if err != nil {
		return nil, unavailable(err)
	}
	m := &Meta{read: time.Now()}
	if err := json.Unmarshal(e.Value(), m); err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.metas[key] = m
	n.mu.Unlock()
	return m, nil
}

func (n *Node) forget(tenant, id string) {
	n.mu.Lock()
	delete(n.metas, metaKey(tenant, id))
	n.mu.Unlock()
}

// Kernel returns the kernel of a ring.
func (n *Node) Kernel(ctx context.Context, tenant, id string) (*registry.Kernel, error) {
	m, err := n.meta(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	k, ok := n.reg.Get(m.KernelID)
	if !ok {
		return nil, rerr(codes.FailedPrecondition, "", "ring %s runs kernel %s, which this replica does not serve",
			ring.Name(tenant, id), m.KernelID)
	}
	return k, nil
}

// Create makes a ring; configure (optional) is its first message.
func (n *Node) Create(ctx context.Context, tenant, id, kernelID string, cfg ring.Config, configure proto.Message) (Info, error) {
	k, ok := n.reg.Get(kernelID)
	if !ok {
		return Info{}, rerr(codes.NotFound, "", "kernel %q not found", kernelID)
	}
	if !k.HasMode(registry.Ring) {
		return Info{}, rerr(codes.FailedPrecondition, ring.ReasonNotRing, "kernel %s is not a Ring kernel (modes: Batch only); "+
			"run it with Execute", kernelID)
	}
	if _, ok := k.RingHandler(); !ok {
		return Info{}, rerr(codes.Unimplemented, ring.ReasonNotRing, "kernel %s lists the Ring mode but has no ring handler yet", kernelID)
	}
	if err := validID(tenant, id); err != nil {
		return Info{}, err
	}
	if cfg.Durability == 0 {
		cfg.Durability = ring.Journal
	}
	if cfg.Durability != ring.Journal {
		return Info{}, rerr(codes.InvalidArgument, ring.ReasonDurability, "cluster mode keeps every ring in the replicated "+
			"JetStream log: durability must be JOURNAL (or unspecified), not %s", cfg.Durability)
	}
	m := Meta{Tenant: tenant, ID: id, KernelID: kernelID, Durability: cfg.Durability, Mailbox: cfg.MailboxCapacity,
		Seed: cfg.Seed, Created: time.Now().UTC()}
	if m.Seed == 0 {
		m.Seed = seedOf(ring.Name(tenant, id))
	}
	data, _ := json.Marshal(m)
	if _, err := n.kv.Create(ctx, metaKey(tenant, id), data); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return Info{}, rerr(codes.AlreadyExists, ring.ReasonExists, "ring %s already exists", ring.Name(tenant, id))
		}
		return Info{}, unavailable(err)
	}
	if configure != nil {
		rep, err := n.Send(ctx, tenant, id, ring.Message{Kind: ring.KindConfigure, Payload: configure})
		if err == nil && rep.Err != nil {
			err = rep.Err
		}
		if err != nil {
			_ = n.Delete(context.WithoutCancel(ctx), tenant, id)
			return Info{}, err
		}
	}
	return Info{Meta: m, Name: ring.Name(tenant, id)}, nil
}

// Get describes a ring, asking its owner for the live part.
func (n *Node) Get(ctx context.Context, tenant, id string) (Info, error) {
	m, err := n.metaFresh(ctx, tenant, id)
	if err != nil {
		return Info{}, err
	}
	in := Info{Meta: *m, Name: ring.Name(tenant, id)}
	rep, err := n.ctl(ctx, ctlRequest{Op: "info", Tenant: tenant, ID: id})
	if err == nil {
		in.Owner, in.State, in.Seq = rep.Owner, rep.State, rep.Seq
	} else {
		in.Owner = n.Owner(n.Partition(tenant, id))
	}
	return in, nil
}

// List returns the rings of tenant, sorted by id.
func (n *Node) List(ctx context.Context, tenant string) ([]Info, error) {
	kl, err := n.kv.ListKeysFiltered(ctx, "meta."+tenant+".*")
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, unavailable(err)
	}
	var ids []string
	for k := range kl.Keys() {
		ids = append(ids, strings.TrimPrefix(k, "meta."+tenant+"."))
	}
	var out []Info
	for _, id := range ids {
		m, err := n.meta(ctx, tenant, id)
		if err != nil {
			continue
		}
		out = append(out, Info{Meta: *m, Name: ring.Name(tenant, id), Owner: n.Owner(n.Partition(tenant, id))})
	}
	sortInfos(out)
	return out, nil
}

// Delete removes a ring: its metadata, then a delete entry in its log so
// the owner unloads it and removes its snapshot.
func (n *Node) Delete(ctx context.Context, tenant, id string) error {
	if _, err := n.meta(ctx, tenant, id); err != nil {
		return err
	}
	if err := n.kv.Delete(ctx, metaKey(tenant, id)); err != nil {
		return unavailable(err)
	}
	n.forget(tenant, id)
	msg := nats.NewMsg(n.logSubject(n.Partition(tenant, id), tenant+"."+id))
	msg.Header.Set(hKind, kindDelete)
	if _, err := n.js.PublishMsg(ctx, msg); err != nil {
		return unavailable(err)
	}
	return nil
}

// SnapshotData returns the ring's encoded snapshot from its owner.
func (n *Node) SnapshotData(ctx context.Context, tenant, id string) ([]byte, uint64, error) {
	if _, err := n.meta(ctx, tenant, id); err != nil {
		return nil, 0, err
	}
	rep, err := n.ctl(ctx, ctlRequest{Op: "snapshot", Tenant: tenant, ID: id})
	if err != nil {
		return nil, 0, err
	}
	if rep.Err != "" {
		return nil, 0, rerr(codes.Unavailable, "", "snapshot on the owner failed: %s", rep.Err)
	}
	if rep.State == "" {
		return nil, 0, rerr(codes.FailedPrecondition, "", "ring %s has not received a message yet", ring.Name(tenant, id))
	}
	return rep.Data, rep.Seq, nil
}

func (n *Node) ctl(ctx context.Context, req ctlRequest) (ctlReply, error) {
	data, _ := json.Marshal(req)
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	m, err := n.nc.RequestWithContext(c, n.ctlSubject(n.Partition(req.Tenant, req.ID)), data)
	if err != nil {
		return ctlReply{}, rerr(codes.Unavailable, "", "the ring's owner did not answer (%v); its partition may be moving, retry", err)
	}
	var rep ctlReply
	if err := json.Unmarshal(m.Data, &rep); err != nil {
		return ctlReply{}, err
	}
	return rep, nil
}

// Send appends m to the ring's log and waits for the owner's reply. Like
// the single-node runtime, ctx bounds acceptance and the wait, never the
// effect: once the log has acknowledged the message, it will be applied.
func (n *Node) Send(ctx context.Context, tenant, id string, m ring.Message) (ring.Reply, error) {
	k, err := n.Kernel(ctx, tenant, id)
	if err != nil {
		return ring.Reply{}, err
	}
	if err := validateMessage(k, &m); err != nil {
		return ring.Reply{}, err
	}
	corr := nuid.Next()
	ch := make(chan *wireReply, 1)
	n.replies.Store(corr, ch)
	defer n.replies.Delete(corr)

	p := n.Partition(tenant, id)
	msg := nats.NewMsg(n.logSubject(p, tenant+"."+id))
	msg.Header.Set(hKind, kindName(m.Kind))
	msg.Header.Set(hReply, n.sub+".rep."+n.opts.Member+"."+corr)
	if m.ClientID != "" {
		msg.Header.Set(hClient, m.ClientID)
		msg.Header.Set(hClientSeq, strconv.FormatUint(m.ClientSeq, 10))
	}
	if m.TS != 0 {
		msg.Header.Set(hTS, strconv.FormatInt(m.TS, 10))
	}
	if m.Payload != nil {
		if msg.Data, err = (proto.MarshalOptions{Deterministic: true}).Marshal(m.Payload); err != nil {
			return ring.Reply{}, rerr(codes.InvalidArgument, "", "payload: %v", err)
		}
	}
	var opts []jetstream.PublishOpt
	if m.ClientID != "" {
		opts = append(opts, jetstream.WithMsgID(tenant+"/"+id+"/"+m.ClientID+"/"+strconv.FormatUint(m.ClientSeq, 10)))
	}
	ack, err := n.publish(ctx, msg, m.ClientID != "", opts...)
	if err != nil {
		return ring.Reply{}, err
	}
	if ack.Duplicate {
		// The log has it already (a retry): ask the ring in log order. The
		// probe carries no message id, and the ring answers it from its
		// anti-replay window without applying anything.
		msg.Header.Del(jetstream.MsgIDHeader)
		if _, err := n.publish(ctx, msg, false); err != nil {
			return ring.Reply{}, err
		}
	}
	select {
	case w := <-ch:
		rep, err := w.decode()
		if err != nil {
			return ring.Reply{}, err
		}
		if rep.Err != nil && rep.Err.Code == codes.NotFound && rep.Seq == 0 {
			n.forget(tenant, id)
			return ring.Reply{}, rep.Err
		}
		return rep, nil
	case <-ctx.Done():
		return ring.Reply{}, rerr(codes.DeadlineExceeded, "", "no reply within the deadline; the message was accepted "+
			"by the replicated log and will be applied: retry with the same client_id and client_seq to collect its reply")
	}
}

// publish appends to a log. Idempotent messages (with a message id) are
// retried through leader elections and reconnects until ctx ends.
func (n *Node) publish(ctx context.Context, msg *nats.Msg, retry bool, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	backoff := 20 * time.Millisecond
	for {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		ack, err := n.js.PublishMsg(c, msg, opts...)
		cancel()
		if err == nil {
			return ack, nil
		}
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum {
			return nil, rerr(codes.InvalidArgument, "", "the message exceeds the ring log's maximum message size: %v", err)
		}
		if !retry || ctx.Err() != nil {
			return nil, unavailable(err)
		}
		select {
		case <-ctx.Done():
			return nil, unavailable(err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 500*time.Millisecond)
	}
}

func (n *Node) onReply(m *nats.Msg) {
	corr := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
	v, ok := n.replies.Load(corr)
	if !ok {
		return
	}
	var w wireReply
	if err := json.Unmarshal(m.Data, &w); err != nil {
		return
	}
	select {
	case v.(chan *wireReply) <- &w:
	default: // a second answer (a new owner replaying): the first one stands
	}
}

// Watcher receives a ring's events on C until Close.
type Watcher struct {
	C   <-chan ring.Event
	sub *nats.Subscription
}

// Close stops the watch.
func (w *Watcher) Close() { _ = w.sub.Unsubscribe() }

// Watch streams the ring's new events from whichever replica applies them.
// Replay of past events (after_seq) is not offered in cluster mode.
func (n *Node) Watch(ctx context.Context, tenant, id string) (*Watcher, error) {
	if _, err := n.meta(ctx, tenant, id); err != nil {
		return nil, err
	}
	c := make(chan ring.Event, 1024)
	var closed bool
	sub, err := n.nc.Subscribe(n.eventSubject(tenant, id), func(m *nats.Msg) {
		if closed {
			return
		}
		var w wireEvent
		if json.Unmarshal(m.Data, &w) != nil {
			return
		}
		select {
		case c <- w.decode():
		default:
			closed = true // a slow watcher is cut off; the ring runs on
			close(c)
		}
	})
	if err != nil {
		return nil, unavailable(err)
	}
	// The local server has the interest before Watch returns.
	_ = n.nc.FlushWithContext(ctx)
	return &Watcher{C: c, sub: sub}, nil
}

var idPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// validID applies the single-node runtime's naming rule; it also keeps
// names safe as NATS subject tokens and KV keys.
func validID(tenant, id string) error {
	if !idPattern.MatchString(id) {
		return rerr(codes.InvalidArgument, ring.ReasonInvalidRingID, "ring_id %q must be 1-63 lowercase letters, digits or '-', "+
			"starting and ending with a letter or digit", id)
	}
	if !idPattern.MatchString(tenant) {
		return rerr(codes.InvalidArgument, "", "tenant %q is not a valid name segment", tenant)
	}
	return nil
}

// validateMessage refuses what the owner would refuse before the log, so a
// bad request costs no log entry; the owner's ring checks again.
func validateMessage(k *registry.Kernel, m *ring.Message) error {
	switch m.Kind {
	case ring.KindData, ring.KindConfigure:
		if m.Payload == nil {
			return rerr(codes.InvalidArgument, "", "%s message needs a payload (the kernel's input message %s)",
				m.Kind, k.Input.Descriptor().FullName())
		}
		if m.Payload.ProtoReflect().Descriptor() != k.Input.Descriptor() {
			return rerr(codes.InvalidArgument, "", "payload is %s; kernel %s takes %s",
				m.Payload.ProtoReflect().Descriptor().FullName(), k.ID, k.Input.Descriptor().FullName())
		}
	case ring.KindReset, ring.KindSnapshot:
		m.Payload = nil
	default:
		return rerr(codes.InvalidArgument, "", "unknown message kind %d", m.Kind)
	}
	if m.ClientID == "" && m.ClientSeq != 0 {
		return rerr(codes.InvalidArgument, "", "client_seq needs a client_id")
	}
	if m.ClientID != "" && m.ClientSeq == 0 {
		return rerr(codes.InvalidArgument, "", "client_seq must be at least 1 when client_id is set")
	}
	if len(m.ClientID) > 128 {
		return rerr(codes.InvalidArgument, "", "client_id is longer than 128 bytes")
	}
	return nil
}

func seedOf(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

func sortInfos(in []Info) {
	slices.SortFunc(in, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
}
