package circular

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/exactsum"
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
	// While exact, the same sums (and sumX per edge) as exactsum sums,
	// which Snapshot reports instead, as Batch does (see exactSnapshot);
	// the first amount that does not qualify, or a total that no longer
	// fits, drops them for good and the float64 sums are reported.
	exact  bool
	totalX exactsum.Sum
	outX   []exactsum.Sum
	sumX   []exactsum.Sum

	// Edges in order of creation (ts order of their first transaction).
	edge  map[uint64]int32 // u<<32 | v → edge index
	eu    []int32
	ev    []int32
	sum   []float64 // per edge, in ts order
	count []int32
	adj   [][]int32 // per entity: its out-edges in creation order

	parent []int32 // union-find; a representative is its SCC's smallest member
	// Per representative (empty elsewhere).
	members [][]int32 // sorted by name
	cond    [][]int32 // out-edges leaving the SCC (internal ones are dropped at merges)
	rcond   [][]int32 // in-edges entering the SCC
	ord     []int32   // a topological order of the SCCs (Pearce–Kelly); not encoded
	loop    []bool    // holds a counted self-loop
	approx  []float64 // internal amount summed in arrival order: a filter only (see check)
	alerted []int32   // member count at its last alert; 0 before any

	// Search scratch, not state.
	markF, markB []uint32
	stamp        uint32
	nextOrd      int32
	stack        []int32
	fwd, bwd     []int32
}

func newRing(p Params) *RingState {
	return &RingState{p: p, guard: txn.NewHorizonGuard(p.IDHorizon), edge: map[uint64]int32{}, exact: true}
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
		if s.exact {
			s.outX = append(s.outX, exactsum.Sum{})
		}
		s.adj = append(s.adj, nil)
		s.parent = append(s.parent, u)
		s.members = append(s.members, []int32{u})
		s.cond = append(s.cond, nil)
		s.rcond = append(s.rcond, nil)
		s.ord = append(s.ord, s.nextOrd)
		s.nextOrd++
		s.loop = append(s.loop, false)
		s.approx = append(s.approx, 0)
		s.alerted = append(s.alerted, 0)
		s.markF = append(s.markF, 0)
		s.markB = append(s.markB, 0)
	}
	return u
}

// newEdge appends the edge u→v.
func (s *RingState) newEdge(u, v int32) int32 {
	e := int32(len(s.eu))
	s.edge[edgeKey(u, v)] = e
	s.eu, s.ev = append(s.eu, u), append(s.ev, v)
	s.sum, s.count = append(s.sum, 0), append(s.count, 0)
	if s.exact {
		s.sumX = append(s.sumX, exactsum.Sum{})
	}
	s.adj[u] = append(s.adj[u], e)
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
	if s.exact {
		if t, ok := exactsum.Of(a); !ok || s.totalX.Add(t) {
			s.exact, s.totalX, s.outX, s.sumX = false, exactsum.Sum{}, nil, nil
		} else {
			s.outX[u].Add(t) // at most the total: no overflow
			s.sumX[e].Add(t)
		}
	}
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
	s.cond[ru] = append(s.cond[ru], e)
	s.rcond[rv] = append(s.rcond[rv], e)
	if s.ord[ru] < s.ord[rv] { // consistent with the order: no cycle, nothing moves
		return ru, false
	}
	return s.reorder(ru, rv)
}

// reorder handles a new edge ru→rv against the topological order of the
// SCCs (Pearce and Kelly, "A dynamic topological sort algorithm for
// directed acyclic graphs", JEA 2006): only SCCs ordered between rv and ru
// can lie on an rv⇝ru path, so the forward search from rv stops above
// ord[ru] and the backward search from ru below ord[rv]. When the forward
// search reaches ru the SCCs found by both lie on rv⇝ru paths and merge
// into one; either way the searched SCCs are renumbered within their own
// order slots (those reaching ru first, then the merged one, then those
// reached from rv), which keeps the order topological. It returns the
// source's SCC and whether it merged.
func (s *RingState) reorder(ru, rv int32) (int32, bool) {
	ub, lb := s.ord[ru], s.ord[rv]
	s.stamp++
	if s.stamp == 0 { // wrapped: forget every old mark
		clear(s.markF)
		clear(s.markB)
		s.stamp = 1
	}
	s.fwd = s.collect(rv, s.fwd[:0], s.markF, s.cond, s.ev, func(w int32) bool { return s.ord[w] <= ub })
	s.bwd = s.collect(ru, s.bwd[:0], s.markB, s.rcond, s.eu, func(w int32) bool { return s.ord[w] >= lb })
	cycle := s.markF[ru] == s.stamp
	var pool, parts, before, after []int32
	for _, x := range s.bwd {
		pool = append(pool, s.ord[x])
		if cycle && s.markF[x] == s.stamp {
			parts = append(parts, x)
		} else {
			before = append(before, x)
		}
	}
	for _, x := range s.fwd {
		if s.markB[x] != s.stamp {
			pool = append(pool, s.ord[x])
			after = append(after, x)
		}
	}
	slices.Sort(pool)
	byOrd := func(a, b int32) int { return cmp.Compare(s.ord[a], s.ord[b]) }
	slices.SortFunc(before, byOrd)
	slices.SortFunc(after, byOrd)
	i := 0
	for _, x := range before {
		s.ord[x] = pool[i]
		i++
	}
	r := ru
	if cycle {
		r = s.merge(parts)
		s.ord[r] = pool[i]
		i++
	}
	for _, x := range after {
		s.ord[x] = pool[i]
		i++
	}
	return r, cycle
}

