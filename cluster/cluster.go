// Package cluster runs rings across several gokernels replicas on NATS
// JetStream (opt-in: GOKERNELS_CLUSTER_NATS_URL). Its one job is partition
// ownership plus the replicated log; the state machine stays the ring
// runtime of package ring, hosted in memory by whichever replica owns the
// ring's partition.
//
// Layout, per deployment (names carry Options.Prefix, default "GK"):
//
//   - Rings hash (FNV-1a of tenant/id) onto Options.Partitions partitions.
//   - The log of partition NN is the stream GK_LOG_NN, subjects
//     gk.log.NN.<tenant>.<ring>. Any replica appends a request there with
//     Nats-Msg-Id = tenant/ring/client_id/client_seq, so a retry that lands
//     on another replica inside the duplicate window is not appended twice;
//     the PubAck (a quorum of R3 file stores) is the acceptance. A duplicate
//     PubAck appends a probe without a message id: the owner answers it from
//     the ring's anti-replay window, in log order, so the probe always comes
//     after the original it asks about.
//   - The KV bucket GK_RINGS holds lease.NN (the owner of partition NN),
//     meta.<tenant>.<ring> (kernel and config, written once by Create) and
//     snap.NN.<tenant>.<ring> (the ring's snapshot with the log sequence it
//     covers).
//   - The owner of a partition consumes its log with an ordered consumer,
//     applies every entry to its in-memory ring (so rc.Time is the
//     JetStream timestamp and replay is deterministic), replies on the core
//     subject named in the entry and publishes the ring's events on
//     gk.ev.<tenant>.<ring> for watchers on any replica. Every
//     SnapshotEvery messages it writes the ring's snapshot and purges the
//     log below the lowest sequence a snapshot does not cover.
//
// Ownership and fencing. A lease is the KV key lease.NN; its revision is
// the fencing token. The owner renews it with a compare-and-set Update
// every LeaseTTL/3; any other replica that sees the revision unchanged for
// LeaseTTL on its own monotonic clock (no cross-machine clock comparison)
// may take it over with a compare-and-set on the revision it saw. Every
// durable write of an owner — snapshots and their deletion — is published
// to the bucket's stream with Nats-Expected-Last-Subject-Sequence(-Subject)
// naming the lease key and the revision the owner holds, so the stream
// leader itself refuses the write once anyone else has touched the lease:
// a paused owner that wakes up cannot overwrite a newer owner's snapshot.
// The log is written only by accepting replicas, never by owners, so an old
// owner cannot reorder or drop accepted messages; what it can still do —
// reply from its deterministic copy of the state — is a harmless duplicate.
//
// Why not JetStream's pinned-client priority groups (ADR-42, consumer
// PriorityPolicyPinned)? They do pin one pull client per consumer and fail
// over after PinnedTTL, which would replace the renewal code, but: (1) the
// pin id is only checked on the consumer's own pull requests; it is not a
// token other writes can be made conditional on, so the snapshot store
// would still be unfenced and a resumed zombie could overwrite a newer
// snapshot; (2) a new owner must restart from its snapshot's log sequence,
// not from the durable consumer's ack floor (acks ahead of the last
// snapshot would skip messages the snapshot lacks), so the durable
// consumer's delivery state is of no use and we would re-read with an
// ordered consumer anyway; (3) nobody else can read who is pinned, so
// replicas could not route snapshot reads or report the owner. A KV lease
// gives all three with one compare-and-set.
//
// Balance: replicas heartbeat member.<id>; the desired owner of a
// partition is the highest-random-weight member among the live ones. A
// non-desired owner hands a partition over (snapshot everything, delete
// the lease at its revision) once the desired member is live, so joins and
// leaves move partitions with snapshot + log catch-up. A vacant lease is
// taken at once by its desired member and by anyone after LeaseTTL.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring"
)

// Options configure a Node. Zero values take the documented defaults.
type Options struct {
	// URL is the NATS server list (comma-separated), e.g. nats://nats:4222.
	URL string
	// Member names this replica (the pod name); "" = a random id.
	Member string
	// Partitions is the fixed number of partitions (8). Every replica of a
	// deployment must use the same value.
	Partitions int
	// Replicas is the JetStream replication of the logs and the bucket (3;
	// 1 for a single NATS server).
	Replicas int
	// LeaseTTL is how long an unrenewed lease stays valid (5s); failover
	// takes about this long plus the log catch-up.
	LeaseTTL time.Duration
	// SnapshotEvery is the messages per ring between snapshots (1000).
	SnapshotEvery int
	// Prefix names the streams, bucket and subjects ("GK"), so several
	// deployments can share one NATS account.
	Prefix string
	// MaxSnapshotBytes bounds one snapshot (the bucket's value size and the
	// NATS server's max_payload must allow it; 8 MiB).
	MaxSnapshotBytes int32
	Logger           *slog.Logger
}

