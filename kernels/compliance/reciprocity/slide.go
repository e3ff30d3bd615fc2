package reciprocity

import (
	"math"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	"github.com/gokernels/gokernels/kernels/finance/txn"
)

// exactInt is 2^53: integers up to it are exact float64s, so sums of
// integer amounts that stay below it can be subtracted without drift.
const exactInt = 1 << 53

func integral(a float64) bool { return a == math.Trunc(a) && a <= exactInt }

// push queues a counted transaction of the sliding window (ring only),
// after add counted it in its flow.
func (s *State) push(ts int64, u, v int32, amount float64) {
	s.queue = append(s.queue, queued{ts: ts, u: u, v: v, amount: amount})
	f := s.flows[key(u, v)]
	f.amts = append(f.amts, amount)
	if !integral(amount) {
		f.frac++
	}
	for len(s.refs) <= int(max(u, v)) {
		s.refs = append(s.refs, 0)
	}
	for _, e := range [2]int32{u, v} {
		if s.refs[e]++; s.refs[e] == 1 {
			s.live++
		}
	}
}

// expire removes every queued transaction with ts <= t - W from its pair
// (t >= every queued ts: the ring admits transactions in ts order). A pair
// left empty is dropped; an alerted pair that stops being reciprocal is
// re-armed, so it alerts again when it next becomes reciprocal.
func (s *State) expire(t int64) {
	w := uint64(s.p.Slide)
	expired := false
	for s.qhead < len(s.queue) && uint64(t)-uint64(s.queue[s.qhead].ts) >= w {
		q := s.queue[s.qhead]
		s.qhead++
		expired = true
		k := key(q.u, q.v)
		f := s.flows[k]
		exact := f.frac == 0 && f.amount <= exactInt // every live amount an integer, all partial sums exact
		f.head++
		f.count--
		if !integral(q.amount) {
			f.frac--
		}
		for _, e := range [2]int32{q.u, q.v} {
			if s.refs[e]--; s.refs[e] == 0 {
				s.live--
			}
		}
		if f.count == 0 {
			delete(s.flows, k)
		} else {
			if exact {
				f.amount -= q.amount
			} else {
				f.amount = 0 // the Batch sum: the live amounts re-added in ts order
				for _, a := range f.amts[f.head:] {
					f.amount += a
				}
			}
			if int(f.head) > len(f.amts)/2 {
				f.amts = append(f.amts[:0], f.amts[f.head:]...)
				f.head = 0
			}
		}
		s.rearm(q.u, q.v)
	}
	if s.qhead > 64 && s.qhead > len(s.queue)/2 {
		s.queue = append(s.queue[:0], s.queue[s.qhead:]...)
		s.qhead = 0
	}
	if s.qhead == len(s.queue) {
		s.queue, s.qhead = s.queue[:0], 0
	}
	if expired {
		s.compact()
	}
}

// rearm clears the alerted flags of the pair {u, v} when it is no longer
// reciprocal (a direction gone, or its min below min_amount).
func (s *State) rearm(u, v int32) {
	f, back := s.flows[key(u, v)], s.flows[key(v, u)]
	if f != nil && back != nil && min(f.amount, back.amount) >= s.p.MinAmount {
		return
	}
	if f != nil {
		f.alerted = false
	}
	if back != nil {
		back.alerted = false
	}
}

// compact re-interns the entities of the live window when more than half
// of the interned names have no live transaction, so the names stay
// bounded by one window's traffic. New ids follow the queue's order of
// first appearance, like a fresh Batch.
func (s *State) compact() {
	live := s.live
	if s.ents.Len() <= 2*live+64 {
		return
	}
	var ents txn.Interner
	old := s.ents.Names
	remap := func(id int32) int32 { return ents.ID(old[id]) }
	flows := make(map[uint64]*flow, len(s.flows))
	q := s.queue[s.qhead:]
	refs := make([]int32, 0, live)
	for i := range q {
		k := key(q[i].u, q[i].v)
		q[i].u, q[i].v = remap(q[i].u), remap(q[i].v)
		for len(refs) < ents.Len() {
			refs = append(refs, 0)
		}
		refs[q[i].u]++
		refs[q[i].v]++
		nk := key(q[i].u, q[i].v)
		if flows[nk] == nil {
			flows[nk] = s.flows[k]
		}
	}
	s.ents, s.flows, s.refs = ents, flows, refs
	s.queue, s.qhead = append(s.queue[:0], q...), 0
}

// slidingSnapshot is the Batch output over the live window: a fresh fold
// of the queued transactions, so interning and summation order match
// Batch bit for bit.
func (s *State) slidingSnapshot() *compliancev1.ReciprocityFlowOutput {
	b := New(Params{MinAmount: s.p.MinAmount})
	for _, q := range s.queue[s.qhead:] {
		b.addNames(s.ents.Names[q.u], s.ents.Names[q.v], q.amount)
	}
	return b.Snapshot()
}
