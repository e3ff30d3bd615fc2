package amlpatterns

import (
	"cmp"
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
	"github.com/gokernels/gokernels/kernels/kerr"
)

// EventAlert is the kind of the event a transaction emits per detection it
// creates: an AmlPatternAlert.
const EventAlert = "AmlPatternAlert"

// alertEvidence caps the tx ids (and entities) an alert lists.
const alertEvidence = 64

// The window patterns, in the order Batch finds them (the risk score's
// summation order): STRUCTURING, FUNNEL, FAN_OUT; then the path patterns.
var windowPatterns = [3]string{"STRUCTURING", "FUNNEL", "FAN_OUT"}

const (
	groupRoundTrip = 3
	groupLayering  = 4
)

// rtx is a transaction the ring holds, with its rank (position in the
// stream, the Batch (ts, input) order).
type rtx struct {
	R    int64   `json:"r"`
	ID   string  `json:"id"`
	Src  string  `json:"s"`
	Dst  string  `json:"d"`
	Bits uint64  `json:"a"` // amount's IEEE bits
	TS   int64   `json:"t"`
	amt  float64 // Bits as a float
}

func (x *rtx) amount() float64 { return x.amt }

// det is one detection. A window detection grows while open; a path
// detection is complete when made.
type det struct {
	pattern, anchor string
	group           int   // windowPatterns index, groupRoundTrip or groupLayering
	key1, key2      int64 // order within the group: Batch's discovery order
	conf            float64
	txs             []rtx
}

// anchorState is one (window pattern, anchor): the relevant transactions
// since its last detection whose windows may still qualify, and its open
// detection.
type anchorState struct {
	first  int64 // rank of the anchor's first relevant transaction
	cand   []rtx
	others map[string]int32 // FUNNEL, FAN_OUT: the other endpoints of cand
	open   *det             // the open detection, nil when none
}

// span is one path detection of an origin: the ranks of its first and
// last transactions (Batch's greedy skips every first transaction in
// [F, L]) and its last ts.
type span struct {
	F, L, LTS int64
	d         *det
}

// RingState is aml-patterns' ring state. It keeps the detections made,
// per (window pattern, anchor) the open window, per entity the last W
// seconds' transactions into it (the path searches' index), per origin the
// last transaction a path detection took, and the ids of the last W
// seconds: one window of traffic besides the output and the entities.
type RingState struct {
	p       Params
	guard   txn.HorizonGuard // horizon W
	n       int64            // transactions applied: the next rank
	dets    []*det
	anchors [3]map[string]*anchorState
	into    map[string][]rtx     // non-self-loop transactions by dest, rank order
	taken   [2]map[string][]span // ROUND_TRIP, LAYERING: origin → its recent path detections, in order
}

func newRing(p Params) *RingState {
	s := &RingState{p: p, guard: txn.NewHorizonGuard(p.W), into: map[string][]rtx{}}
	for i := range s.anchors {
		s.anchors[i] = map[string]*anchorState{}
	}
	s.taken = [2]map[string][]span{{}, {}}
	return s
}

// RingSpec is the ring handler of compliance/aml-patterns: Configure sets
// the parameters, data messages carry transactions in ts order, Snapshot
// is the Batch output over them; each detection a transaction creates
// emits EventAlert.
var RingSpec = fold.Spec[*compliancev1.AmlPatternsInput, *compliancev1.AmlPatternsOutput, RingState]{
	Messages: fold.Messages{
		Reply: &compliancev1.AmlPatternsReply{},
		ReplyDoc: "The patterns whose detections the message created or extended (bitmask in upstream order), " +
			"their highest confidence, and how many detections it created.",
		Events: []fold.EventType{
			{Kind: EventAlert, Message: &compliancev1.AmlPatternAlert{}, Doc: "AmlPatternAlert: a transaction " +
				"created a detection (the Batch output over the transactions so far first contains it): the detection " +
				"as Snapshot reports it then (tx ids cut to 64), their amounts, the triggering id and the window end."},
		},
	},
	Configure: txfold.Configure(prepare, func(j *job) *RingState { return newRing(j.params) }),
	Apply:     applyRing,
	Snapshot: func(_ context.Context, s *RingState) (*compliancev1.AmlPatternsOutput, error) {
		return s.snapshot(), nil
	},
	Split: txfold.Split[*compliancev1.AmlPatternsInput],
}

