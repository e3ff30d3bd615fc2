package conformance

import (
	"context"
	"slices"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/procint/eventlog"
)

// The Batch path replays each trace on int arrays: activities are interned
// once per request (eventlog.Build), the model is compiled into tables
// indexed by those codes, one marking buffer is reused for every trace, and
// no map or string is touched per event. It gives the same output as the
// ring fold (State) over the events in ts order, which the tests check on
// random logs; State stays the online form, keyed by case id.

// kind codes in the bytewise order of the kind names, so sorting by code
// sorts by name.
const (
	kBadEnd uint8 = iota
	kBadStart
	kDisallowedDF
	kMissingTokens
	kRemainingTokens
	kUnknownActivity
	nKinds
)

var kindName = [nKinds]string{BadEnd, BadStart, DisallowedDF, MissingTokens, RemainingTokens, UnknownActivity}

// rawDev is a deviation before it becomes a message: the event index, the
// log activity code (-1 for ■) and the kind code.
type rawDev struct {
	idx  int32
	act  int32
	kind uint8
}

// petriTable is a Petri net compiled against one log's activity codes.
type petriTable struct {
	known     []bool
	pre, post [][]arc
	initial   []int64
	produced0 int64 // tokens of the initial marking
	final     []arc // places with a positive final count
}

func (pn *petri) table(acts []string) *petriTable {
	t := &petriTable{known: make([]bool, len(acts)), pre: make([][]arc, len(acts)), post: make([][]arc, len(acts)),
		initial: pn.initial}
	for i, a := range acts {
		pre, ok := pn.pre[a]
		t.known[i], t.pre[i], t.post[i] = ok, pre, pn.post[a]
	}
	for _, v := range pn.initial {
		t.produced0 += v
	}
	for p, f := range pn.final {
		if f != 0 {
			t.final = append(t.final, arc{p, f})
		}
	}
	return t
}

// dfgTable is a DFG compiled against one log's activity codes. States are
// model activity codes with ▶ as code n; successors are model codes with
// ■ as code n. succ[off[s]:off[s+1]] lists state s's allowed successors,
// sorted and distinct.
type dfgTable struct {
	model []int32 // log code → model code, or unknownCode
	off   []int32
	succ  []int32
	start int32
	end   int32
}

func (d *dfgModel) table(acts []string) *dfgTable {
	n := int32(len(d.acts))
	t := &dfgTable{model: make([]int32, len(acts)), off: make([]int32, n+2), start: n, end: n}
	for i, a := range acts {
		c, ok := d.acts[a]
		if !ok {
			c = unknownCode
		}
		t.model[i] = c
	}
	dense := func(c int32) int32 {
		if c == startCode || c == endCode {
			return n
		}
		return c
	}
	lists := make([][]int32, n+1)
	for a, set := range d.allowed {
		l := make([]int32, 0, len(set))
		for b := range set {
			l = append(l, dense(b))
		}
		slices.Sort(l)
		lists[dense(a)] = l
	}
	for s, l := range lists {
		t.off[s+1] = t.off[s] + int32(len(l))
		t.succ = append(t.succ, l...)
	}
	return t
}

