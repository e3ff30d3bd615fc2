package circular

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/txfold"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/graph/components"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

// EventAlert is the kind of the event a transaction emits when it makes
// the output's sccs gain a member set: a CircularFlowAlert.
const EventAlert = "CircularFlowAlert"

// RingState is circular-flow's ring state: the aggregated graph and its
// SCCs, maintained as transactions arrive, never the transactions. It is
// bounded by the distinct entities and directed pairs (plus the ids of the
// latest ts).
//
// SCCs only merge in a graph that only gains edges, so they are kept as a
// union-find whose representative is the smallest member index. A new edge
// u→v between two SCCs closes a cycle exactly when v reaches u in the
// condensation (a DAG); then every SCC on a v⇝u path merges with both.
// Edges already present never need a second look: a path that later joins
// their ends is closed by the edge that completes it, and that edge's
// search finds them.
type RingState struct {
	p     Params
	guard txn.HorizonGuard // ids of the last IDHorizon seconds
	ents  txn.Interner
	out   []float64 // per entity: out_amount, summed in ts order
	total float64   // total_amount, summed in ts order

	// Edges in order of creation (ts order of their first transaction).
	edge  map[uint64]int32 // u<<32 | v → edge index
	eu    []int32
	ev    []int32
	sum   []float64 // per edge, in ts order
	count []int32
	adj   [][]int32 // per entity: its out-edges in creation order

	parent []int32 // union-find; a representative is its SCC's smallest member
	// Per representative (empty elsewhere).
	members [][]int32
	cond    [][]int32 // out-edges leaving the SCC (internal ones are dropped at merges)
	loop    []bool    // holds a counted self-loop
	approx  []float64 // internal amount summed in arrival order: a filter only (see check)
	alerted []int32   // member count at its last alert; 0 before any

	// Search scratch, not state.
	mark  []uint32
	reach []bool
	stamp uint32
	stack []frame
	seen  []int32
}

type frame struct{ rep, next int32 }

func newRing(p Params) *RingState {
	return &RingState{p: p, guard: txn.NewHorizonGuard(p.IDHorizon), edge: map[uint64]int32{}}
}

// RingSpec is the ring handler of compliance/circular-flow: Configure sets
// min_amount and count_self_loops, data messages carry transactions in ts
// order, Snapshot is the Batch output over them. Each transaction that
// makes sccs gain a member set emits EventAlert; the reply is a
// CircularFlowReply.
var RingSpec = fold.Spec[*compliancev1.CircularFlowInput, *compliancev1.CircularFlowOutput, RingState]{
	Messages: fold.Messages{
		Reply: &compliancev1.CircularFlowReply{},
		ReplyDoc: "The alerts the message raised (as emitted) and, per transaction in order, the member " +
			"count of its source's SCC after it.",
		Events: []fold.EventType{
			{Kind: EventAlert, Message: &compliancev1.CircularFlowAlert{}, Doc: "CircularFlowAlert: a transaction " +
				"made the output's sccs gain a member set (a merge closing a cycle, a counted self-loop, or " +
				"internal_amount reaching min_amount): the SCC as Snapshot reports it, with the transaction's id and ts."},
		},
	},
	Configure: txfold.Configure(prepare, func(j *job) *RingState { return newRing(j.params) }),
	Apply:     applyRing,
	Snapshot: func(_ context.Context, s *RingState) (*compliancev1.CircularFlowOutput, error) {
		return s.snapshot(), nil
	},
	Split: txfold.Split[*compliancev1.CircularFlowInput],
}