func toRTX(tx *financev1.Transaction, rank int64) rtx {
	a := tx.GetAmount()
	return rtx{R: rank, ID: tx.GetId(), Src: tx.GetSourceId(), Dst: tx.GetDestId(), Bits: math.Float64bits(a), TS: tx.GetTs(), amt: a}
}

// inWindow reports whether ts lies in the window [t0, t0+W) (Batch's
// test, an overflowing end meaning no end).
func (s *RingState) inWindow(t0, ts int64) bool { return ts < t0+s.p.W || t0 > math.MaxInt64-s.p.W }

// fresh reports whether an indexed transaction at t can still be a hop of
// a path ending at now or later (Batch's span test, e.ts - t1 < W).
func (s *RingState) fresh(t, now int64) bool { return now-t < s.p.W }

func applyRing(rc fold.Context, s *RingState, in *compliancev1.AmlPatternsInput) error {
	if err := txfold.CheckData(in); err != nil {
		return err
	}
	txs := in.GetTransactions()
	if err := s.guard.Check(txs, "transactions"); err != nil {
		return err
	}
	xs := make([]rtx, len(txs))
	for i, tx := range txs {
		xs[i] = toRTX(tx, s.n+int64(i))
	}
	// The path searches may fail on the step budget, so they run first,
	// indexing the message's transactions provisionally; the rest cannot
	// fail.
	paths, displaced, err := s.searchAll(xs)
	if err != nil {
		return err
	}
	if len(displaced) > 0 {
		s.dets = slices.DeleteFunc(s.dets, func(d *det) bool { return displaced[d] })
	}
	reply := &compliancev1.AmlPatternsReply{}
	touched := map[*det]bool{}
	for i, tx := range txs {
		s.guard.Add(tx)
		x := xs[i]
		for pi, pattern := range windowPatterns {
			if !s.p.Enabled[pattern] {
				continue
			}
			anchor, other, ok := s.relevant(pi, &x)
			if !ok {
				continue
			}
			d, created := s.window(pi, anchor, other, x)
			if d != nil {
				touched[d] = true
			}
			if created {
				s.alert(rc, d, x, reply)
			}
		}
		for _, d := range paths[i] {
			s.dets = append(s.dets, d)
			touched[d] = true
			s.alert(rc, d, x, reply)
		}
	}
	s.n += int64(len(txs))
	for d := range touched {
		reply.PatternsMatched |= 1 << bits[d.pattern]
		reply.MaxConfidence = max(reply.MaxConfidence, s.confidence(d))
	}
	fold.Reply(rc, reply)
	return nil
}

// relevant returns the anchor and the other endpoint of x for window
// pattern pi, or false when x does not count for it.
func (s *RingState) relevant(pi int, x *rtx) (anchor, other string, ok bool) {
	switch pi {
	case 0:
		a := x.amount()
		return x.Src, "", s.p.Near*s.p.T <= a && a <= s.p.T
	case 1:
		return x.Dst, x.Src, x.Src != x.Dst
	default:
		return x.Src, x.Dst, x.Src != x.Dst
	}
}

