package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// leaseView is what this replica last saw of a partition's lease, with
// the local monotonic time it changed: a revision that stays the same for
// LeaseTTL means its owner stopped renewing.
type leaseView struct {
	present bool
	owner   string
	rev     uint64
	changed time.Time
}

type leaseValue struct {
	Owner string `json:"owner"`
}

// watchKV keeps the lease and member views current.
func (n *Node) watchKV() {
	defer n.wg.Done()
	for n.ctx.Err() == nil {
		w, err := n.kv.WatchFiltered(n.ctx, []string{"lease.*", "member.*"})
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		for e := range w.Updates() {
			if e == nil {
				continue // end of the initial values
			}
			n.observe(e)
		}
		_ = w.Stop()
	}
}

func (n *Node) observe(e jetstream.KeyValueEntry) {
	now := time.Now()
	del := e.Operation() != jetstream.KeyValuePut
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case strings.HasPrefix(e.Key(), "lease."):
		p, err := strconv.Atoi(strings.TrimPrefix(e.Key(), "lease."))
		if err != nil || p < 0 || p >= len(n.leases) {
			return
		}
		v := &n.leases[p]
		if e.Revision() < v.rev {
			return // an older update arriving late
		}
		if e.Revision() != v.rev || v.changed.IsZero() {
			v.changed = now
		}
		v.rev, v.present = e.Revision(), !del
		v.owner = ""
		if !del {
			var lv leaseValue
			_ = json.Unmarshal(e.Value(), &lv)
			v.owner = lv.Owner
		}
	case strings.HasPrefix(e.Key(), "member."):
		id := strings.TrimPrefix(e.Key(), "member.")
		if del {
			delete(n.members, id)
		} else {
			n.members[id] = now
		}
	}
}

// desired is the highest-random-weight live member for partition p.
func (n *Node) desiredLocked(p int, now time.Time) string {
	best, bestW := n.opts.Member, weight(n.opts.Member, p)
	for id, seen := range n.members {
		if now.Sub(seen) > n.opts.LeaseTTL {
			continue
		}
		if w := weight(id, p); w > bestW || (w == bestW && id < best) {
			best, bestW = id, w
		}
	}
	return best
}

func weight(member string, p int) uint64 {
	h := fnv.New64a()
	h.Write([]byte(member))
	h.Write([]byte{byte(p), byte(p >> 8)})
	return h.Sum64()
}

// ownershipLoop heartbeats membership, renews owned leases, takes vacant
// or expired ones and hands partitions to their desired owner.
func (n *Node) ownershipLoop() {
	defer n.wg.Done()
	tick := time.NewTicker(max(n.opts.LeaseTTL/8, 20*time.Millisecond))
	defer tick.Stop()
	var lastBeat time.Time
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-tick.C:
		}
		n.gate(n.ctx)
		if n.ctx.Err() != nil {
			return
		}
		now := time.Now()
		if now.Sub(lastBeat) >= n.opts.LeaseTTL/3 {
			c, cancel := context.WithTimeout(n.ctx, n.opts.LeaseTTL/3)
			if _, err := n.kv.Put(c, "member."+n.opts.Member, []byte(strconv.FormatInt(now.UnixMilli(), 10))); err == nil {
				lastBeat = now
			}
			cancel()
		}
		for p := range n.opts.Partitions {
			n.tend(p, now)
		}
	}
}

func (n *Node) tend(p int, now time.Time) {
	n.mu.Lock()
	part := n.owned[p]
	v := n.leases[p]
	desired := n.desiredLocked(p, now)
	desiredLive := desired == n.opts.Member || now.Sub(n.members[desired]) <= n.opts.LeaseTTL
	n.mu.Unlock()
	ttl := n.opts.LeaseTTL
	if part != nil {
		if part.isDone() {
			n.drop(part)
			return
		}
		if now.Sub(part.renewed) >= ttl/3 {
			if err := part.renew(n.ctx); err != nil {
				n.log.Warn("partition lease lost", "partition", p, "error", err)
				n.drop(part)
				return
			}
		}
		if desired != n.opts.Member && desiredLive && now.Sub(part.since) > 2*ttl {
			n.log.Info("handing partition to its desired owner", "partition", p, "to", desired)
			part.release(n.ctx)
			n.drop(part)
		}
		return
	}
	me := desired == n.opts.Member
	switch {
	case !v.present && (me || now.Sub(v.changed) > ttl):
		n.acquire(p, 0)
	case v.present && v.owner != n.opts.Member && (now.Sub(v.changed) > ttl && (me || now.Sub(v.changed) > ttl*3/2)):
		n.acquire(p, v.rev)
	case v.present && v.owner == n.opts.Member && now.Sub(v.changed) > ttl:
		// Our own lease from before a restart: take it back like any other.
		n.acquire(p, v.rev)
	}
}

// acquire takes partition p's lease by compare-and-set (rev 0: create).
func (n *Node) acquire(p int, rev uint64) {
	val, _ := json.Marshal(leaseValue{Owner: n.opts.Member})
	c, cancel := context.WithTimeout(n.ctx, n.opts.LeaseTTL/2)
	defer cancel()
	var err error
	var got uint64
	if rev == 0 {
		got, err = n.kv.Create(c, leaseKey(p), val)
	} else {
		got, err = n.kv.Update(c, leaseKey(p), val, rev)
	}
	if err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) && n.ctx.Err() == nil {
			n.log.Debug("lease take failed", "partition", p, "error", err)
		}
		return
	}
	now := time.Now()
	part := newPartition(n, p, got, now)
	n.mu.Lock()
	if n.closed.Load() {
		n.mu.Unlock()
		return
	}
	n.owned[p] = part
	n.acquired[p] = now
	n.mu.Unlock()
	n.log.Info("partition acquired", "partition", p, "revision", got)
	part.start()
}

// drop forgets an owned partition and unloads its rings.
func (n *Node) drop(part *partition) {
	part.cancel()
	<-part.done
	n.mu.Lock()
	if n.owned[part.idx] == part {
		delete(n.owned, part.idx)
	}
	n.mu.Unlock()
	part.unload()
}