func applyRing(rc fold.Context, s *RingState, in *compliancev1.CircularFlowInput) error {
	if err := txfold.CheckData(in); err != nil {
		return err
	}
	txs := in.GetTransactions()
	// Check everything first: a refused message changes nothing.
	if err := s.guard.Check(txs, "transactions"); err != nil {
		return err
	}
	var newPairs map[[2]string]bool
	for _, tx := range txs {
		if !s.hasEdge(tx.GetSourceId(), tx.GetDestId()) {
			if newPairs == nil {
				newPairs = map[[2]string]bool{}
			}
			newPairs[[2]string{tx.GetSourceId(), tx.GetDestId()}] = true
		}
	}
	if m := len(s.eu) + len(newPairs); limits.Check("transactions", m, limits.From(rc).MaxEdges) != nil {
		return kerr.Invalid("transactions", "the ring would hold %d directed pairs, over the server limit of %d", m, limits.From(rc).MaxEdges)
	}
	reply := &compliancev1.CircularFlowReply{}
	for _, tx := range txs {
		if err := s.guard.Admit(tx, "transaction"); err != nil {
			return err // checked above; cannot happen
		}
		c, closed := s.add(tx)
		if a := s.check(c, tx, closed); a != nil {
			rc.Emit(EventAlert, a)
			reply.Alerts = append(reply.Alerts, a)
		}
		reply.SccSizes = append(reply.SccSizes, int32(len(s.members[c])))
	}
	fold.Reply(rc, reply)
	return nil
}

func (s *RingState) hasEdge(src, dst string) bool {
	u, ok := s.ents.Lookup(src)
	if !ok {
		return false
	}
	v, ok := s.ents.Lookup(dst)
	if !ok {
		return false
	}
	_, ok = s.edge[edgeKey(u, v)]
	return ok
}

func edgeKey(u, v int32) uint64 { return uint64(uint32(u))<<32 | uint64(uint32(v)) }

// entity interns name, growing the per-entity arrays for a new one.
func (s *RingState) entity(name string) int32 {
	u := s.ents.ID(name)
	if int(u) == len(s.out) {
		s.out = append(s.out, 0)
		s.adj = append(s.adj, nil)
		s.parent = append(s.parent, u)
		s.members = append(s.members, []int32{u})
		s.cond = append(s.cond, nil)
		s.loop = append(s.loop, false)
		s.approx = append(s.approx, 0)
		s.alerted = append(s.alerted, 0)
		s.mark = append(s.mark, 0)
		s.reach = append(s.reach, false)
	}
	return u
}

// newEdge appends the edge u→v.
func (s *RingState) newEdge(u, v int32) int32 {
	e := int32(len(s.eu))
	s.edge[edgeKey(u, v)] = e
	s.eu, s.ev = append(s.eu, u), append(s.ev, v)
	s.sum, s.count = append(s.sum, 0), append(s.count, 0)
	s.adj[u] = append(s.adj[u], e)
	if u != v {
		r := s.find(u)
		s.cond[r] = append(s.cond[r], e)
	}
	return e
}

func (s *RingState) find(u int32) int32 {
	r := u
	for s.parent[r] != r {
		r = s.parent[r]
	}
	for s.parent[u] != r {
		s.parent[u], u = r, s.parent[u]
	}
	return r
}

// counted reports whether a transaction on edge u→v is internal when its
// ends share an SCC.
func (s *RingState) counted(u, v int32) bool { return u != v || s.p.CountSelfLoops }

// add applies one transaction and returns its source's SCC afterwards and
// whether the transaction closed a cycle (merged SCCs).
func (s *RingState) add(tx *financev1.Transaction) (int32, bool) {
	u, v, a := s.entity(tx.GetSourceId()), s.entity(tx.GetDestId()), tx.GetAmount()
	s.out[u] += a
	s.total += a
	e, old := s.edge[edgeKey(u, v)]
	if !old {
		e = s.newEdge(u, v)
	}
	s.sum[e] += a
	s.count[e]++
	ru, rv := s.find(u), s.find(v)
	if ru == rv {
		if s.counted(u, v) {
			s.approx[ru] += a
			if u == v {
				s.loop[ru] = true
			}
		}
		return ru, false
	}
	if old { // the edge was there when u and v already lay in different SCCs
		return ru, false
	}
	if !s.search(rv, ru) {
		return ru, false
	}
	return s.merge(), true
}