// window adds x to its anchor's window for pattern pi and returns the
// detection it joined or created (nil when none) and whether it created it.
//
// Batch scans the anchor's relevant transactions from the last detection
// on and reports the earliest t whose window [t, t+W) qualifies. Every
// candidate window that failed before x and still contains x holds every
// later candidate's transactions too (all of them are before t+W), and the
// qualifying conditions only grow with the window, so x makes some
// candidate qualify iff it makes the earliest one still open do; the
// candidates whose windows end at or before x failed for good.
func (s *RingState) window(pi int, anchor, other string, x rtx) (*det, bool) {
	as := s.anchors[pi][anchor]
	if as == nil {
		as = &anchorState{first: x.R}
		s.anchors[pi][anchor] = as
	}
	if d := as.open; d != nil {
		if s.inWindow(d.txs[0].TS, x.TS) {
			d.txs = append(d.txs, x)
			return d, false
		}
		as.open = nil
	}
	for len(as.cand) > 0 && !s.inWindow(as.cand[0].TS, x.TS) {
		as.drop(pi)
	}
	as.cand = append(as.cand, x)
	if pi > 0 {
		if as.others == nil {
			as.others = map[string]int32{}
		}
		as.others[other]++
	}
	if !s.qualifies(pi, as) {
		return nil, false
	}
	d := &det{pattern: windowPatterns[pi], anchor: anchor, group: pi, key1: as.first, key2: as.cand[0].R, txs: as.cand}
	as.open, as.cand, as.others = d, nil, nil
	s.dets = append(s.dets, d)
	return d, true
}

// drop removes the oldest candidate.
func (as *anchorState) drop(pi int) {
	x := as.cand[0]
	as.cand = as.cand[1:]
	if pi == 0 {
		return
	}
	o := x.Src
	if pi == 2 {
		o = x.Dst
	}
	if as.others[o]--; as.others[o] == 0 {
		delete(as.others, o)
	}
}

// qualifies is Batch's test of the window as.cand: the structuring sum in
// rank order (exactly Batch's rounding), or the distinct other endpoints.
func (s *RingState) qualifies(pi int, as *anchorState) bool {
	if pi > 0 {
		return len(as.others) >= s.p.Fan
	}
	if len(as.cand) < s.p.MinCount {
		return false
	}
	var sum float64
	for i := range as.cand {
		sum += as.cand[i].amount()
	}
	return sum > s.p.T
}

// confidence is d's confidence as Batch computes it from d's transactions.
func (s *RingState) confidence(d *det) float64 {
	switch d.group {
	case 0:
		return min(1, float64(len(d.txs))/10)
	case 1, 2:
		distinct := map[string]bool{}
		for i := range d.txs {
			if d.group == 1 {
				distinct[d.txs[i].Src] = true
			} else {
				distinct[d.txs[i].Dst] = true
			}
		}
		return min(1, float64(len(distinct))/20)
	}
	return d.conf
}

