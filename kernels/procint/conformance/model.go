package conformance

import (
	"context"
	"strconv"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/procint/eventlog"
)

// arc is a place with a weight, one side of a transition.
type arc struct {
	place  int
	weight int64
}

// petri is a compiled accepting Petri net: transitions by label.
type petri struct {
	places  int
	pre     map[string][]arc
	post    map[string][]arc
	initial []int64
	final   []int64
}

// dfgModel is a compiled DFG: allowed successors per state, ▶ being code -1
// and ■ code -2 as a successor.
type dfgModel struct {
	acts    map[string]int32
	allowed map[int32]map[int32]bool
}

const (
	startCode   int32 = -1
	endCode     int32 = -2
	unknownCode int32 = -3
)

func compileDFG(ctx context.Context, m *procintv1.DFG) (*dfgModel, error) {
	lim := limits.From(ctx)
	if err := limits.Check("dfg.edges", len(m.GetEdges()), lim.MaxEdges); err != nil {
		return nil, err
	}
	if err := limits.Check("dfg.activities", len(m.GetActivities()), lim.MaxNodes); err != nil {
		return nil, err
	}
	d := &dfgModel{acts: map[string]int32{}, allowed: map[int32]map[int32]bool{}}
	code := func(field, a string) (int32, error) {
		if a == eventlog.Start || a == eventlog.End {
			return 0, kerr.Invalid(field, "%q is reserved for the artificial start or end", a)
		}
		if a == "" {
			return 0, kerr.Invalid(field, "must not be empty")
		}
		c, ok := d.acts[a]
		if !ok {
			c = int32(len(d.acts))
			d.acts[a] = c
		}
		return c, nil
	}
	allow := func(a, b int32) {
		if d.allowed[a] == nil {
			d.allowed[a] = map[int32]bool{}
		}
		d.allowed[a][b] = true
	}
	for i, a := range m.GetActivities() {
		if _, err := code("dfg.activities["+strconv.Itoa(i)+"]", a); err != nil {
			return nil, err
		}
	}
	for i, e := range m.GetEdges() {
		f := "dfg.edges[" + strconv.Itoa(i) + "]"
		a, err := code(f+".source", e.GetSource())
		if err != nil {
			return nil, err
		}
		b, err := code(f+".target", e.GetTarget())
		if err != nil {
			return nil, err
		}
		if e.GetCount() > 0 {
			allow(a, b)
		}
	}
	for i, s := range m.GetStart() {
		a, err := code("dfg.start["+strconv.Itoa(i)+"].activity", s.GetActivity())
		if err != nil {
			return nil, err
		}
		if s.GetCount() < 0 {
			return nil, kerr.Invalid("dfg.start["+strconv.Itoa(i)+"].count", "must be >= 0")
		}
		if s.GetCount() > 0 {
			allow(startCode, a)
		}
	}
	for i, s := range m.GetEnd() {
		a, err := code("dfg.end["+strconv.Itoa(i)+"].activity", s.GetActivity())
		if err != nil {
			return nil, err
		}
		if s.GetCount() < 0 {
			return nil, kerr.Invalid("dfg.end["+strconv.Itoa(i)+"].count", "must be >= 0")
		}
		if s.GetCount() > 0 {
			allow(a, endCode)
		}
	}
	return d, nil
}

func compilePetri(ctx context.Context, n *procintv1.PetriNet) (*petri, error) {
	lim := limits.From(ctx)
	if err := limits.Check("petri_net.places", len(n.GetPlaces())+len(n.GetTransitions()), lim.MaxNodes); err != nil {
		return nil, err
	}
	if err := limits.Check("petri_net.arcs", len(n.GetArcs()), lim.MaxEdges); err != nil {
		return nil, err
	}
	places := map[string]int{}
	for i, p := range n.GetPlaces() {
		if _, dup := places[p]; dup {
			return nil, kerr.Invalid("petri_net.places["+strconv.Itoa(i)+"]", "duplicate place %q", p)
		}
		places[p] = i
	}
	trans := map[string]string{} // id -> label
	labels := map[string]bool{}
	for i, t := range n.GetTransitions() {
		f := "petri_net.transitions[" + strconv.Itoa(i) + "]"
		if _, clash := places[t.GetId()]; clash {
			return nil, kerr.Invalid(f+".id", "%q is also a place id", t.GetId())
		}
		if _, dup := trans[t.GetId()]; dup {
			return nil, kerr.Invalid(f+".id", "duplicate transition %q", t.GetId())
		}
		if t.GetLabel() == "" {
			return nil, kerr.Invalid(f+".label", "invisible (unlabelled) transitions are not supported")
		}
		if labels[t.GetLabel()] {
			return nil, kerr.Invalid(f+".label", "duplicate label %q: labels must be unique", t.GetLabel())
		}
		labels[t.GetLabel()] = true
		trans[t.GetId()] = t.GetLabel()
	}
	pn := &petri{places: len(places), pre: map[string][]arc{}, post: map[string][]arc{}}
	seen := map[[2]string]bool{}
	for i, a := range n.GetArcs() {
		f := "petri_net.arcs[" + strconv.Itoa(i) + "]"
		w := a.GetWeight()
		if w == 0 {
			w = 1
		}
		key := [2]string{a.GetSource(), a.GetTarget()}
		if seen[key] {
			return nil, kerr.Invalid(f, "duplicate arc %s → %s", a.GetSource(), a.GetTarget())
		}
		seen[key] = true
		sp, srcPlace := places[a.GetSource()]
		sl, srcTrans := trans[a.GetSource()]
		tp, dstPlace := places[a.GetTarget()]
		tl, dstTrans := trans[a.GetTarget()]
		switch {
		case !srcPlace && !srcTrans:
			return nil, kerr.Invalid(f+".source", "unknown node %q", a.GetSource())
		case !dstPlace && !dstTrans:
			return nil, kerr.Invalid(f+".target", "unknown node %q", a.GetTarget())
		case srcPlace && dstTrans:
			pn.pre[tl] = append(pn.pre[tl], arc{sp, w})
		case srcTrans && dstPlace:
			pn.post[sl] = append(pn.post[sl], arc{tp, w})
		default:
			return nil, kerr.Invalid(f+".target", "an arc joins a place and a transition")
		}
	}
	var err error
	if pn.initial, err = marking("petri_net.initial_marking", n.GetInitialMarking(), places); err != nil {
		return nil, err
	}
	if pn.final, err = marking("petri_net.final_marking", n.GetFinalMarking(), places); err != nil {
		return nil, err
	}
	for l := range labels {
		if pn.pre[l] == nil {
			pn.pre[l] = []arc{}
		}
	}
	return pn, nil
}

func marking(field string, ms []*procintv1.PlaceTokens, places map[string]int) ([]int64, error) {
	m := make([]int64, len(places))
	seen := map[string]bool{}
	for i, pt := range ms {
		f := field + "[" + strconv.Itoa(i) + "].place"
		p, ok := places[pt.GetPlace()]
		if !ok {
			return nil, kerr.Invalid(f, "unknown place %q", pt.GetPlace())
		}
		if seen[pt.GetPlace()] {
			return nil, kerr.Invalid(f, "place %q listed twice", pt.GetPlace())
		}
		seen[pt.GetPlace()] = true
		m[p] = pt.GetTokens()
	}
	return m, nil
}
