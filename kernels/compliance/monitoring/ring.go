package monitoring

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

// EventAlert is the kind of the MonitoringAlert events the ring emits.
const EventAlert = "MonitoringAlert"

// entry is one transaction in an entity's window; ts and amount are
// copied so the window scans stay inside the entity's own memory. It
// holds no pointer (the transaction is sweep[seq - the index of sweep[0]]),
// so the garbage collector does not scan the windows.
type entry struct {
	ts      int64
	amount  float64
	seq     int64 // the transaction's absolute index in sweep
	out, in bool  // the entity is the source / the dest
	risky   bool
}

// crule is a rule in the form the per-transaction loops read.
type crule struct {
	*Rule
	single  bool   // SINGLE_AMOUNT: no window
	out, in bool   // the direction admits the entity as source / as dest
	grp     int    // the rule's window group (window rules)
	kind    int    // Type as one of the kinds below
	score   uint32 // the reply's risk_score of the rule's severity
	flag    uint64 // the reply's alert_flags bit: 1 << (rule_id % 64)
}

// txResult counts the alerts of one transaction for the reply.
type txResult struct {
	count, score uint32
	flags        uint64
}

// riskScores maps a severity (SeverityRank) to the reply's risk_score.
var riskScores = [...]uint32{10, 25, 50, 75, 100}

const (
	kindSingle = iota
	kindAggregate
	kindCount
	kindVelocity
	kindGeo
)

var kinds = map[string]int{"SINGLE_AMOUNT": kindSingle, "AGGREGATE_AMOUNT": kindAggregate,
	"TRANSACTION_COUNT": kindCount, "VELOCITY": kindVelocity, "GEOGRAPHIC_RISK": kindGeo}

func (c *crule) matches(e *entry) bool { return (c.out && e.out) || (c.in && e.in) }

// group is a window and a direction: the window rules that share both
// (e.g. an aggregate, a count and a geographic rule over the same day)
// share one running state per entity, so each transaction updates each
// group once rather than each rule.
type group struct {
	window  int64
	out, in bool
}

func (g *group) matches(e *entry) bool { return (g.out && e.out) || (g.in && e.in) }

// win is one group's running value for one entity over the entries from
// head on (those with ts > the entity's latest ts - the window).
type win struct {
	head     int64 // absolute entry index
	sum      float64
	n, risky int32
}

// fire is when a rule last alerted for an entity.
type fire struct {
	fired bool
	last  int64
}

// entity is one entity's window: its transactions over the ring's
// retention (the longest window or cooldown), its groups' running values
// and its rules' alert times.
type entity struct {
	q     []entry
	buf   []entry // q's whole array (q is a suffix of its first part)
	off   int64   // absolute index of q[0]
	wins  []win   // by group
	fires []fire  // by rule
	id    int32   // in the entIndex
}

// RingState is transaction-monitoring's ring state. It holds
//   - per entity, the transactions of the last `retain` seconds with each
//     window rule's running sum and counts over its own window (an alert
//     check is O(1) per rule; the exact value, summed in order as Batch
//     does, is computed only when a rule may fire);
//   - for Snapshot, the same transactions (the window before current_time
//     when one is configured) and every SINGLE_AMOUNT hit, which Batch
//     lists whatever its age.
//
// An entity leaves the state once its last transaction is older than
// retain, so the state is bounded by the traffic of one retention period
// plus the SINGLE_AMOUNT hits.
type RingState struct {
	cfg       []byte
	p         Params
	rules     []crule // s.p.Rules, compiled
	groups    []group // the window rules' (window, direction) pairs
	retain    int64   // max over rules of the window (window rules) and the cooldown
	minSingle float64
	ents      entIndex
	sweep     []*financev1.Transaction // applied, ts > latest - retain: the entities' windows
	sweepBuf  []*financev1.Transaction // sweep's whole array (sweep is a suffix of its first part)
	seq0      int64                    // absolute index of sweep[0]
	owners    [][2]*entity             // parallel to sweep: the entities holding each (dst nil for a self-loop)
	ownersBuf [][2]*entity
	win       []*financev1.Transaction // Snapshot's window; aliases sweep when current_time is unset
	hits      []*financev1.Transaction // SINGLE_AMOUNT hits older than win
	held      map[uint64]int32         // txn.HashID of the ids held in sweep, win or hits (duplicate check)
	lastTS    int64
	any       bool
	alerts    uint32   // alerts emitted; the next alert's id is alerts+1
	cur       txResult // the reply entry of the transaction add is checking
}