// searchAll runs the path search of each transaction of a message in
// order, each seeing the ones before it, and returns per transaction the
// path detections it creates and the earlier ones they displace. On error
// (the step budget) nothing is kept.
func (s *RingState) searchAll(xs []rtx) ([][]*det, map[*det]bool, error) {
	out := make([][]*det, len(xs))
	if !s.p.Enabled["ROUND_TRIP"] && !s.p.Enabled["LAYERING"] {
		return out, nil, nil
	}
	type key struct {
		k      int
		origin string
	}
	saved := map[key][]span{} // spans as they were before the message
	var appended []string     // into lists appended to, in order
	rollback := func() {
		for i := len(appended) - 1; i >= 0; i-- {
			l := s.into[appended[i]]
			if len(l) == 1 {
				delete(s.into, appended[i])
			} else {
				s.into[appended[i]] = l[:len(l)-1]
			}
		}
		for kk, sp := range saved {
			if sp == nil {
				delete(s.taken[kk.k], kk.origin)
			} else {
				s.taken[kk.k][kk.origin] = sp
			}
		}
	}
	var displaced map[*det]bool
	steps := 0
	for i := range xs {
		x := xs[i]
		if x.Src == x.Dst { // never a hop
			continue
		}
		found, err := s.search(x, &steps)
		if err != nil {
			rollback()
			return nil, nil, err
		}
		for _, d := range found {
			k := 0
			if d.group == groupLayering {
				k = 1
			}
			kk := key{k, d.anchor}
			old := s.taken[k][d.anchor]
			if _, ok := saved[kk]; !ok {
				saved[kk] = slices.Clone(old)
			}
			// Batch's greedy now takes d, which starts before every span
			// after it: those are no longer taken (their first
			// transactions fall inside d).
			var keep []span
			for _, sp := range old {
				if sp.F < d.key1 {
					keep = append(keep, sp)
				} else {
					if displaced == nil {
						displaced = map[*det]bool{}
					}
					displaced[sp.d] = true
				}
			}
			s.taken[k][d.anchor] = append(keep, span{F: d.key1, L: x.R, LTS: x.TS, d: d})
		}
		out[i] = found
		s.into[x.Dst] = append(s.into[x.Dst], x)
		appended = append(appended, x.Dst)
	}
	// Committed: forget what no later path can use.
	for i := range xs {
		if l := s.into[xs[i].Dst]; len(l) > 0 && !s.fresh(l[0].TS, xs[i].TS) {
			k := 0
			for k < len(l) && !s.fresh(l[k].TS, xs[i].TS) {
				k++
			}
			s.into[xs[i].Dst] = slices.Clone(l[k:])
		}
		for k := range s.taken {
			for _, o := range []string{xs[i].Src, xs[i].Dst} {
				if sp := s.taken[k][o]; len(sp) > 0 && !s.fresh(sp[0].LTS, xs[i].TS) {
					j := 0
					for j < len(sp) && !s.fresh(sp[j].LTS, xs[i].TS) {
						j++
					}
					if j == len(sp) {
						delete(s.taken[k], o)
					} else {
						s.taken[k][o] = slices.Clone(sp[j:])
					}
				}
			}
		}
	}
	// A displaced detection created earlier in this message is simply not
	// kept.
	for i := range out {
		out[i] = slices.DeleteFunc(out[i], func(d *det) bool { return displaced[d] })
	}
	return out, displaced, nil
}

// free reports whether Batch's greedy for origin would consider a path
// starting with the transaction of rank r: r lies in no span of the
// origin's detections that start before it (a later one would be
// displaced by the new one).
func (s *RingState) free(k int, origin string, r int64) bool {
	for _, sp := range s.taken[k][origin] {
		if sp.F <= r && r <= sp.L {
			return false
		}
	}
	return true
}