// search reports whether from reaches to in the condensation, leaving in
// s.seen the SCCs visited and in s.reach which of them reach to. The
// condensation is a DAG, so a finished SCC's answer is final and each is
// expanded once.
func (s *RingState) search(from, to int32) bool {
	s.stamp++
	if s.stamp == 0 { // wrapped: forget every old mark
		clear(s.mark)
		s.stamp = 1
	}
	s.seen = append(s.seen[:0], from)
	s.mark[from], s.reach[from] = s.stamp, false
	s.stack = append(s.stack[:0], frame{rep: from})
	for len(s.stack) > 0 {
		f := &s.stack[len(s.stack)-1]
		if int(f.next) == len(s.cond[f.rep]) {
			s.stack = s.stack[:len(s.stack)-1]
			if len(s.stack) > 0 && s.reach[f.rep] {
				s.reach[s.stack[len(s.stack)-1].rep] = true
			}
			continue
		}
		w := s.find(s.ev[s.cond[f.rep][f.next]])
		f.next++
		if w == f.rep {
			continue
		}
		if s.mark[w] == s.stamp {
			if s.reach[w] {
				s.reach[f.rep] = true
			}
			continue
		}
		s.mark[w] = s.stamp
		s.seen = append(s.seen, w)
		if w == to {
			s.reach[w], s.reach[f.rep] = true, true
			continue
		}
		s.reach[w] = false
		s.stack = append(s.stack, frame{rep: w})
	}
	return s.reach[from]
}

// merge joins the SCCs of s.seen that reach the search's target into one
// and returns its representative.
func (s *RingState) merge() int32 {
	var parts []int32
	for _, x := range s.seen {
		if s.reach[x] {
			parts = append(parts, x)
		}
	}
	slices.Sort(parts)
	r := parts[0] // the smallest member index of all parts
	inside := func(w int32) bool { return s.mark[w] == s.stamp && s.reach[w] }
	approx := s.approx[r]
	big := r // the largest part keeps its slices; the others are appended
	for _, x := range parts[1:] {
		approx += s.approx[x]
		if len(s.members[x]) > len(s.members[big]) {
			big = x
		}
	}
	members, loop := s.members[big], false
	var cond []int32
	for _, x := range parts {
		if x != big {
			members = append(members, s.members[x]...)
		}
		loop = loop || s.loop[x]
		for _, e := range s.cond[x] {
			if inside(s.find(s.ev[e])) { // now internal
				approx += s.sum[e]
			} else {
				cond = append(cond, e)
			}
		}
	}
	for _, x := range parts {
		s.members[x], s.cond[x], s.approx[x], s.loop[x] = nil, nil, 0, false
		s.parent[x] = r
	}
	// alerted[r] stays: it is at most r's old size, below the new one.
	s.members[r], s.cond[r], s.approx[r], s.loop[r] = members, cond, approx, loop
	return r
}

// check returns the alert of transaction tx, whose source lies in SCC c,
// when c is reported now and was not at its current member set before.
//
// Whether c is reported needs its internal_amount rounded as Snapshot
// rounds it, which walks c's edges; approx (the same amounts summed in
// another order, each relative error below 2^-52 per addition) skips that
// walk while c is clearly below min_amount: both sums lie within n·2^-53
// relative of the exact one, far inside the 1e-6 margin for any n of
// int32 range.
func (s *RingState) check(c int32, tx *financev1.Transaction, closed bool) *compliancev1.CircularFlowAlert {
	size := int32(len(s.members[c]))
	if (size < 2 && !s.loop[c]) || s.alerted[c] == size {
		return nil
	}
	if s.p.MinAmount > 0 && s.approx[c] < s.p.MinAmount*(1-1e-6) {
		return nil
	}
	row := s.row(c)
	if row.InternalAmount < s.p.MinAmount {
		return nil
	}
	s.alerted[c] = size
	return &compliancev1.CircularFlowAlert{Members: row.Members, InternalAmount: row.InternalAmount,
		InternalTxCount: row.InternalTxCount, TxId: tx.GetId(), Ts: tx.GetTs(), CycleClosed: closed}
}

