package cluster

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/ring"
)

// partition is an owned partition: its lease (the fencing token) and the
// apply loop that feeds its log to the hosted rings.
type partition struct {
	n       *Node
	idx     int
	since   time.Time
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
	ctl     *nats.Subscription
	mu      sync.Mutex // serialises the lease revision with fenced writes
	rev     uint64
	renewed time.Time
	lost    bool

	rmu    sync.RWMutex // guards rings (written by the apply loop; read by ctl)
	rings  map[string]*hosted
	purged uint64
	failed error
}

// hosted is one ring of an owned partition.
type hosted struct {
	r        *ring.Ring
	meta     *Meta
	firstSeq uint64 // first log sequence applied (pins the purge point until a snapshot)
	snapSeq  uint64 // log sequence the stored snapshot covers
	lastSeq  uint64 // last log sequence applied
	since    int    // messages since the stored snapshot
}

func newPartition(n *Node, idx int, rev uint64, now time.Time) *partition {
	ctx, cancel := context.WithCancel(n.ctx)
	return &partition{n: n, idx: idx, since: now, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		rev: rev, renewed: now, rings: map[string]*hosted{}}
}

func (p *partition) isDone() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *partition) start() {
	go func() {
		defer close(p.done)
		err := p.run()
		if err != nil && p.ctx.Err() == nil {
			p.failed = err
			p.n.log.Error("partition apply loop stopped", "partition", p.idx, "error", err)
		}
	}()
}

// renew extends the lease by compare-and-set on the revision we hold.
func (p *partition) renew(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lost {
		return ErrFenced
	}
	val, _ := json.Marshal(leaseValue{Owner: p.n.opts.Member})
	c, cancel := context.WithTimeout(ctx, p.n.opts.LeaseTTL/3)
	defer cancel()
	rev, err := p.n.kv.Update(c, leaseKey(p.idx), val, p.rev)
	if err != nil {
		if isConflict(err) {
			p.lost = true
			return ErrFenced
		}
		if time.Since(p.renewed) > p.n.opts.LeaseTTL {
			p.lost = true // we cannot know we still hold it: stop before another owner starts
			return fmt.Errorf("lease not renewed within %s: %w", p.n.opts.LeaseTTL, err)
		}
		return nil // transient; retried next tick
	}
	p.rev, p.renewed = rev, time.Now()
	return nil
}

// fencedPublish writes msg to the bucket's stream only if the lease still
// carries the revision this owner holds (checked by the stream leader).
func (p *partition) fencedPublish(ctx context.Context, msg *nats.Msg) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lost {
		return ErrFenced
	}
	_, err := p.n.js.PublishMsg(ctx, msg,
		jetstream.WithExpectLastSequenceForSubject(p.rev, p.n.kvSubject(leaseKey(p.idx))))
	if isConflict(err) {
		p.lost = true
		return ErrFenced
	}
	return err
}