// search returns the path detections that x completes: per origin, among
// the time-respecting round trips (back to the origin x enters) and
// layering chains ending with x whose first transaction comes after the
// origin's last taken one, the one with the earliest (first tx, hops, tx
// sequence), Batch's greedy choice (a candidate ending before x would have
// been taken when its last transaction arrived). It walks backwards from
// x over the indexed transactions into each node, bounded by max_hops.
func (s *RingState) search(x rtx, steps *int) ([]*det, error) {
	p := s.p
	rt, lay := p.Enabled["ROUND_TRIP"], p.Enabled["LAYERING"]
	origin := x.Dst // a round trip's
	type best struct {
		path []rtx // forward order
	}
	bestRT := best{}
	bestLay := map[string]best{}
	better := func(c, b []rtx) bool {
		if b == nil {
			return true
		}
		if c[0].R != b[0].R {
			return c[0].R < b[0].R
		}
		if len(c) != len(b) {
			return len(c) < len(b)
		}
		for i := range c {
			if c[i].R != b[i].R {
				return c[i].R < b[i].R
			}
		}
		return false
	}
	rev := []rtx{x} // backwards: rev[0] = x
	visited := map[string]bool{x.Dst: true, x.Src: true}
	candidate := func() []rtx {
		e1 := rev[len(rev)-1]
		a1 := e1.amount()
		for i := range rev {
			if math.Abs(rev[i].amount()-a1) > p.Tol*a1 {
				return nil
			}
		}
		path := make([]rtx, len(rev))
		for i := range rev {
			path[len(rev)-1-i] = rev[i]
		}
		return path
	}
	var walk func(c string, before int64) error
	walk = func(c string, before int64) error {
		for _, e := range s.into[c] {
			if e.TS >= before {
				break // rank order is ts order
			}
			if !s.fresh(e.TS, x.TS) {
				continue
			}
			if *steps++; *steps > p.MaxSearchSteps {
				return kerr.Invalid("transactions", "the round-trip/layering path search exceeds %d steps; lower max_hops, window_seconds or amount_tolerance", p.MaxSearchSteps)
			}
			src := e.Src
			rev = append(rev, e)
			hops := len(rev)
			switch {
			case src == origin:
				if rt && hops >= 2 {
					if s.free(0, origin, e.R) {
						if c := candidate(); c != nil && better(c, bestRT.path) {
							bestRT.path = c
						}
					}
				}
			case !visited[src]:
				if lay && hops >= 3 {
					if s.free(1, src, e.R) {
						if c := candidate(); c != nil && better(c, bestLay[src].path) {
							bestLay[src] = best{c}
						}
					}
				}
				if hops < p.MaxHops {
					visited[src] = true
					if err := walk(src, e.TS); err != nil {
						return err
					}
					delete(visited, src)
				}
			}
			rev = rev[:len(rev)-1]
		}
		return nil
	}
	if err := walk(x.Src, x.TS); err != nil {
		return nil, err
	}
	var out []*det
	if bestRT.path != nil {
		k := len(bestRT.path)
		out = append(out, &det{pattern: "ROUND_TRIP", anchor: origin, group: groupRoundTrip, key1: bestRT.path[0].R,
			conf: min(1, 0.5+0.1*float64(k)), txs: bestRT.path})
	}
	origins := make([]string, 0, len(bestLay))
	for o := range bestLay {
		origins = append(origins, o)
	}
	slices.SortFunc(origins, func(a, b string) int { return cmp.Compare(bestLay[a].path[0].R, bestLay[b].path[0].R) })
	for _, o := range origins {
		path := bestLay[o].path
		out = append(out, &det{pattern: "LAYERING", anchor: o, group: groupLayering, key1: path[0].R,
			conf: min(1, 0.3+0.1*float64(len(path))), txs: path})
	}
	return out, nil
}

// alert emits EventAlert for d, just created by x.
func (s *RingState) alert(rc fold.Context, d *det, x rtx, reply *compliancev1.AmlPatternsReply) {
	n := min(len(d.txs), alertEvidence)
	txs := make([]*financev1.Transaction, len(d.txs))
	for i := range d.txs {
		txs[i] = d.txs[i].proto()
	}
	ranks := make([]int, len(d.txs))
	for i := range ranks {
		ranks[i] = i
	}
	msg := detectionMsg(detection{d.pattern, d.anchor, ranks, s.confidence(d)}, txs)
	a := &compliancev1.AmlPatternAlert{TxCount: int32(len(d.txs)), TxId: x.ID, WindowEndTs: msg.EndTs}
	if d.group < groupRoundTrip {
		a.WindowEndTs = math.MaxInt64
		if t0 := d.txs[0].TS; t0 <= math.MaxInt64-s.p.W {
			a.WindowEndTs = t0 + s.p.W
		}
	}
	msg.TxIds = msg.TxIds[:n]
	if len(msg.Entities) > alertEvidence {
		msg.Entities = msg.Entities[:alertEvidence]
	}
	for i := range n {
		a.Amounts = append(a.Amounts, d.txs[i].amount())
	}
	a.Detection = msg
	rc.Emit(EventAlert, a)
	reply.NewDetections++
}

func (x *rtx) proto() *financev1.Transaction {
	return &financev1.Transaction{Id: x.ID, SourceId: x.Src, DestId: x.Dst, Amount: x.amount(), Ts: x.TS}
}