func configure(ctx context.Context, in *compliancev1.TransactionMonitoringInput) (*RingState, error) {
	if len(in.GetTransactions()) > 0 {
		return nil, kerr.Invalid("transactions", "Configure takes the parameters only; send transactions as data messages")
	}
	p, err := ParamsOf(ctx, in)
	if err != nil {
		return nil, err
	}
	cfg, err := deterministic.Marshal(in)
	if err != nil {
		return nil, err
	}
	s := &RingState{cfg: cfg, p: p, minSingle: math.Inf(1), held: map[uint64]int32{}}
	s.ents.rules = len(p.Rules)
	slices.SortStableFunc(s.p.Rules, func(a, b Rule) int { return cmp.Compare(a.ID, b.ID) })
	for i := range s.p.Rules {
		r := &s.p.Rules[i]
		kind, ok := kinds[r.Type]
		if !ok { // the transport's validation refuses it first
			return nil, kerr.Invalid("rules", "rule %d: unknown type %q", r.ID, r.Type)
		}
		c := crule{Rule: r, single: kind == kindSingle, out: r.Direction != "IN", in: r.Direction != "OUT", grp: -1, kind: kind,
			score: riskScores[SeverityRank[r.Severity]], flag: 1 << (r.ID % 64)}
		if !c.single {
			g := group{window: r.Window, out: c.out, in: c.in}
			if c.grp = slices.Index(s.groups, g); c.grp < 0 {
				c.grp = len(s.groups)
				s.groups = append(s.groups, g)
			}
		}
		s.rules = append(s.rules, c)
	}
	s.ents.groups = len(s.groups)
	for _, r := range s.p.Rules {
		s.retain = max(s.retain, r.Cooldown)
		if r.Type == "SINGLE_AMOUNT" {
			s.minSingle = min(s.minSingle, r.Threshold)
		} else {
			s.retain = max(s.retain, r.Window)
		}
	}
	return s, nil
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// The duplicate check counts held transactions by the 64-bit hash of their
// id: a map without pointers, which the garbage collector does not scan
// and which hashes a word instead of a string. A hash already held is
// confirmed against the held transactions themselves (holds), so a
// collision cannot refuse a new id.
func (s *RingState) hold(tx *financev1.Transaction) { s.held[txn.HashID(tx.GetId())]++ }

func (s *RingState) release(tx *financev1.Transaction) {
	h := txn.HashID(tx.GetId())
	if s.held[h]--; s.held[h] <= 0 {
		delete(s.held, h)
	}
}

// holds reports whether a held transaction has id (the exact check behind
// a held hash; a scan, which only a duplicate or a 2^-64 collision runs).
func (s *RingState) holds(id string) bool {
	if s.held[txn.HashID(id)] <= 0 {
		return false
	}
	for _, l := range [][]*financev1.Transaction{s.sweep, s.win, s.hits} {
		for _, tx := range l {
			if tx.GetId() == id {
				return true
			}
		}
	}
	return false
}

func (s *RingState) single(tx *financev1.Transaction) bool {
	return tx.GetAmount() >= s.minSingle && (s.p.Now == nil || tx.GetTs() <= *s.p.Now)
}

// evict drops what a transaction at ts can no longer reach.
func (s *RingState) evict(ts int64) {
	horizon := ts - s.retain
	if ts < math.MinInt64+s.retain {
		horizon = math.MinInt64
	}
	i := 0
	for ; i < len(s.sweep) && s.sweep[i].GetTs() <= horizon; i++ {
		tx := s.sweep[i]
		s.popEntity(s.owners[i][0])
		if o := s.owners[i][1]; o != nil {
			s.popEntity(o)
		}
		s.owners[i] = [2]*entity{}
		if s.p.Now == nil && s.single(tx) {
			s.hits = append(s.hits, tx) // still held
		} else {
			s.release(tx)
		}
	}
	s.sweep, s.owners, s.seq0 = s.sweep[i:], s.owners[i:], s.seq0+int64(i)
	if s.p.Now == nil {
		s.win = s.sweep
		return
	}
	h := min(ts, *s.p.Now) - s.retain
	if min(ts, *s.p.Now) < math.MinInt64+s.retain {
		h = math.MinInt64
	}
	i = 0
	for ; i < len(s.win) && s.win[i].GetTs() <= h; i++ {
		if s.single(s.win[i]) {
			s.hits = append(s.hits, s.win[i])
		} else {
			s.release(s.win[i])
		}
	}
	s.win = s.win[i:]
}

// popEntity drops the entity's oldest entry (the one sweep drops).
func (s *RingState) popEntity(e *entity) {
	x := &e.q[0]
	for g := range s.groups {
		w := &e.wins[g]
		if w.head == e.off {
			if s.groups[g].matches(x) {
				w.sum -= x.amount
				w.n--
				if x.risky {
					w.risky--
				}
			}
			w.head++
		}
	}
	e.q, e.off = e.q[1:], e.off+1
	if len(e.q) == 0 {
		s.ents.drop(e)
	}
}

// enqueue appends v to q, a queue that pops from the front and is a
// suffix of buf's first part: once q fills its array and the popped front
// is at least half of buf, q moves back to buf's start instead of
// growing into a new array, so a steady queue allocates nothing.
func enqueue[T any](q, buf []T, v T) ([]T, []T) {
	if len(q) == cap(q) && 2*len(q) <= len(buf) {
		n := copy(buf, q)
		clear(buf[n:])
		q = buf[:n]
	}
	grow := len(q) == cap(q)
	q = append(q, v)
	if grow {
		buf = q[:cap(q)]
	}
	return q, buf
}

// push adds tx to one of its entities and moves the rules' windows to ts.
func (s *RingState) push(name string, x entry) *entity {
	e := s.ents.get(name)
	if len(e.q) == 0 {
		for g := range e.wins {
			e.wins[g] = win{head: e.off} // an empty window sums to exactly 0
		}
		clear(e.fires) // a new entity never alerted
	}
	e.q, e.buf = enqueue(e.q, e.buf, x)
	ts := x.ts
	q := e.q
	for g := range s.groups {
		gr := &s.groups[g]
		w := &e.wins[g]
		if gr.matches(&x) {
			w.sum += x.amount
			w.n++
			if x.risky {
				w.risky++
			}
		}
		for w.head < e.off+int64(len(q)) && q[w.head-e.off].ts <= ts-gr.window {
			y := &q[w.head-e.off]
			if gr.matches(y) {
				w.sum -= y.amount
				w.n--
				if y.risky {
					w.risky--
				}
			}
			w.head++
		}
		if w.n == 0 {
			w.sum = 0
		}
	}
	return e
}

// add applies one checked transaction; rc (nil while restoring) receives
// the alerts it triggers.
func (s *RingState) add(rc fold.Context, tx *financev1.Transaction) {
	ts := tx.GetTs()
	s.evict(ts)
	seq := s.seq0 + int64(len(s.sweep))
	s.sweep, s.sweepBuf = enqueue(s.sweep, s.sweepBuf, tx)
	s.hold(tx)
	if s.p.Now == nil {
		s.win = s.sweep
	} else if ts <= *s.p.Now {
		s.win = append(s.win, tx)
		s.hold(tx)
	}
	s.lastTS, s.any = ts, true
	// Self-loops are one entry (BOTH counts them once).
	src, dst := tx.GetSourceId(), tx.GetDestId()
	risky := len(s.p.HighRisk) > 0 && (&State{p: s.p}).risky(tx)
	x := entry{ts: ts, amount: tx.GetAmount(), seq: seq, out: true, in: src == dst, risky: risky}
	es := s.push(src, x)
	var ed *entity
	if dst != src {
		x.out, x.in = false, true
		ed = s.push(dst, x)
	}
	s.owners, s.ownersBuf = enqueue(s.owners, s.ownersBuf, [2]*entity{es, ed})
	if rc == nil {
		return
	}
	s.cur = txResult{}
	// The entities of tx under each rule's direction, as entitiesOf says.
	for i := range s.rules {
		r := &s.rules[i]
		if r.out {
			s.check(rc, i, r, src, es, tx)
		}
		if !r.out || (r.in && ed != nil) {
			e := ed
			if e == nil {
				e = es // IN on a self-loop
			}
			s.check(rc, i, r, dst, e, tx)
		}
	}
}

// check emits rule r's alert for entity name at tx when it fires.
func (s *RingState) check(rc fold.Context, i int, r *crule, name string, e *entity, tx *financev1.Transaction) {
	ts := tx.GetTs()
	// The running value gates first (it is in the cache already: push
	// just updated it); the alert time is read only for a rule that may
	// fire.
	tol := 1e-6 * max(1, math.Abs(r.Threshold)) // running sums drift; the exact value decides
	var w *win
	if !r.single {
		w = &e.wins[r.grp]
	}
	switch r.kind {
	case kindSingle:
		if tx.GetAmount() < r.Threshold {
			return
		}
	case kindCount:
		if float64(w.n) < r.Threshold {
			return
		}
	case kindGeo:
		if w.risky == 0 || float64(w.risky) < r.Threshold {
			return
		}
	case kindAggregate:
		if w.sum < r.Threshold-tol {
			return
		}
	case kindVelocity:
		if w.sum/(float64(r.Window)/3600) < r.Threshold-tol {
			return
		}
	}
	f := &e.fires[i]
	if f.fired && ts-f.last < r.Cooldown {
		return
	}
	var value float64
	var ids []string
	if r.single {
		value, ids = tx.GetAmount(), []string{tx.GetId()}
	} else {
		// The window's transactions in order, summed as Batch sums them.
		// The running counts size ids (a hint: append still checks).
		var sum float64
		if r.kind == kindGeo {
			ids = make([]string, 0, max(0, w.risky))
		} else {
			ids = make([]string, 0, max(0, w.n))
		}
		for k := range e.q[w.head-e.off:] {
			x := &e.q[w.head-e.off+int64(k)]
			if !r.matches(x) || (r.kind == kindGeo && !x.risky) {
				continue
			}
			ids = append(ids, s.sweep[x.seq-s.seq0].GetId())
			sum += x.amount
		}
		switch r.kind {
		case kindCount, kindGeo:
			value = float64(len(ids))
		case kindAggregate:
			value, w.sum = sum, sum
		case kindVelocity:
			value, w.sum = sum/(float64(r.Window)/3600), sum
		}
		if len(ids) == 0 || value < r.Threshold {
			return
		}
	}
	f.fired, f.last = true, ts
	s.alerts++
	s.cur.count++
	s.cur.score = max(s.cur.score, r.score)
	s.cur.flags |= r.flag
	rc.Emit(EventAlert, &compliancev1.MonitoringAlert{AlertId: s.alerts, RuleId: r.ID, RuleType: r.Type,
		EntityId: name, Severity: r.Severity, Value: value, TxIds: ids})
}

func applyRing(rc fold.Context, s *RingState, in *compliancev1.TransactionMonitoringInput) error {
	switch {
	case len(in.GetRules()) > 0:
		return kerr.Invalid("rules", "is a parameter: set it with Configure")
	case len(in.GetHighRiskCountries()) > 0:
		return kerr.Invalid("high_risk_countries", "is a parameter: set it with Configure")
	case in.CurrentTime != nil:
		return kerr.Invalid("current_time", "is a parameter: set it with Configure")
	}
	txs := in.GetTransactions()
	if err := limits.Check("transactions", len(s.held)+len(txs), limits.From(rc).MaxEdges); err != nil {
		return err
	}
	// Check everything first: a refused message changes nothing.
	last, any := s.lastTS, s.any
	var seen map[string]bool
	if len(txs) > 1 {
		seen = map[string]bool{}
	}
	for i, tx := range txs {
		if any && tx.GetTs() < last {
			return kerr.Invalid(fmt.Sprintf("transactions[%d].ts", i), "ts %d is before the last applied ts %d", tx.GetTs(), last)
		}
		if seen[tx.GetId()] || s.holds(tx.GetId()) {
			return kerr.Invalid(fmt.Sprintf("transactions[%d].id", i), "duplicate transaction id %q", tx.GetId())
		}
		if seen != nil {
			seen[tx.GetId()] = true
		}
		last, any = tx.GetTs(), true
	}
	// The reply: one entry per transaction, from the counters check keeps
	// while add runs (deterministic: replay recomputes it).
	reply, results := newReply(len(txs))
	for i, tx := range txs {
		s.add(rc, tx)
		r := &results[i]
		r.TxId, r.AlertCount, r.RiskScore, r.AlertFlags = tx.GetId(), s.cur.count, s.cur.score, s.cur.flags
		reply.Results[i] = r
	}
	fold.Reply(rc, reply)
	return nil
}

// oneReply is the reply to a one-transaction message (the common case) in
// one allocation.
type oneReply struct {
	reply compliancev1.MonitoringReply
	res   [1]compliancev1.MonitoringTxResult
	ptr   [1]*compliancev1.MonitoringTxResult
}

// newReply returns a reply of n results and the results' array.
func newReply(n int) (*compliancev1.MonitoringReply, []compliancev1.MonitoringTxResult) {
	if n == 1 {
		o := &oneReply{}
		o.reply.Results = o.ptr[:]
		return &o.reply, o.res[:]
	}
	return &compliancev1.MonitoringReply{Results: make([]*compliancev1.MonitoringTxResult, n)}, make([]compliancev1.MonitoringTxResult, n)
}

// wire is RingState's encoding. The running sums are not in it: they are
// rebuilt from the transactions (they only gate the exact check), so equal
// histories give equal bytes.
type wire struct {
	Config []byte                     `json:"config"`
	Sweep  [][]byte                   `json:"sweep"`
	Win    [][]byte                   `json:"win,omitempty"` // only with current_time
	Hits   [][]byte                   `json:"hits"`
	Fired  map[string]map[int32]int64 `json:"fired"` // entity -> rule index -> ts of its last alert
	LastTS int64                      `json:"last_ts"`
	Any    bool                       `json:"any"`
	Alerts uint32                     `json:"alerts"`
}

func encodeAll(txs []*financev1.Transaction) ([][]byte, error) {
	out := make([][]byte, len(txs))
	for i, tx := range txs {
		b, err := deterministic.Marshal(tx)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func decodeAll(bs [][]byte) ([]*financev1.Transaction, error) {
	out := make([]*financev1.Transaction, len(bs))
	for i, b := range bs {
		out[i] = &financev1.Transaction{}
		if err := proto.Unmarshal(b, out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MarshalJSON encodes the state deterministically.
func (s *RingState) MarshalJSON() ([]byte, error) {
	w := wire{Config: s.cfg, Fired: map[string]map[int32]int64{}, LastTS: s.lastTS, Any: s.any, Alerts: s.alerts}
	var err error
	if w.Sweep, err = encodeAll(s.sweep); err != nil {
		return nil, err
	}
	if s.p.Now != nil {
		if w.Win, err = encodeAll(s.win); err != nil {
			return nil, err
		}
	}
	if w.Hits, err = encodeAll(s.hits); err != nil {
		return nil, err
	}
	s.ents.each(func(name string, e *entity) {
		for i, a := range e.fires {
			if a.fired {
				if w.Fired[name] == nil {
					w.Fired[name] = map[int32]int64{}
				}
				w.Fired[name][int32(i)] = a.last
			}
		}
	})
	return json.Marshal(w)
}

// UnmarshalJSON restores a state MarshalJSON encoded.
func (s *RingState) UnmarshalJSON(data []byte) error {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	in := &compliancev1.TransactionMonitoringInput{}
	if err := proto.Unmarshal(w.Config, in); err != nil {
		return err
	}
	fresh, err := configure(context.Background(), in)
	if err != nil {
		return err
	}
	hits, err := decodeAll(w.Hits)
	if err != nil {
		return err
	}
	sweep, err := decodeAll(w.Sweep)
	if err != nil {
		return err
	}
	win, err := decodeAll(w.Win)
	if err != nil {
		return err
	}
	for _, tx := range hits {
		fresh.hold(tx)
	}
	fresh.hits = hits
	for _, tx := range sweep {
		fresh.add(nil, tx)
	}
	if fresh.p.Now != nil {
		// add put sweep's in-range transactions in win; win is its own list.
		for _, tx := range fresh.win {
			fresh.release(tx)
		}
		for _, tx := range win {
			fresh.hold(tx)
		}
		fresh.win = win
	}
	for name, rules := range w.Fired {
		e := fresh.ents.lookup(name)
		if e == nil {
			return fmt.Errorf("monitoring ring state: alert times for %q, which holds no transaction", name)
		}
		for i, ts := range rules {
			if int(i) >= len(e.fires) || i < 0 {
				return fmt.Errorf("monitoring ring state: rule index %d out of range", i)
			}
			e.fires[i].fired, e.fires[i].last = true, ts
		}
	}
	fresh.lastTS, fresh.any, fresh.alerts = w.LastTS, w.Any, w.Alerts
	*s = *fresh
	return nil
}

// RingSpec is the ring handler of compliance/transaction-monitoring.
var RingSpec = fold.Spec[*compliancev1.TransactionMonitoringInput, *compliancev1.TransactionMonitoringOutput, RingState]{
	Messages: fold.Messages{
		Reply: &compliancev1.MonitoringReply{},
		ReplyDoc: "One entry per transaction of the message, in order: its id, how many alerts it raised (after " +
			"cooldown), risk_score (its highest alert severity: INFO 10, LOW 25, MEDIUM 50, HIGH 75, CRITICAL 100; " +
			"0 if none) and alert_flags (bit rule_id % 64 per rule that alerted).",
		Events: []fold.EventType{
			{Kind: EventAlert, Message: &compliancev1.MonitoringAlert{}, Doc: "A rule fired for an entity on a " +
				"transaction (threshold reached in its window, outside the rule's cooldown): the alert id, rule, entity, " +
				"severity, the value that crossed the threshold and the transactions behind it."},
		}},
	Configure: configure,
	Apply:     applyRing,
	Snapshot: func(ctx context.Context, s *RingState) (*compliancev1.TransactionMonitoringOutput, error) {
		txs := make([]*financev1.Transaction, 0, len(s.hits)+len(s.win))
		txs = append(append(txs, s.hits...), s.win...)
		return evaluate(ctx, s.p, txs, s.lastTS, s.any)
	},
	Split: func(in *compliancev1.TransactionMonitoringInput) (*compliancev1.TransactionMonitoringInput, []*compliancev1.TransactionMonitoringInput) {
		cfg := proto.Clone(in).(*compliancev1.TransactionMonitoringInput)
		cfg.Transactions = nil
		var data []*compliancev1.TransactionMonitoringInput
		for _, i := range txn.TSOrder(in.GetTransactions()) {
			data = append(data, &compliancev1.TransactionMonitoringInput{Transactions: []*financev1.Transaction{in.GetTransactions()[i]}})
		}
		return cfg, data
	},
}