func (o *Options) defaults() {
	if o.Partitions <= 0 {
		o.Partitions = 8
	}
	if o.Replicas <= 0 {
		o.Replicas = 3
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 5 * time.Second
	}
	if o.SnapshotEvery <= 0 {
		o.SnapshotEvery = 1000
	}
	if o.Prefix == "" {
		o.Prefix = "GK"
	}
	if o.MaxSnapshotBytes <= 0 {
		o.MaxSnapshotBytes = 8 << 20
	}
	if o.Member == "" {
		o.Member = "m" + nuid.Next()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Node is one replica's membership in the cluster: it accepts requests for
// any ring and hosts the rings of the partitions it owns.
type Node struct {
	opts   Options
	reg    *registry.Registry
	log    *slog.Logger
	nc     *nats.Conn
	js     jetstream.JetStream
	kv     jetstream.KeyValue
	rt     *ring.Runtime // in-memory host of the owned partitions' rings
	sub    string        // lowercase subject prefix
	bucket string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	replySub *nats.Subscription
	replies  sync.Map // correlation id -> chan *wireReply

	mu       sync.Mutex
	owned    map[int]*partition
	leases   []leaseView
	members  map[string]time.Time
	metas    map[string]*Meta
	acquired []time.Time // when this node last acquired each partition (tests, metrics)

	frozen atomic.Pointer[chan struct{}] // non-nil while Freeze holds the node (tests)
	closed atomic.Bool
}

// ErrFenced is returned by a write of an owner whose lease has moved on.
var ErrFenced = errors.New("cluster: the partition lease moved to another owner; write refused")

// New connects to NATS, creates the streams and the bucket if needed and
// starts taking part in ownership.
func New(reg *registry.Registry, opts Options) (*Node, error) {
	opts.defaults()
	nc, err := nats.Connect(opts.URL, nats.Name("gokernels "+opts.Member), nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond), nats.RetryOnFailedConnect(true))
	if err != nil {
		return nil, fmt.Errorf("cluster: connect to NATS %s: %w", opts.URL, err)
	}
	n, err := newNode(reg, opts, nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return n, nil
}

func newNode(reg *registry.Registry, opts Options, nc *nats.Conn) (*Node, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	rt, err := ring.New(reg, ring.Options{IdleTimeout: -1, Logger: opts.Logger, MaxRings: 1 << 20, MaxRingsPerTenant: 1 << 20})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{opts: opts, reg: reg, log: opts.Logger.With("member", opts.Member), nc: nc, js: js, rt: rt,
		sub: lower(opts.Prefix), bucket: opts.Prefix + "_RINGS", ctx: ctx, cancel: cancel,
		owned: map[int]*partition{}, leases: make([]leaseView, opts.Partitions), members: map[string]time.Time{},
		metas: map[string]*Meta{}, acquired: make([]time.Time, opts.Partitions)}
	if err := n.setup(ctx); err != nil {
		cancel()
		_ = rt.Shutdown(context.Background())
		return nil, err
	}
	n.replySub, err = nc.Subscribe(n.sub+".rep."+opts.Member+".*", n.onReply)
	if err != nil {
		cancel()
		return nil, err
	}
	n.wg.Add(2)
	go n.watchKV()
	go n.ownershipLoop()
	return n, nil
}

// setup creates the bucket and the partition logs (idempotent; every
// replica runs it at start). It retries while JetStream elects leaders.
func (n *Node) setup(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = n.setupOnce(ctx); err == nil {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("cluster: JetStream setup: %w", err)
}

func (n *Node) setupOnce(ctx context.Context) error {
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	kv, err := n.js.CreateOrUpdateKeyValue(c, jetstream.KeyValueConfig{Bucket: n.bucket, History: 1,
		Replicas: n.opts.Replicas, Storage: jetstream.FileStorage, MaxValueSize: n.opts.MaxSnapshotBytes})
	if err != nil {
		return err
	}
	if kv, err = leaderReads(c, n.js, kv); err != nil {
		return err
	}
	n.kv = kv
	for p := range n.opts.Partitions {
		_, err := n.js.CreateOrUpdateStream(c, jetstream.StreamConfig{Name: n.streamName(p),
			Subjects: []string{n.logSubject(p, ">")}, Replicas: n.opts.Replicas, Storage: jetstream.FileStorage,
			Duplicates: 10 * time.Minute, Discard: jetstream.DiscardNew, MaxMsgSize: n.opts.MaxSnapshotBytes})
		if err != nil {
			return err
		}
	}
	return nil
}

// leaderReads turns off direct gets on the bucket's stream and returns a
// handle bound to the new setting. A KV bucket is created with direct gets
// on, and any replica may answer one, including a replica that is behind:
// a Get can then return an older revision than one already read (seen in
// TestPausedOwnerIsFenced: revision 15, then 13). A replica taking over a
// partition restores each ring's latest snapshot and replays the log from
// it, and the log has been purged below that snapshot, so an older one
// would silently drop acknowledged messages. With direct gets off, every
// Get is answered by the stream leader, which has every acknowledged
// write. CreateOrUpdateKeyValue keeps the setting of an existing bucket,
// so replicas starting later do not turn it back on.
func leaderReads(ctx context.Context, js jetstream.JetStream, kv jetstream.KeyValue) (jetstream.KeyValue, error) {
	st, err := js.Stream(ctx, kvStream(kv.Bucket()))
	if err != nil {
		return nil, err
	}
	cfg := st.CachedInfo().Config
	if !cfg.AllowDirect {
		return kv, nil
	}
	cfg.AllowDirect = false
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		return nil, err
	}
	return js.KeyValue(ctx, kv.Bucket())
}

// kvStream is the name of the stream behind a KV bucket.
func kvStream(bucket string) string { return "KV_" + bucket }

// Member is this replica's name.
func (n *Node) Member() string { return n.opts.Member }

// Ready reports whether the replica can reach NATS (readiness).
func (n *Node) Ready() error {
	if n.closed.Load() {
		return errors.New("cluster node closed")
	}
	if !n.nc.IsConnected() {
		return fmt.Errorf("not connected to NATS (%s)", n.nc.Status())
	}
	return nil
}

// Runtime is the in-memory runtime hosting the owned rings.
func (n *Node) Runtime() *ring.Runtime { return n.rt }

// Registry is the kernel registry.
func (n *Node) Registry() *registry.Registry { return n.reg }

// Owned lists the partitions this replica owns now.
func (n *Node) Owned() []int {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []int
	for p := range n.opts.Partitions {
		if n.owned[p] != nil {
			out = append(out, p)
		}
	}
	return out
}

// Owner returns the member holding partition p's lease, "" when vacant.
func (n *Node) Owner(p int) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.leases[p].present {
		return ""
	}
	return n.leases[p].owner
}

// AcquiredAt is when this replica last acquired partition p (zero: never).
func (n *Node) AcquiredAt(p int) time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.acquired[p]
}

