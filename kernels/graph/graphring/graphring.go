// Package graphring is the state the graph ring kernels share
// (graph/degree-centrality, graph/degree-ratio, graph/pagerank): a simple
// graph with the semantics of csr.Build (networkx's nx.Graph / nx.DiGraph
// built with add_edges_from: a repeated edge keeps one copy with the last
// weight given; in an undirected graph [u, v] and [v, u] are one edge; a
// self-loop appears once in its node's adjacency) that data messages
// change one edge at a time: `edges` (with optional `weights`) insert or
// re-weight, `remove_edges` delete.
//
// Each node's adjacency is kept sorted by neighbour id with its weights,
// exactly the order of a csr.Graph row, so sums over a row (strengths)
// are the same floating-point sums as Batch's. An insert or a delete costs
// a binary search and one slice shift: O(degree). The adjacency is the
// minimal state: a delete, or an insert that repeats an edge, must know
// whether the edge is there and with which weight.
package graphring

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/gokernels/gokernels/kernels/graph/graphinput"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

// Msg is a graph kernel's input message as a ring data message.
type Msg interface {
	graphinput.Fields
	GetRemoveEdges() []*structpb.ListValue
}

// Adj is one node's adjacency: neighbours ascending, weights parallel
// (1 for an edge given without weights, as Batch counts it).
type Adj struct {
	To []int32   `json:"t,omitempty"`
	W  []float64 `json:"w,omitempty"`
}

func (a *Adj) find(v int32) (int, bool) { return slices.BinarySearch(a.To, v) }

// set inserts or re-weights v; it returns the previous weight and whether
// the edge existed.
func (a *Adj) set(v int32, w float64) (float64, bool) {
	i, ok := a.find(v)
	if ok {
		old := a.W[i]
		a.W[i] = w
		return old, true
	}
	a.To = slices.Insert(a.To, i, v)
	a.W = slices.Insert(a.W, i, w)
	return 0, false
}

// del removes v; it returns its weight and whether it was there.
func (a *Adj) del(v int32) (float64, bool) {
	i, ok := a.find(v)
	if !ok {
		return 0, false
	}
	w := a.W[i]
	a.To = slices.Delete(a.To, i, i+1)
	a.W = slices.Delete(a.W, i, i+1)
	return w, true
}

// Sum is the sum of the weights in neighbour order (csr's strength).
func (a *Adj) Sum() float64 {
	var s float64
	for _, w := range a.W {
		s += w
	}
	return s
}

// Weight returns the weight of the arc to v, if any.
func (a *Adj) Weight(v int32) (float64, bool) {
	if i, ok := a.find(v); ok {
		return a.W[i], true
	}
	return 0, false
}

// Graph is the ring's graph. N is 0 until Configure gives num_nodes.
type Graph struct {
	N        int   `json:"n"`
	Directed bool  `json:"directed,omitempty"`
	M        int   `json:"m"`             // edges
	Out      []Adj `json:"out,omitempty"` // all neighbours when undirected
	In       []Adj `json:"in,omitempty"`  // directed only
}

// Configure builds an empty graph from the parameter fields of in (its
// num_nodes and directed); data fields are refused. num_nodes 0 (the
// empty Configure) leaves the ring waiting for a real one.
func Configure(ctx context.Context, in Msg) (*Graph, error) {
	if len(in.GetEdges()) > 0 || len(in.GetPackedEdges()) > 0 || len(in.GetWeights()) > 0 || len(in.GetRemoveEdges()) > 0 {
		return nil, kerr.Invalid(dataField(in), "is data: send edges in data messages, not in Configure")
	}
	n := int(in.GetNumNodes())
	if n < 0 {
		return nil, kerr.Invalid("num_nodes", "must be at least 1, got %d", n)
	}
	if err := limits.Check("num_nodes", n, limits.From(ctx).MaxNodes); err != nil {
		return nil, err
	}
	g := &Graph{N: n, Directed: in.GetDirected(), Out: make([]Adj, n)}
	if g.Directed {
		g.In = make([]Adj, n)
	}
	return g, nil
}

func dataField(in Msg) string {
	switch {
	case len(in.GetEdges()) > 0:
		return "edges"
	case len(in.GetPackedEdges()) > 0:
		return "packed_edges"
	case len(in.GetWeights()) > 0:
		return "weights"
	}
	return "remove_edges"
}

// sized shows a data message to graphinput with the ring's num_nodes.
type sized struct {
	Msg
	n int32
}

func (s sized) GetNumNodes() int32 { return s.n }

// op is one undoable change.
type op struct {
	u, v   int32
	w      float64
	insert bool // the change inserted (u, v); else it deleted or re-weighted it
	had    bool // the edge existed before (w is its old weight)
}