// snapshot is the Batch output: the detections in Batch's discovery order
// (so the risk score sums in the same order), then report.
func (s *RingState) snapshot() *compliancev1.AmlPatternsOutput {
	order := slices.Clone(s.dets)
	slices.SortStableFunc(order, func(a, b *det) int {
		if c := cmp.Compare(a.group, b.group); c != 0 {
			return c
		}
		if c := cmp.Compare(a.key1, b.key1); c != 0 {
			return c
		}
		return cmp.Compare(a.key2, b.key2)
	})
	var txs []*financev1.Transaction
	found := make([]detection, len(order))
	for i, d := range order {
		ranks := make([]int, len(d.txs))
		for k := range d.txs {
			ranks[k] = len(txs)
			txs = append(txs, d.txs[k].proto())
		}
		found[i] = detection{d.pattern, d.anchor, ranks, s.confidence(d)}
	}
	return report(found, txs)
}

// wire is RingState's encoding: floats as IEEE bits, maps as sorted lists,
// and what no later message can use left out (candidates and indexed
// transactions that fell out of the window at the latest ts, an open
// detection whose window has ended), so equal futures encode equally.
type wire struct {
	Patterns []string        `json:"patterns"`
	T        uint64          `json:"t"`
	Near     uint64          `json:"near"`
	Tol      uint64          `json:"tol"`
	W        int64           `json:"w"`
	MinCount int             `json:"min_count"`
	Fan      int             `json:"fan"`
	MaxHops  int             `json:"max_hops"`
	MaxSteps int             `json:"max_steps"`
	N        int64           `json:"n"`
	Dets     []wireDet       `json:"dets"`
	Anchors  [3][]wireAnchor `json:"anchors"`
	Into     []wireInto      `json:"into"`
	Taken    [2][]wireTaken  `json:"taken"`
	LastTS   int64           `json:"last_ts"`
	Any      bool            `json:"any"`
	Held     []txn.HeldID    `json:"held"`
}

type wireDet struct {
	Pattern string `json:"pattern"`
	Anchor  string `json:"anchor"`
	Group   int    `json:"group"`
	Key1    int64  `json:"key1"`
	Key2    int64  `json:"key2"`
	Conf    uint64 `json:"conf"`
	Txs     []rtx  `json:"txs"`
}

type wireAnchor struct {
	Anchor string `json:"anchor"`
	First  int64  `json:"first"`
	Open   int    `json:"open"`
	Cand   []rtx  `json:"cand"`
}

type wireInto struct {
	Node string `json:"node"`
	Txs  []rtx  `json:"txs"`
}