// slot returns the index in succ of a → b, or -1.
func (t *dfgTable) slot(a, b int32) int32 {
	lo, hi := t.off[a], t.off[a+1]
	for hi-lo > 8 {
		mid := int32(uint32(lo+hi) >> 1)
		if t.succ[mid] < b {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	for i := lo; i < hi; i++ {
		if t.succ[i] == b {
			return i
		}
	}
	return -1
}

// batchOut accumulates the Batch output: the trace messages in case id
// order and the log sums.
type batchOut struct {
	l      *eventlog.Log
	traces []*procintv1.TraceConformance
	kinds  [nKinds]int64
	fit    int64
	// devSlab hands out Deviation messages a block at a time.
	devSlab []procintv1.Deviation
}

func (b *batchOut) add(r int, t *procintv1.TraceConformance, devs []rawDev) {
	t.CaseId = b.l.Cases[r]
	// Stable by (index, kind), the order the ring fold's finish gives.
	slices.SortStableFunc(devs, func(x, y rawDev) int {
		if x.idx != y.idx {
			return int(x.idx - y.idx)
		}
		return int(x.kind) - int(y.kind)
	})
	if len(devs) > 0 {
		t.Deviations = make([]*procintv1.Deviation, len(devs))
		for i, d := range devs {
			if len(b.devSlab) == 0 {
				b.devSlab = make([]procintv1.Deviation, 1024)
			}
			m := &b.devSlab[0]
			b.devSlab = b.devSlab[1:]
			m.Index, m.Kind = d.idx, kindName[d.kind]
			if d.act < 0 {
				m.Activity = eventlog.End
			} else {
				m.Activity = b.l.Acts[d.act]
			}
			t.Deviations[i] = m
			b.kinds[d.kind]++
		}
	}
	if t.IsFit {
		b.fit++
	}
	b.traces[r] = t
}

func (b *batchOut) log() *procintv1.LogConformance {
	lg := &procintv1.LogConformance{TraceCount: int64(len(b.traces)), FittingTraceRatio: ratio(b.fit, int64(len(b.traces)))}
	for k, c := range b.kinds {
		if c > 0 {
			lg.DeviationCounts = append(lg.DeviationCounts, &procintv1.KindCount{Kind: kindName[k], Count: c})
		}
	}
	return lg
}

func newBatchOut(l *eventlog.Log) *batchOut {
	return &batchOut{l: l, traces: make([]*procintv1.TraceConformance, len(l.Cases))}
}

// replayPetri is token-based replay of every trace of l on pn.
func replayPetri(ctx context.Context, pn *petri, l *eventlog.Log) (*procintv1.ConformanceOutput, error) {
	t := pn.table(l.Acts)
	out := newBatchOut(l)
	slab := make([]procintv1.TraceConformance, len(l.Cases))
	marking := make([]int64, len(t.initial))
	var devs []rawDev
	var sm, sr, sp, sc int64
	for r, tr := range l.Traces {
		if r&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		copy(marking, t.initial)
		devs = devs[:0]
		var m, rem, c int64
		p := t.produced0
		unknown := false
		for i, a := range tr {
			if !t.known[a] {
				unknown = true
				devs = append(devs, rawDev{int32(i), a, kUnknownActivity})
				continue
			}
			var missing int64
			for _, x := range t.pre[a] {
				if have := marking[x.place]; have < x.weight {
					missing += x.weight - have
					marking[x.place] = 0
				} else {
					marking[x.place] = have - x.weight
				}
				c += x.weight
			}
			if missing > 0 {
				m += missing
				devs = append(devs, rawDev{int32(i), a, kMissingTokens})
			}
			for _, x := range t.post[a] {
				marking[x.place] += x.weight
				p += x.weight
			}
		}
		var missing int64
		for _, x := range t.final {
			if have := marking[x.place]; have < x.weight {
				missing += x.weight - have
				marking[x.place] = 0
			} else {
				marking[x.place] = have - x.weight
			}
			c += x.weight
		}
		m += missing
		for _, v := range marking {
			rem += v
		}
		n := int32(len(tr))
		if missing > 0 {
			devs = append(devs, rawDev{n, -1, kMissingTokens})
		}
		if rem > 0 {
			devs = append(devs, rawDev{n, -1, kRemainingTokens})
		}
		tc := &slab[r]
		tc.Missing, tc.Remaining, tc.Produced, tc.Consumed = m, rem, p, c
		tc.Fitness = Fitness(m, rem, p, c)
		tc.IsFit = m == 0 && rem == 0 && !unknown
		out.add(r, tc, devs)
		sm += m
		sr += rem
		sp += p
		sc += c
	}
	lg := out.log()
	if len(out.traces) > 0 {
		lg.Fitness = Fitness(sm, sr, sp, sc)
	}
	return &procintv1.ConformanceOutput{Traces: out.traces, Log: lg}, nil
}

// replayDFG is directly-follows replay of every trace of l on d, with
// escaping-edge precision over the visited states.
func replayDFG(ctx context.Context, d *dfgModel, l *eventlog.Log) (*procintv1.ConformanceOutput, error) {
	t := d.table(l.Acts)
	out := newBatchOut(l)
	slab := make([]procintv1.TraceConformance, len(l.Cases))
	visits := make([]int64, len(t.off)-1)
	observed := make([]bool, len(t.succ))
	var devs []rawDev
	var allowedSum, pairsSum int64
	// step records a visit of state a followed by b and reports whether
	// a → b is allowed (State.dfgStep on the tables).
	step := func(a, b int32) bool {
		if a == unknownCode {
			return false
		}
		visits[a]++
		if b == unknownCode {
			return false
		}
		s := t.slot(a, b)
		if s < 0 {
			return false
		}
		observed[s] = true
		return true
	}
	for r, tr := range l.Traces {
		if r&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		devs = devs[:0]
		var allowed int64
		last := t.start
		for i, a := range tr {
			code := t.model[a]
			if code == unknownCode {
				devs = append(devs, rawDev{int32(i), a, kUnknownActivity})
			}
			switch {
			case step(last, code):
				allowed++
			case last == t.start && i == 0:
				devs = append(devs, rawDev{int32(i), a, kBadStart})
			default:
				devs = append(devs, rawDev{int32(i), a, kDisallowedDF})
			}
			last = code
		}
		if step(last, t.end) {
			allowed++
		} else {
			n := int32(len(tr)) - 1
			devs = append(devs, rawDev{n, tr[n], kBadEnd})
		}
		pairs := int64(len(tr)) + 1
		tc := &slab[r]
		tc.Fitness = ratio(allowed, pairs)
		tc.IsFit = allowed == pairs
		out.add(r, tc, devs)
		allowedSum += allowed
		pairsSum += pairs
	}
	lg := out.log()
	if len(out.traces) > 0 {
		lg.Fitness = ratio(allowedSum, pairsSum)
		var num, den float64
		for s, v := range visits {
			if v == 0 {
				continue
			}
			var obs int64
			for _, o := range observed[t.off[s]:t.off[s+1]] {
				if o {
					obs++
				}
			}
			num += float64(v) * float64(obs)
			den += float64(v) * float64(t.off[s+1]-t.off[s])
		}
		if den != 0 {
			lg.Precision = num / den
		}
	}
	return &procintv1.ConformanceOutput{Traces: out.traces, Log: lg}, nil
}