// isConflict reports a failed compare-and-set: someone else wrote the
// lease (R1 streams answer 10071, replicated ones 10164).
func isConflict(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// writeSnapshot stores a ring's snapshot covering log sequence seq.
func (p *partition) writeSnapshot(ctx context.Context, tenant, id string, seq uint64, data []byte) error {
	body := make([]byte, 8, 8+len(data))
	binary.BigEndian.PutUint64(body, seq)
	body = append(body, data...)
	msg := nats.NewMsg(p.n.kvSubject(snapKey(p.idx, tenant, id)))
	msg.Data = body
	return p.fencedPublish(ctx, msg)
}

func (p *partition) deleteSnapshot(ctx context.Context, tenant, id string) error {
	msg := nats.NewMsg(p.n.kvSubject(snapKey(p.idx, tenant, id)))
	msg.Header.Set("KV-Operation", "PURGE")
	msg.Header.Set("Nats-Rollup", "sub")
	return p.fencedPublish(ctx, msg)
}

// release hands the partition over: stop applying, snapshot every ring,
// delete the lease at our revision.
func (p *partition) release(ctx context.Context) {
	p.cancel()
	<-p.done
	if err := p.snapshotAll(ctx); err != nil {
		p.n.log.Warn("snapshot before hand-over failed", "partition", p.idx, "error", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.lost {
		_ = p.n.kv.Delete(ctx, leaseKey(p.idx), jetstream.LastRevision(p.rev))
		p.lost = true
	}
}

// unload deletes the partition's rings from the local runtime.
func (p *partition) unload() {
	if p.ctl != nil {
		_ = p.ctl.Unsubscribe()
	}
	p.rmu.Lock()
	defer p.rmu.Unlock()
	for _, h := range p.rings {
		_ = p.n.rt.Delete(h.r.Tenant, h.r.ID)
	}
	p.rings = map[string]*hosted{}
}

// snapshotAll snapshots every ring with messages since its last snapshot.
func (p *partition) snapshotAll(ctx context.Context) error {
	p.rmu.RLock()
	hs := make([]*hosted, 0, len(p.rings))
	for _, h := range p.rings {
		hs = append(hs, h)
	}
	p.rmu.RUnlock()
	for _, h := range hs {
		if h.since == 0 && h.snapSeq == h.lastSeq {
			continue
		}
		if err := p.snapshot(ctx, h); err != nil {
			return err
		}
	}
	return nil
}

func (p *partition) snapshot(ctx context.Context, h *hosted) error {
	data, _, err := h.r.SnapshotNow(ctx)
	if err != nil {
		return err
	}
	if err := p.writeSnapshot(ctx, h.r.Tenant, h.r.ID, h.lastSeq, data); err != nil {
		return err
	}
	h.snapSeq, h.since = h.lastSeq, 0
	return nil
}

// run loads the stored snapshots, then applies the log from its start
// (entries a snapshot covers are skipped) until the partition is lost.
func (p *partition) run() error {
	n := p.n
	var err error
	p.ctl, err = n.nc.Subscribe(n.ctlSubject(p.idx), p.onCtl)
	if err != nil {
		return err
	}
	if err := p.load(); err != nil {
		return fmt.Errorf("loading snapshots: %w", err)
	}
	cons, err := n.js.OrderedConsumer(p.ctx, n.streamName(p.idx), jetstream.OrderedConsumerConfig{})
	if err != nil {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	go func() { <-p.ctx.Done(); it.Stop() }()
	for {
		m, err := it.Next()
		if err != nil {
			if p.ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			return err
		}
		n.gate(p.ctx)
		if p.ctx.Err() != nil {
			return nil
		}
		if err := p.apply(m); err != nil {
			return err
		}
	}
}

// load restores every ring of the partition that has a snapshot.
func (p *partition) load() error {
	n := p.n
	c, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	kl, err := n.kv.ListKeysFiltered(c, fmt.Sprintf("snap.%02d.>", p.idx))
	if err != nil {
		return err
	}
	var keys []string
	for k := range kl.Keys() {
		keys = append(keys, k)
	}
	for _, k := range keys {
		parts := strings.Split(k, ".")
		if len(parts) != 4 {
			continue
		}
		tenant, id := parts[2], parts[3]
		e, err := n.kv.Get(c, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			continue
		}
		if err != nil {
			return err
		}
		v := e.Value()
		if len(v) < 8 {
			continue
		}
		meta, err := n.metaFresh(c, tenant, id)
		if err != nil {
			continue // deleted ring; its snapshot is garbage
		}
		h, err := p.host(meta)
		if err != nil {
			return err
		}
		if err := h.r.Restore(c, v[8:]); err != nil {
			return fmt.Errorf("restoring %s: %w", h.r.Name, err)
		}
		seq := binary.BigEndian.Uint64(v[:8])
		h.snapSeq, h.lastSeq, h.firstSeq = seq, seq, seq+1
	}
	return nil
}

// host creates the local in-memory ring for meta.
func (p *partition) host(meta *Meta) (*hosted, error) {
	r, err := p.n.rt.Create(p.ctx, meta.Tenant, meta.ID, meta.KernelID, ring.Config{Durability: ring.None,
		MailboxCapacity: 16, SnapshotEvery: 1 << 30, Seed: meta.Seed}, nil)
	if err != nil && ring.CodeOf(err) == codes.AlreadyExists {
		// Left from an earlier ownership that ended abruptly.
		_ = p.n.rt.Delete(meta.Tenant, meta.ID)
		r, err = p.n.rt.Create(p.ctx, meta.Tenant, meta.ID, meta.KernelID, ring.Config{Durability: ring.None,
			MailboxCapacity: 16, SnapshotEvery: 1 << 30, Seed: meta.Seed}, nil)
	}
	if err != nil {
		return nil, err
	}
	h := &hosted{r: r, meta: meta}
	p.rmu.Lock()
	p.rings[ring.Name(meta.Tenant, meta.ID)] = h
	p.rmu.Unlock()
	return h, nil
}

// apply feeds one log entry to its ring and replies.
func (p *partition) apply(m jetstream.Msg) error {
	n := p.n
	md, err := m.Metadata()
	if err != nil {
		return err
	}
	seq := md.Sequence.Stream
	tenant, id, ok := splitLogSubject(m.Subject())
	if !ok {
		return nil
	}
	hdr := m.Headers()
	replyTo := hdr.Get(hReply)
	name := ring.Name(tenant, id)
	p.rmu.RLock()
	h := p.rings[name]
	p.rmu.RUnlock()
	kind := hdr.Get(hKind)
	if kind == kindDelete {
		if h != nil {
			p.rmu.Lock()
			delete(p.rings, name)
			p.rmu.Unlock()
			_ = n.rt.Delete(tenant, id)
		}
		_ = p.deleteSnapshot(p.ctx, tenant, id)
		p.reply(replyTo, &wireReply{})
		return p.maybePurge()
	}
	if h == nil {
		meta, err := p.metaRetrying(tenant, id)
		if err != nil {
			if p.ctx.Err() != nil {
				return nil
			}
			p.reply(replyTo, errReply(err)) // the ring does not exist (deleted): nothing to apply
			return nil
		}
		if h, err = p.host(meta); err != nil {
			p.reply(replyTo, errReply(err))
			return nil
		}
		h.firstSeq = seq
	}
	if seq <= h.snapSeq {
		return nil // in the snapshot already
	}
	msg, err := decodeEntry(h.r.Kernel(), hdr, m.Data())
	if err != nil {
		p.reply(replyTo, errReply(err))
		h.lastSeq = seq
		return nil
	}
	msg.Time = md.Timestamp.UnixNano()
	rep, err := h.r.Send(p.ctx, msg)
	if err != nil {
		if p.ctx.Err() != nil {
			return nil
		}
		p.reply(replyTo, errReply(err))
	} else {
		p.publishEvents(tenant, id, msg.TS, rep)
		p.reply(replyTo, encodeReply(rep))
	}
	h.lastSeq = seq
	if msg.Kind != ring.KindSnapshot {
		h.since++
	}
	if h.since >= n.opts.SnapshotEvery {
		if err := p.snapshot(p.ctx, h); err != nil {
			if errors.Is(err, ErrFenced) || p.ctx.Err() != nil {
				return err // this replica no longer owns the partition
			}
			// Transient (NATS busy): the log still holds everything; the
			// next message tries again.
			n.log.Warn("ring snapshot failed", "ring", h.r.Name, "error", err)
			return nil
		}
		return p.maybePurge()
	}
	return nil
}

// metaRetrying reads a ring's metadata for the apply loop. An accepted
// message must not be skipped because the bucket was briefly unreachable,
// so only "not found" (a deleted ring) ends the wait.
func (p *partition) metaRetrying(tenant, id string) (*Meta, error) {
	backoff := 50 * time.Millisecond
	for {
		c, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		m, err := p.n.metaFresh(c, tenant, id)
		cancel()
		if err == nil || ring.CodeOf(err) == codes.NotFound || p.ctx.Err() != nil {
			return m, err
		}
		p.n.log.Warn("ring metadata unreachable; retrying", "tenant", tenant, "ring", id, "error", err)
		select {
		case <-p.ctx.Done():
			return nil, p.ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// maybePurge drops the log below the lowest sequence some ring still needs.
func (p *partition) maybePurge() error {
	p.rmu.RLock()
	low := uint64(0)
	first := true
	for _, h := range p.rings {
		need := h.firstSeq
		if h.snapSeq > 0 {
			need = h.snapSeq + 1
		}
		if first || need < low {
			low, first = need, false
		}
	}
	p.rmu.RUnlock()
	if first || low <= p.purged+1 {
		return nil
	}
	st, err := p.n.js.Stream(p.ctx, p.n.streamName(p.idx))
	if err != nil {
		return nil
	}
	if err := st.Purge(p.ctx, jetstream.WithPurgeSequence(low)); err == nil {
		p.purged = low - 1
	}
	return nil
}

func (p *partition) reply(to string, r *wireReply) {
	if to == "" {
		return
	}
	data, err := json.Marshal(r)
	if err != nil {
		return
	}
	_ = p.n.nc.Publish(to, data)
}

func (p *partition) publishEvents(tenant, id string, ts int64, rep ring.Reply) {
	subj := p.n.eventSubject(tenant, id)
	for _, e := range encodeEvents(rep, ts) {
		data, err := json.Marshal(e)
		if err == nil {
			_ = p.n.nc.Publish(subj, data)
		}
	}
}

// onCtl answers reads that need the owner's state: ring info and
// snapshots.
func (p *partition) onCtl(m *nats.Msg) {
	var req ctlRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		return
	}
	p.rmu.RLock()
	h := p.rings[ring.Name(req.Tenant, req.ID)]
	p.rmu.RUnlock()
	out := ctlReply{Owner: p.n.opts.Member}
	if h != nil {
		in := h.r.Info()
		out.Seq, out.State = in.Seq, in.State.String()
		if req.Op == "snapshot" {
			c, cancel := context.WithTimeout(p.ctx, 10*time.Second)
			data, seq, err := h.r.SnapshotNow(c)
			cancel()
			if err != nil {
				out.Err = err.Error()
			}
			out.Data, out.Seq = data, seq
		}
	}
	data, _ := json.Marshal(out)
	_ = m.Respond(data)
}

type ctlRequest struct {
	Op     string `json:"op"`
	Tenant string `json:"tenant"`
	ID     string `json:"id"`
}

type ctlReply struct {
	Owner string `json:"owner"`
	Seq   uint64 `json:"seq"`
	State string `json:"state,omitempty"` // "" = not loaded on the owner (no message yet)
	Data  []byte `json:"data,omitempty"`
	Err   string `json:"err,omitempty"`
}

func splitLogSubject(s string) (tenant, id string, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 5 {
		return "", "", false
	}
	if _, err := strconv.Atoi(parts[2]); err != nil {
		return "", "", false
	}
	return parts[3], parts[4], true
}

// decodeEntry turns a log entry back into a ring message.
func decodeEntry(k interface{ NewInput() proto.Message }, hdr nats.Header, data []byte) (ring.Message, error) {
	m := ring.Message{ClientID: hdr.Get(hClient)}
	var err error
	if v := hdr.Get(hClientSeq); v != "" {
		if m.ClientSeq, err = strconv.ParseUint(v, 10, 64); err != nil {
			return m, err
		}
	}
	if v := hdr.Get(hTS); v != "" {
		if m.TS, err = strconv.ParseInt(v, 10, 64); err != nil {
			return m, err
		}
	}
	switch hdr.Get(hKind) {
	case kindData:
		m.Kind = ring.KindData
	case kindConfigure:
		m.Kind = ring.KindConfigure
	case kindReset:
		m.Kind = ring.KindReset
	case kindSnapshot:
		m.Kind = ring.KindSnapshot
	default:
		return m, fmt.Errorf("unknown log entry kind %q", hdr.Get(hKind))
	}
	if m.Kind == ring.KindData || m.Kind == ring.KindConfigure {
		in := k.NewInput()
		if err := proto.Unmarshal(data, in); err != nil {
			return m, err
		}
		m.Payload = in
	}
	return m, nil
}