// Partition is the partition of a ring.
func (n *Node) Partition(tenant, id string) int { return partitionOf(tenant, id, n.opts.Partitions) }

func partitionOf(tenant, id string, parts int) int {
	h := fnv.New64a()
	h.Write([]byte(tenant))
	h.Write([]byte{'/'})
	h.Write([]byte(id))
	return int(h.Sum64() % uint64(parts))
}

func (n *Node) streamName(p int) string { return fmt.Sprintf("%s_LOG_%02d", n.opts.Prefix, p) }
func (n *Node) logSubject(p int, rest string) string {
	return fmt.Sprintf("%s.log.%02d.%s", n.sub, p, rest)
}
func leaseKey(p int) string                 { return fmt.Sprintf("lease.%02d", p) }
func (n *Node) kvSubject(key string) string { return "$KV." + n.bucket + "." + key }
func metaKey(tenant, id string) string      { return "meta." + tenant + "." + id }
func snapKey(p int, tenant, id string) string {
	return fmt.Sprintf("snap.%02d.%s.%s", p, tenant, id)
}
func (n *Node) eventSubject(tenant, id string) string { return n.sub + ".ev." + tenant + "." + id }
func (n *Node) ctlSubject(p int) string               { return fmt.Sprintf("%s.ctl.%02d", n.sub, p) }

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Close leaves the cluster gracefully: owned partitions are snapshotted
// and their leases released, so the next owner takes over at once.
func (n *Node) Close(ctx context.Context) error {
	if n.closed.Swap(true) {
		return nil
	}
	n.Unfreeze()
	n.mu.Lock()
	parts := make([]*partition, 0, len(n.owned))
	for _, p := range n.owned {
		parts = append(parts, p)
	}
	n.mu.Unlock()
	for _, p := range parts {
		p.release(ctx)
	}
	_ = n.kv.Purge(ctx, "member."+n.opts.Member)
	n.cancel()
	n.wg.Wait()
	_ = n.rt.Shutdown(ctx)
	return n.nc.Drain()
}

// Kill stops the replica abruptly, as a crash would: no snapshot, no lease
// release, the NATS connection dropped without drain (tests).
func (n *Node) Kill() {
	if n.closed.Swap(true) {
		return
	}
	n.Unfreeze()
	n.nc.Close()
	n.cancel()
	n.mu.Lock()
	for _, p := range n.owned {
		p.cancel()
	}
	n.mu.Unlock()
	n.wg.Wait()
	_ = n.rt.Shutdown(context.Background())
}

// Freeze stops this replica's lease renewal and its apply loops until
// Unfreeze, as SIGSTOP would (tests of fencing).
func (n *Node) Freeze() {
	c := make(chan struct{})
	n.frozen.CompareAndSwap(nil, &c)
}

// Unfreeze resumes a frozen replica.
func (n *Node) Unfreeze() {
	if c := n.frozen.Swap(nil); c != nil {
		close(*c)
	}
}

// gate blocks while the node is frozen.
func (n *Node) gate(ctx context.Context) {
	if c := n.frozen.Load(); c != nil {
		select {
		case <-*c:
		case <-ctx.Done():
		}
	}
}