type wireTaken struct {
	Origin string     `json:"origin"`
	Spans  [][4]int64 `json:"spans"` // first rank, last rank, last ts, detection index
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// MarshalJSON encodes the state deterministically.
func (s *RingState) MarshalJSON() ([]byte, error) {
	p := s.p
	w := wire{Patterns: sortedKeys(p.Enabled), T: math.Float64bits(p.T), Near: math.Float64bits(p.Near), Tol: math.Float64bits(p.Tol),
		W: p.W, MinCount: p.MinCount, Fan: p.Fan, MaxHops: p.MaxHops, MaxSteps: p.MaxSearchSteps, N: s.n,
		Dets: make([]wireDet, len(s.dets)), Into: []wireInto{}, Held: s.guard.Held()}
	w.LastTS, w.Any = s.guard.Last()
	index := make(map[*det]int, len(s.dets))
	for i, d := range s.dets {
		index[d] = i
		w.Dets[i] = wireDet{d.pattern, d.anchor, d.group, d.key1, d.key2, math.Float64bits(d.conf), d.txs}
	}
	for pi, m := range s.anchors {
		w.Anchors[pi] = []wireAnchor{}
		for _, a := range sortedKeys(m) {
			as := m[a]
			wa := wireAnchor{Anchor: a, First: as.first, Open: -1, Cand: []rtx{}}
			if d := as.open; d != nil && (!w.Any || s.inWindow(d.txs[0].TS, w.LastTS)) {
				wa.Open = index[d]
			}
			for _, c := range as.cand {
				if !w.Any || s.inWindow(c.TS, w.LastTS) {
					wa.Cand = append(wa.Cand, c)
				}
			}
			w.Anchors[pi] = append(w.Anchors[pi], wa)
		}
	}
	for _, node := range sortedKeys(s.into) {
		var keep []rtx
		for _, e := range s.into[node] {
			if !w.Any || s.fresh(e.TS, w.LastTS) {
				keep = append(keep, e)
			}
		}
		if len(keep) > 0 {
			w.Into = append(w.Into, wireInto{node, keep})
		}
	}
	for k, m := range s.taken {
		w.Taken[k] = []wireTaken{}
		for _, o := range sortedKeys(m) {
			wt := wireTaken{Origin: o}
			for _, sp := range m[o] {
				if !w.Any || s.fresh(sp.LTS, w.LastTS) {
					wt.Spans = append(wt.Spans, [4]int64{sp.F, sp.L, sp.LTS, int64(index[sp.d])})
				}
			}
			if len(wt.Spans) > 0 {
				w.Taken[k] = append(w.Taken[k], wt)
			}
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON restores a state MarshalJSON wrote.
func (s *RingState) UnmarshalJSON(data []byte) error {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	p := Params{Enabled: map[string]bool{}, T: math.Float64frombits(w.T), Near: math.Float64frombits(w.Near),
		Tol: math.Float64frombits(w.Tol), W: w.W, MinCount: w.MinCount, Fan: w.Fan, MaxHops: w.MaxHops, MaxSearchSteps: w.MaxSteps}
	for _, name := range w.Patterns {
		if _, ok := bits[name]; !ok {
			return fmt.Errorf("aml ring state: unknown pattern %q", name)
		}
		p.Enabled[name] = true
	}
	st := newRing(p)
	st.n = w.N
	fix := func(xs []rtx) []rtx {
		for i := range xs {
			xs[i].amt = math.Float64frombits(xs[i].Bits)
		}
		return xs
	}
	for _, d := range w.Dets {
		if d.Group < 0 || d.Group > groupLayering || len(d.Txs) == 0 {
			return fmt.Errorf("aml ring state: detection of group %d with %d transactions", d.Group, len(d.Txs))
		}
		st.dets = append(st.dets, &det{pattern: d.Pattern, anchor: d.Anchor, group: d.Group, key1: d.Key1, key2: d.Key2,
			conf: math.Float64frombits(d.Conf), txs: fix(d.Txs)})
	}
	for pi, as := range w.Anchors {
		for _, a := range as {
			if a.Open >= len(st.dets) || (a.Open >= 0 && st.dets[a.Open].group != pi) {
				return fmt.Errorf("aml ring state: anchor %q has open detection %d", a.Anchor, a.Open)
			}
			x := &anchorState{first: a.First, cand: fix(a.Cand)}
			if a.Open >= 0 {
				x.open = st.dets[a.Open]
			}
			if len(x.cand) == 0 {
				x.cand = nil
			}
			for i := range x.cand {
				if _, o, ok := st.relevant(pi, &x.cand[i]); ok && pi > 0 {
					if x.others == nil {
						x.others = map[string]int32{}
					}
					x.others[o]++
				}
			}
			st.anchors[pi][a.Anchor] = x
		}
	}
	for _, in := range w.Into {
		st.into[in.Node] = fix(in.Txs)
	}
	for k, ts := range w.Taken {
		for _, t := range ts {
			for _, sp := range t.Spans {
				if sp[3] < 0 || sp[3] >= int64(len(st.dets)) {
					return fmt.Errorf("aml ring state: span of %q names detection %d", t.Origin, sp[3])
				}
				st.taken[k][t.Origin] = append(st.taken[k][t.Origin], span{F: sp[0], L: sp[1], LTS: sp[2], d: st.dets[sp[3]]})
			}
		}
	}
	g, err := txn.Restore(w.W, w.LastTS, w.Any, w.Held)
	if err != nil {
		return fmt.Errorf("aml ring state: %w", err)
	}
	st.guard = g
	*s = *st
	return nil
}