// collect returns in out the SCCs reachable from start over the edge
// lists adj (the far end of edge e is end[e]) through SCCs that pass keep,
// marking them in mark.
func (s *RingState) collect(start int32, out []int32, mark []uint32, adj [][]int32, end []int32, keep func(int32) bool) []int32 {
	mark[start] = s.stamp
	out = append(out, start)
	s.stack = append(s.stack[:0], start)
	for len(s.stack) > 0 {
		x := s.stack[len(s.stack)-1]
		s.stack = s.stack[:len(s.stack)-1]
		for _, e := range adj[x] {
			w := s.find(end[e])
			if w == x || mark[w] == s.stamp || !keep(w) {
				continue
			}
			mark[w] = s.stamp
			out = append(out, w)
			s.stack = append(s.stack, w)
		}
	}
	return out
}

// merge joins the SCCs parts (every one on an rv⇝ru path) into one and
// returns its representative, the smallest member index of all.
func (s *RingState) merge(parts []int32) int32 {
	slices.Sort(parts)
	r := parts[0]
	inside := func(w int32) bool { return s.markF[w] == s.stamp && s.markB[w] == s.stamp }
	approx := s.approx[r]
	big := r // the largest part's members are merged with the others
	for _, x := range parts[1:] {
		approx += s.approx[x]
		if len(s.members[x]) > len(s.members[big]) {
			big = x
		}
	}
	members, loop := s.members[big], false
	var cond, rcond []int32
	for _, x := range parts {
		if x != big {
			members = s.mergeNames(members, s.members[x])
		}
		loop = loop || s.loop[x]
		for _, e := range s.cond[x] {
			if inside(s.find(s.ev[e])) { // now internal
				approx += s.sum[e]
			} else {
				cond = append(cond, e)
			}
		}
		for _, e := range s.rcond[x] {
			if !inside(s.find(s.eu[e])) {
				rcond = append(rcond, e)
			}
		}
	}
	for _, x := range parts {
		s.members[x], s.cond[x], s.rcond[x], s.approx[x], s.loop[x] = nil, nil, nil, 0, false
		s.parent[x] = r
	}
	// alerted[r] stays: it is at most r's old size, below the new one.
	s.members[r], s.cond[r], s.rcond[r], s.approx[r], s.loop[r] = members, cond, rcond, approx, loop
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

// mergeNames merges two member lists sorted by name.
func (s *RingState) mergeNames(a, b []int32) []int32 {
	out := make([]int32, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if s.ents.Names[b[0]] < s.ents.Names[a[0]] {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return append(append(out, a...), b...)
}

// row is SCC c as Snapshot reports it: its exact internal sum while the
// state is exact, else summed in edgeSums' order (per member by id, its
// internal out-edges in creation order).
func (s *RingState) row(c int32) *compliancev1.StronglyConnectedFlow {
	ms := s.members[c]
	row := &compliancev1.StronglyConnectedFlow{Members: make([]string, len(ms))}
	var exact exactsum.Sum
	for i, u := range ms {
		row.Members[i] = s.ents.Names[u]
		var circOut float64
		for _, e := range s.adj[u] {
			if v := s.ev[e]; s.find(v) == c && s.counted(u, v) {
				if s.exact {
					exact.Add(s.sumX[e])
				} else {
					circOut += s.sum[e]
				}
				row.InternalTxCount += s.count[e]
			}
		}
		row.InternalAmount += circOut
	}
	if s.exact {
		row.InternalAmount = exact.Float64()
	}
	return row
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
	if s.exact {
		return s.exactSnapshot(out, scc, byName, selfLoop, internal, count, circOut)
	}
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
	return assemble(out, &s.p, s.ents.Names, byName, scc, selfLoop, internal, nil, count, circOut, slices.Clone(s.out))
}

// exactSnapshot is snapshot from the exact sums: each rounded once, as
// Batch's exactSnapshot rounds them.
func (s *RingState) exactSnapshot(out *compliancev1.CircularFlowOutput, scc components.Result, byName []int32,
	selfLoop []bool, internal []float64, count []int32, circOut []float64) *compliancev1.CircularFlowOutput {
	out.TotalAmount = s.totalX.Float64()
	n, k := len(circOut), len(internal)
	internalX := make([]exactsum.Sum, k)
	outAmt := make([]float64, n)
	for u := range int32(n) {
		c := scc.Labels[u]
		var circ exactsum.Sum
		for _, e := range s.adj[u] {
			v := s.ev[e]
			if scc.Labels[v] != c || !s.counted(u, v) {
				continue
			}
			if u == v {
				selfLoop[c] = true
			}
			count[c] += s.count[e]
			circ.Add(s.sumX[e])
		}
		internalX[c].Add(circ)
		circOut[u] = circ.Float64()
		outAmt[u] = s.outX[u].Float64()
	}
	for c := range internal {
		internal[c] = internalX[c].Float64()
	}
	return assemble(out, &s.p, s.ents.Names, byName, scc, selfLoop, internal, internalX, count, circOut, outAmt)
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
	// While the sums are exact: the exact total, out sums by entity and
	// edge sums in creation order, each as [hi, lo]. A state without them
	// (or saved before they existed) restores with float64 sums only.
	Exact  bool        `json:"exact,omitempty"`
	TotalX [2]uint64   `json:"total_x,omitzero"`
	OutX   [][2]uint64 `json:"out_x,omitempty"`
	EdgeX  [][2]uint64 `json:"edge_x,omitempty"`
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
	if s.exact {
		w.Exact, w.TotalX = true, [2]uint64{s.totalX.Hi, s.totalX.Lo}
		w.OutX, w.EdgeX = make([][2]uint64, n), make([][2]uint64, len(s.eu))
		for u, x := range s.outX {
			w.OutX[u] = [2]uint64{x.Hi, x.Lo}
		}
		for e, x := range s.sumX {
			w.EdgeX[e] = [2]uint64{x.Hi, x.Lo}
		}
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
	if w.Exact && (len(w.OutX) != n || len(w.EdgeX) != len(w.Edges)) {
		return fmt.Errorf("circular ring state: %d exact out sums for %d names, %d exact edge sums for %d edges",
			len(w.OutX), n, len(w.EdgeX), len(w.Edges))
	}
	st := newRing(Params{MinAmount: math.Float64frombits(w.MinAmount), CountSelfLoops: w.SelfLoops, IDHorizon: w.IDHorizon})
	st.exact = w.Exact
	for i, name := range w.Names {
		if u := st.entity(name); int(u) != i {
			return fmt.Errorf("circular ring state: entity %q repeated", name)
		}
		st.out[i] = math.Float64frombits(w.Out[i])
		if w.Exact {
			st.outX[i] = exactsum.Sum{Hi: w.OutX[i][0], Lo: w.OutX[i][1]}
		}
	}
	if w.Exact {
		st.totalX = exactsum.Sum{Hi: w.TotalX[0], Lo: w.TotalX[1]}
		st.sumX = make([]exactsum.Sum, 0, len(w.Edges))
		for _, x := range w.EdgeX {
			st.sumX = append(st.sumX, exactsum.Sum{Hi: x[0], Lo: x[1]})
		}
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
	for r, ms := range st.members {
		if len(ms) > 1 {
			slices.SortFunc(st.members[r], func(a, b int32) int { return cmp.Compare(st.ents.Names[a], st.ents.Names[b]) })
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
			st.rcond[rv] = append(st.rcond[rv], id)
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
	// A topological order of the SCCs (Kahn's, in index order): the live
	// state's order depends on its history and is not encoded.
	indeg := make([]int32, n)
	var queue []int32
	reps := 0
	for u := range int32(n) {
		if st.parent[u] == u {
			reps++
			if indeg[u] = int32(len(st.rcond[u])); indeg[u] == 0 {
				queue = append(queue, u)
			}
		}
	}
	next := int32(0)
	for ; len(queue) > 0; queue = queue[1:] {
		x := queue[0]
		st.ord[x] = next
		next++
		for _, e := range st.cond[x] {
			w := st.parent[st.ev[e]]
			if indeg[w]--; indeg[w] == 0 {
				queue = append(queue, w)
			}
		}
	}
	if int(next) != reps {
		return fmt.Errorf("circular ring state: the SCC labels leave a cycle between SCCs")
	}
	st.nextOrd = int32(n)
	*s = *st
	return nil
}