// row is SCC c as Snapshot reports it, summed in edgeSums' order: per
// member by id, its internal out-edges in creation order.
func (s *RingState) row(c int32) *compliancev1.StronglyConnectedFlow {
	ms := slices.Clone(s.members[c])
	slices.SortFunc(ms, func(a, b int32) int { return cmpNames(s.ents.Names[a], s.ents.Names[b]) })
	row := &compliancev1.StronglyConnectedFlow{Members: make([]string, len(ms))}
	for i, u := range ms {
		row.Members[i] = s.ents.Names[u]
		var circOut float64
		for _, e := range s.adj[u] {
			if v := s.ev[e]; s.find(v) == c && s.counted(u, v) {
				circOut += s.sum[e]
				row.InternalTxCount += s.count[e]
			}
		}
		row.InternalAmount += circOut
	}
	return row
}

func cmpNames(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// snapshot is the Batch output: the same sums in the same order as
// edgeSums, from the per-edge sums.
func (s *RingState) snapshot() *compliancev1.CircularFlowOutput {
	out := &compliancev1.CircularFlowOutput{TotalAmount: s.total}
	n := s.ents.Len()
	if n == 0 {
		return out
	}
	label := make([]int32, n)
	for u := range label {
		label[u] = -1
	}
	scc := components.Result{Labels: make([]int32, n)}
	for u := range int32(n) {
		r := s.find(u)
		if label[r] < 0 {
			label[r] = int32(len(scc.Sizes))
			scc.Sizes = append(scc.Sizes, int32(len(s.members[r])))
		}
		scc.Labels[u] = label[r]
	}
	k := scc.Count()
	selfLoop := make([]bool, k)
	internal, count, circOut := make([]float64, k), make([]int32, k), make([]float64, n)
	byName := s.ents.ByName()
	for _, u := range byName {
		c := scc.Labels[u]
		for _, e := range s.adj[u] {
			v := s.ev[e]
			if scc.Labels[v] != c || !s.counted(u, v) {
				continue
			}
			if u == v {
				selfLoop[c] = true
			}
			count[c] += s.count[e]
			circOut[u] += s.sum[e]
		}
		internal[c] += circOut[u]
	}
	return assemble(out, &s.p, s.ents.Names, byName, scc, selfLoop, internal, count, circOut, slices.Clone(s.out))
}

// wire is RingState's encoding: floats as IEEE bits (sums may overflow to
// ±Inf, which JSON cannot carry), the SCCs as each entity's smallest
// fellow member, and what the state derives from those (adjacency lists,
// member lists, approx) left out and rebuilt.
type wire struct {
	MinAmount uint64       `json:"min_amount"`
	SelfLoops bool         `json:"self_loops"`
	IDHorizon int64        `json:"id_horizon"`
	Names     []string     `json:"names"` // entity ids by interned index
	Out       []uint64     `json:"out"`   // out_amount bits by entity
	Total     uint64       `json:"total"`
	Edges     [][4]int64   `json:"edges"` // src, dst, sum bits, count; creation order
	SCC       []int32      `json:"scc"`   // representative by entity
	Alerted   [][2]int32   `json:"alerted"`
	LastTS    int64        `json:"last_ts"`
	Any       bool         `json:"any"`
	Held      []txn.HeldID `json:"held"` // ids of the last id_horizon seconds, in ts order
}

// MarshalJSON encodes the state deterministically.
func (s *RingState) MarshalJSON() ([]byte, error) {
	n := s.ents.Len()
	w := wire{
		MinAmount: math.Float64bits(s.p.MinAmount), SelfLoops: s.p.CountSelfLoops, Names: s.ents.Names,
		Out: make([]uint64, n), Total: math.Float64bits(s.total), Edges: make([][4]int64, len(s.eu)),
		SCC: make([]int32, n), Alerted: [][2]int32{}, IDHorizon: s.p.IDHorizon, Held: s.guard.Held(),
	}
	w.LastTS, w.Any = s.guard.Last()
	if w.Names == nil {
		w.Names = []string{}
	}
	for u := range int32(n) {
		w.Out[u] = math.Float64bits(s.out[u])
		w.SCC[u] = s.find(u)
		if s.parent[u] == u && s.alerted[u] != 0 {
			w.Alerted = append(w.Alerted, [2]int32{u, s.alerted[u]})
		}
	}
	for e := range s.eu {
		w.Edges[e] = [4]int64{int64(s.eu[e]), int64(s.ev[e]), int64(math.Float64bits(s.sum[e])), int64(s.count[e])}
	}
	return json.Marshal(w)
}

// UnmarshalJSON restores a state MarshalJSON wrote.
func (s *RingState) UnmarshalJSON(data []byte) error {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	n := len(w.Names)
	if len(w.Out) != n || len(w.SCC) != n {
		return fmt.Errorf("circular ring state: %d names, %d sums, %d SCC labels", n, len(w.Out), len(w.SCC))
	}
	st := newRing(Params{MinAmount: math.Float64frombits(w.MinAmount), CountSelfLoops: w.SelfLoops, IDHorizon: w.IDHorizon})
	for i, name := range w.Names {
		if u := st.entity(name); int(u) != i {
			return fmt.Errorf("circular ring state: entity %q repeated", name)
		}
		st.out[i] = math.Float64frombits(w.Out[i])
	}
	st.total = math.Float64frombits(w.Total)
	for u, r := range w.SCC {
		if r < 0 || int(r) > u || w.SCC[r] != r {
			return fmt.Errorf("circular ring state: entity %d has representative %d", u, r)
		}
		st.parent[u] = r
		if int(r) != u {
			st.members[r] = append(st.members[r], int32(u))
			st.members[u] = nil
		}
	}
	for _, e := range w.Edges {
		u, v := int32(e[0]), int32(e[1])
		if e[0] < 0 || e[0] >= int64(n) || e[1] < 0 || e[1] >= int64(n) {
			return fmt.Errorf("circular ring state: edge %d→%d names no entity", e[0], e[1])
		}
		if _, dup := st.edge[edgeKey(u, v)]; dup {
			return fmt.Errorf("circular ring state: edge %d→%d repeated", u, v)
		}
		id := int32(len(st.eu))
		st.edge[edgeKey(u, v)] = id
		st.eu, st.ev = append(st.eu, u), append(st.ev, v)
		st.sum, st.count = append(st.sum, math.Float64frombits(uint64(e[2]))), append(st.count, int32(e[3]))
		st.adj[u] = append(st.adj[u], id)
		ru, rv := st.parent[u], st.parent[v]
		switch {
		case ru != rv:
			st.cond[ru] = append(st.cond[ru], id)
		case st.counted(u, v):
			st.approx[ru] += st.sum[id]
			if u == v {
				st.loop[ru] = true
			}
		}
	}
	for _, a := range w.Alerted {
		if a[0] < 0 || int(a[0]) >= n || st.parent[a[0]] != a[0] {
			return fmt.Errorf("circular ring state: alert mark on %d, not a representative", a[0])
		}
		st.alerted[a[0]] = a[1]
	}
	g, err := txn.Restore(w.IDHorizon, w.LastTS, w.Any, w.Held)
	if err != nil {
		return fmt.Errorf("circular ring state: %w", err)
	}
	st.guard = g
	*s = *st
	return nil
}
