package ring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/kernels/registry"
)

// Options configure a Runtime. Zero values take the documented defaults.
type Options struct {
	// Dir holds durable rings (GOKERNELS_DATA_DIR); "" allows only NONE.
	Dir string
	// Development relaxes the financial kernels' JOURNAL requirement.
	Development bool
	// MailboxCapacity is the default per-ring mailbox (1024).
	MailboxCapacity int
	// SnapshotEvery is the default number of applied messages between
	// snapshots (10000).
	SnapshotEvery int
	// GroupCommitMax bounds the messages taken per journal fsync (256).
	GroupCommitMax int
	// IdleTimeout passivates rings with no message for this long
	// (GOKERNELS_RING_IDLE_TIMEOUT, 15m; <0 never).
	IdleTimeout time.Duration
	// MaxRings bounds the active rings (10000); MaxRingsPerTenant the rings
	// of one tenant, active or not (1000); MaxStateBytes the encoded state
	// of one ring (64 MiB).
	MaxRings          int
	MaxRingsPerTenant int
	MaxStateBytes     int64
	// MaxRestarts handler panics within RestartWindow mark a ring FAILED
	// (3 in 60s).
	MaxRestarts   int
	RestartWindow time.Duration
	// Metrics registers the gokernels_ring_* families (nil: not exported).
	Metrics prometheus.Registerer
	Logger  *slog.Logger
	// JournalFault is for fault-injection tests of code above the runtime
	// (the server's Session stream): called before every journal segment
	// write ("write") and fsync ("sync"); a non-nil error is that
	// operation's failure. nil in production.
	JournalFault func(op string) error
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MailboxCapacity, 1024)
	def(&o.SnapshotEvery, 10000)
	def(&o.GroupCommitMax, 256)
	def(&o.MaxRings, 10000)
	def(&o.MaxRingsPerTenant, 1000)
	def(&o.MaxRestarts, 3)
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 15 * time.Minute
	}
	if o.MaxStateBytes == 0 {
		o.MaxStateBytes = 64 << 20
	}
	if o.RestartWindow <= 0 {
		o.RestartWindow = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// FinancialKernels must be JOURNAL when a data directory is set, outside
// development.
var FinancialKernels = []string{"orderbook/matching", "payments/processing", "clearing/settlement", "clearing/dvp-matching"}

// Runtime hosts rings.
type Runtime struct {
	opts    Options
	reg     *registry.Registry
	log     *slog.Logger
	metrics *metrics
	ctx     context.Context
	cancel  context.CancelFunc

	mu         sync.RWMutex
	rings      map[string]*Ring // by name
	tombstones map[string]time.Time
	active     atomic.Int64
	draining   atomic.Bool
	// segWrap wraps every journal segment file the runtime opens (tests
	// inject write and fsync faults with it); nil = the file itself.
	segWrap   func(segFile) segFile
	janitor   chan struct{}
	janitorWG sync.WaitGroup
}

// New opens a runtime. Durable rings found under opts.Dir are registered
// PASSIVATED and recovered on their first use.
func New(reg *registry.Registry, opts Options) (*Runtime, error) {
	opts.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	rt := &Runtime{opts: opts, reg: reg, log: opts.Logger, ctx: ctx, cancel: cancel,
		rings: map[string]*Ring{}, tombstones: map[string]time.Time{}, janitor: make(chan struct{})}
	rt.metrics = newMetrics(rt, opts.Metrics)
	if f := opts.JournalFault; f != nil {
		rt.segWrap = func(s segFile) segFile { return hookedSegment{s, f} }
	}
	// The directory is created by the first durable ring, so a server that
	// never hosts one leaves no trace on disk.
	if _, err := os.Stat(opts.Dir); opts.Dir != "" && err == nil {
		if err := rt.scan(); err != nil {
			cancel()
			return nil, err
		}
	}
	rt.janitorWG.Add(1)
	go rt.sweep()
	return rt, nil
}

// Dir is the data directory ("" when none).
func (rt *Runtime) Dir() string { return rt.opts.Dir }

func (rt *Runtime) scan() error {
	metas, err := filepath.Glob(filepath.Join(rt.opts.Dir, "tenants", "*", "rings", "*", "ring.json"))
	if err != nil {
		return err
	}
	for _, p := range metas {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var m ringMeta
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		k, ok := rt.reg.Get(m.KernelID)
		if !ok {
			rt.log.Warn("ring of an unknown kernel left on disk", "path", filepath.Dir(p), "kernel_id", m.KernelID)
			continue
		}
		r := rt.newRing(m.Tenant, m.ID, k, m.Config)
		r.created, r.paused = m.Created, m.Paused
		r.state = Passivated
		rt.rings[r.Name] = r
	}
	return nil
}

var idPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Name is a ring's resource name.
func Name(tenant, id string) string { return "tenants/" + tenant + "/rings/" + id }

// ParseName splits tenants/{tenant}/rings/{id}.
func ParseName(name string) (tenant, id string, ok bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "tenants" || parts[2] != "rings" || parts[1] == "" || parts[3] == "" {
		return "", "", false
	}
	return parts[1], parts[3], true
}

func (rt *Runtime) newRing(tenant, id string, k *registry.Kernel, cfg Config) *Ring {
	r := &Ring{rt: rt, Tenant: tenant, ID: id, Name: Name(tenant, id), kernel: k, cfg: cfg, created: time.Now().UTC(),
		km: rt.metrics.forKernel(k.ID)}
	if rt.opts.Dir != "" && cfg.Durability != None {
		r.dir = filepath.Join(rt.opts.Dir, "tenants", tenant, "rings", id)
	}
	return r
}

// Create makes a ring of kernelID. configure (optional) is applied as the
// ring's first message.
func (rt *Runtime) Create(ctx context.Context, tenant, id, kernelID string, cfg Config, configure proto.Message) (*Ring, error) {
	if err := rt.admit(); err != nil {
		return nil, err
	}
	if !idPattern.MatchString(id) {
		return nil, errorf(codes.InvalidArgument, ReasonInvalidRingID, "ring_id %q must be 1-63 lowercase letters, digits or '-', "+
			"starting and ending with a letter or digit", id)
	}
	if !idPattern.MatchString(tenant) {
		return nil, errorf(codes.InvalidArgument, "", "tenant %q is not a valid name segment", tenant)
	}
	k, ok := rt.reg.Get(kernelID)
	if !ok {
		return nil, errorf(codes.NotFound, "", "kernel %q not found", kernelID)
	}
	if !k.HasMode(registry.Ring) {
		return nil, errorf(codes.FailedPrecondition, ReasonNotRing, "kernel %s is not a Ring kernel (modes: Batch only); "+
			"run it with Execute", kernelID)
	}
	if _, ok := k.RingHandler(); !ok {
		return nil, errorf(codes.Unimplemented, ReasonNotRing, "kernel %s lists the Ring mode but has no ring handler yet", kernelID)
	}
	if cfg.Durability == 0 {
		cfg.Durability = Journal
		if rt.opts.Dir == "" {
			cfg.Durability = None
		}
	}
	if cfg.Durability != None && rt.opts.Dir == "" {
		return nil, errorf(codes.FailedPrecondition, ReasonDurability, "durability %s needs a data directory "+
			"(GOKERNELS_DATA_DIR); this server keeps rings in memory only", cfg.Durability)
	}
	if slices.Contains(FinancialKernels, kernelID) && rt.opts.Dir != "" && !rt.opts.Development && cfg.Durability != Journal {
		return nil, errorf(codes.FailedPrecondition, ReasonDurability, "kernel %s keeps financial state: it needs durability "+
			"JOURNAL", kernelID)
	}
	if cfg.MailboxCapacity <= 0 {
		cfg.MailboxCapacity = rt.opts.MailboxCapacity
	}
	if cfg.MailboxCapacity > 1<<16 {
		return nil, errorf(codes.InvalidArgument, "", "mailbox_capacity %d exceeds 65536", cfg.MailboxCapacity)
	}
	if cfg.SnapshotEvery <= 0 {
		cfg.SnapshotEvery = rt.opts.SnapshotEvery
	}
	name := Name(tenant, id)
	if cfg.Seed == 0 {
		h := fnv.New64a()
		h.Write([]byte(name))
		cfg.Seed = h.Sum64()
	}

	rt.mu.Lock()
	if _, ok := rt.rings[name]; ok {
		rt.mu.Unlock()
		return nil, errorf(codes.AlreadyExists, ReasonExists, "ring %s already exists", name)
	}
	n := 0
	for _, r := range rt.rings {
		if r.Tenant == tenant {
			n++
		}
	}
	if n >= rt.opts.MaxRingsPerTenant {
		rt.mu.Unlock()
		rt.metrics.rejected(kernelID, "max_rings")
		return nil, errorf(codes.ResourceExhausted, ReasonTooManyRings, "tenant %s has %d rings, the limit", tenant, n)
	}
	if err := rt.reserveActive(); err != nil {
		rt.mu.Unlock()
		return nil, err
	}
	r := rt.newRing(tenant, id, k, cfg)
	r.state = Passivated // not visible until started below
	rt.rings[name] = r
	delete(rt.tombstones, name)
	rt.mu.Unlock()

	fail := func(err error) (*Ring, error) {
		rt.mu.Lock()
		delete(rt.rings, name)
		rt.mu.Unlock()
		rt.releaseActive()
		if r.dir != "" {
			_ = os.RemoveAll(r.dir)
		}
		return nil, err
	}
	if r.dir != "" {
		if _, err := os.Stat(r.dir); err == nil {
			_ = os.RemoveAll(r.dir) // left over from a ring deleted while its files were busy
		}
		if err := r.writeMeta(); err != nil {
			return fail(fmt.Errorf("ring directory: %w", err))
		}
	}
	r.mu.Lock()
	if err := r.recover(); err != nil {
		r.mu.Unlock()
		return fail(err)
	}
	r.start()
	r.mu.Unlock()
	if configure != nil {
		rep, err := r.Send(ctx, Message{Kind: KindConfigure, Payload: configure})
		if err == nil && rep.Err != nil {
			err = rep.Err
		}
		if err != nil {
			_ = rt.Delete(tenant, id)
			return nil, err
		}
	}
	return r, nil
}

// Get returns a ring of tenant.
func (rt *Runtime) Get(tenant, id string) (*Ring, error) {
	name := Name(tenant, id)
	rt.mu.RLock()
	r, ok := rt.rings[name]
	_, evicted := rt.tombstones[name]
	rt.mu.RUnlock()
	if !ok {
		if evicted {
			return nil, errorf(codes.NotFound, ReasonEvicted, "ring %s was evicted after being idle (durability NONE keeps "+
				"nothing); create it again", name)
		}
		return nil, errorf(codes.NotFound, ReasonNotFound, "ring %s not found", name)
	}
	return r, nil
}

// List returns the rings of tenant ("" = all), sorted by name.
func (rt *Runtime) List(tenant string) []Info {
	rt.mu.RLock()
	var rs []*Ring
	for _, r := range rt.rings {
		if tenant == "" || r.Tenant == tenant {
			rs = append(rs, r)
		}
	}
	rt.mu.RUnlock()
	out := make([]Info, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Info())
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Delete stops a ring and removes its data.
func (rt *Runtime) Delete(tenant, id string) error {
	r, err := rt.Get(tenant, id)
	if err != nil {
		return err
	}
	rt.mu.Lock()
	delete(rt.rings, r.Name)
	rt.mu.Unlock()
	r.stop(Deleted)
	r.ev.end(EndDeleted)
	if r.dir != "" {
		if err := os.RemoveAll(r.dir); err != nil {
			return err
		}
	}
	return nil
}

// Passivate snapshots and unloads a durable ring, or deletes a NONE ring
// leaving a tombstone (RING_EVICTED). The idle sweep calls it.
func (rt *Runtime) Passivate(r *Ring) {
	r.ev.end(EndIdleEvicted)
	if r.cfg.Durability == None || r.dir == "" {
		rt.mu.Lock()
		delete(rt.rings, r.Name)
		rt.tombstones[r.Name] = time.Now()
		rt.mu.Unlock()
		r.stop(Deleted)
		rt.metrics.passivated(r.kernel.ID)
		return
	}
	r.stop(Passivated)
	rt.metrics.passivated(r.kernel.ID)
}

func (rt *Runtime) sweep() {
	defer rt.janitorWG.Done()
	if rt.opts.IdleTimeout < 0 {
		<-rt.janitor
		return
	}
	every := min(max(rt.opts.IdleTimeout/4, 10*time.Millisecond), 30*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-rt.janitor:
			return
		case now := <-t.C:
			rt.mu.Lock()
			for name, at := range rt.tombstones {
				if now.Sub(at) > time.Hour {
					delete(rt.tombstones, name)
				}
			}
			var idle []*Ring
			for _, r := range rt.rings {
				r.mu.RLock()
				st := r.state
				r.mu.RUnlock()
				// A paused durable ring is unloaded like an idle one (it comes
				// back paused); a paused NONE ring is kept, since evicting it
				// would drop state its owner chose to hold.
				idleState := st == Active || (st == Paused && r.dir != "")
				if idleState && now.Sub(time.Unix(0, r.lastActive.Load())) > rt.opts.IdleTimeout {
					idle = append(idle, r)
				}
			}
			rt.mu.Unlock()
			for _, r := range idle {
				rt.Passivate(r)
			}
		}
	}
}

func (rt *Runtime) admit() error {
	if rt.draining.Load() {
		return errorf(codes.Unavailable, ReasonDraining, "the server is draining; retry on another replica with the same client_seq")
	}
	return nil
}

func (rt *Runtime) reserveActive() error {
	if rt.active.Add(1) > int64(rt.opts.MaxRings) {
		rt.active.Add(-1)
		rt.metrics.rejected("", "max_rings")
		return errorf(codes.ResourceExhausted, ReasonTooManyRings, "the server has %d active rings, its limit; retry later",
			rt.opts.MaxRings)
	}
	return nil
}

func (rt *Runtime) releaseActive() { rt.active.Add(-1) }

// Active is the number of rings with a running goroutine.
func (rt *Runtime) Active() int { return int(rt.active.Load()) }

// Shutdown drains: new messages get UNAVAILABLE, every ring applies its
// mailbox, durable rings are snapshotted, watchers are told DRAINING.
func (rt *Runtime) Shutdown(ctx context.Context) error {
	if rt.draining.Swap(true) {
		return nil
	}
	close(rt.janitor)
	rt.janitorWG.Wait()
	rt.mu.RLock()
	rs := make([]*Ring, 0, len(rt.rings))
	for _, r := range rt.rings {
		rs = append(rs, r)
	}
	rt.mu.RUnlock()
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, r := range rs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.ev.end(EndDraining)
				r.stop(Passivated)
			}()
		}
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		rt.cancel()
		return nil
	case <-ctx.Done():
		rt.cancel()
		return errors.New("ring drain timed out")
	}
}

// Registry is the kernel registry the runtime serves.
func (rt *Runtime) Registry() *registry.Registry { return rt.reg }