// Apply changes g by a data message: its remove_edges are deleted, then
// its edges inserted (re-weighted when present). checkWeights, if not nil,
// is the kernel's own rule on the weights (PageRank's non-negative). On an
// error g is unchanged.
func (g *Graph) Apply(ctx context.Context, m Msg, checkWeights func([]float64) error) error {
	if g.N == 0 {
		return kerr.Invalid("num_nodes", "configure the ring with num_nodes before sending edges")
	}
	if n := m.GetNumNodes(); n != 0 && int(n) != g.N {
		return kerr.Invalid("num_nodes", "must be left out of data messages or equal the configured %d, got %d", g.N, n)
	}
	if m.GetDirected() != g.Directed && m.GetDirected() {
		return kerr.Invalid("directed", "must be left out of data messages or equal the configured value false")
	}
	var src, dst []int32
	if len(m.GetEdges()) > 0 || len(m.GetPackedEdges()) > 0 || len(m.GetWeights()) > 0 {
		var err error
		if src, dst, err = graphinput.EdgesOf(ctx, sized{m, int32(g.N)}); err != nil {
			return err
		}
		if checkWeights != nil {
			if err := checkWeights(m.GetWeights()); err != nil {
				return err
			}
		}
	}
	rm := m.GetRemoveEdges()
	for i, e := range rm {
		if _, _, err := graphinput.Pair("remove_edges", i, e, int32(g.N)); err != nil {
			return err
		}
	}
	var undo []op
	for i, e := range rm {
		s, t, _ := graphinput.Pair("remove_edges", i, e, int32(g.N)) // checked above
		w, ok := g.del(s, t)
		if !ok {
			g.rollback(undo)
			return kerr.Invalid(fmt.Sprintf("remove_edges[%d]", i), "[%d, %d] is not an edge of the ring's graph", s, t)
		}
		undo = append(undo, op{u: s, v: t, w: w, had: true})
	}
	ws := m.GetWeights()
	for i := range src {
		w := 1.0
		if len(ws) > 0 {
			w = ws[i]
		}
		old, had := g.set(src[i], dst[i], w)
		undo = append(undo, op{u: src[i], v: dst[i], w: old, insert: true, had: had})
	}
	if err := limits.Check("edges", g.M, limits.From(ctx).MaxEdges); err != nil {
		g.rollback(undo)
		return kerr.Invalid("edges", "the ring's graph would have %d edges, over the server limit of %d", g.M, limits.From(ctx).MaxEdges)
	}
	return nil
}

func (g *Graph) rollback(undo []op) {
	for i := len(undo) - 1; i >= 0; i-- {
		o := undo[i]
		switch {
		case o.insert && !o.had:
			g.del(o.u, o.v)
		default: // a re-weight or a delete: put the old weight back
			g.set(o.u, o.v, o.w)
		}
	}
}

// set inserts or re-weights the edge (u, v).
func (g *Graph) set(u, v int32, w float64) (float64, bool) {
	old, had := g.Out[u].set(v, w)
	switch {
	case g.Directed:
		g.In[v].set(u, w)
	case u != v:
		g.Out[v].set(u, w)
	}
	if !had {
		g.M++
	}
	return old, had
}

// del deletes the edge (u, v).
func (g *Graph) del(u, v int32) (float64, bool) {
	w, ok := g.Out[u].del(v)
	if !ok {
		return 0, false
	}
	switch {
	case g.Directed:
		g.In[v].del(u)
	case u != v:
		g.Out[v].del(u)
	}
	g.M--
	return w, true
}

// HasSelfLoop reports whether u links to itself.
func (g *Graph) HasSelfLoop(u int) bool {
	_, ok := g.Out[u].find(int32(u))
	return ok
}

// InAdj is u's in-adjacency (all neighbours when undirected).
func (g *Graph) InAdj(u int) *Adj {
	if g.Directed {
		return &g.In[u]
	}
	return &g.Out[u]
}

// Degree is networkx's G.degree(u) (csr.Graph.Degree): in + out when
// directed; a self-loop counts twice when undirected.
func (g *Graph) Degree(u int) int {
	if g.Directed {
		return len(g.Out[u].To) + len(g.In[u].To)
	}
	d := len(g.Out[u].To)
	if g.HasSelfLoop(u) {
		d++
	}
	return d
}

// Split is the replay law's feed of a graph input: the Configure message
// (in without its data fields) and one data message per edge, in input
// order, carrying its weight when the input has weights. packed_edges are
// sent as edges.
func Split[M interface {
	Msg
	proto.Message
}](in M) (M, []M) {
	cfg := proto.Clone(in).(M)
	r := cfg.ProtoReflect()
	fields := r.Descriptor().Fields()
	for _, name := range []protoreflect.Name{"edges", "weights", "packed_edges", "remove_edges"} {
		r.Clear(fields.ByName(name))
	}
	var edges []*structpb.ListValue
	if p := in.GetPackedEdges(); len(p) > 0 {
		for i := 0; i+1 < len(p); i += 2 {
			edges = append(edges, graphinput.PairList([2]int32{p[i], p[i+1]})...)
		}
	} else {
		edges = in.GetEdges()
	}
	ws := in.GetWeights()
	out := make([]M, len(edges))
	for i, e := range edges {
		m := r.New()
		m.Mutable(fields.ByName("edges")).List().Append(protoreflect.ValueOfMessage(proto.Clone(e).ProtoReflect()))
		if i < len(ws) {
			m.Mutable(fields.ByName("weights")).List().Append(protoreflect.ValueOfFloat64(ws[i]))
		}
		out[i] = m.Interface().(M)
	}
	return cfg, out
}

// BatchRefusesRemovals is the Batch kernels' check: remove_edges changes a
// ring's graph; a Batch input is its edge set.
func BatchRefusesRemovals(in Msg) error {
	if len(in.GetRemoveEdges()) > 0 {
		return kerr.Invalid("remove_edges", "deletes edges in ring data messages only; a Batch input is its edge set")
	}
	return nil
}
