package audit

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	auditv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/audit/v1"
	"github.com/gokernels/gokernels/kernels/audit/hypergraph"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// HypergraphJob is the built hypergraph and the s values.
type HypergraphJob struct {
	G        hypergraph.Graph
	S        []int
	MaxPairs int
}

// Hypergraph is audit/hypergraph.
var Hypergraph = registry.Def[*auditv1.HypergraphInput, *auditv1.HypergraphOutput, HypergraphJob]{
	Meta: registry.Meta{
		ID: "audit/hypergraph", Domain: registry.DomainAudit,
		Description: "Record hypergraph (entity / account / transaction / category / day nodes, one edge per record): " +
			"degrees, strengths, clique-expansion eigenvector centrality, components, s-components " +
			"(Aksoy et al. 2020), hubs, small components and entity groups.",
	},
	Prepare: prepareHypergraph,
	CPU: func(ctx context.Context, job HypergraphJob) (*auditv1.HypergraphOutput, error) {
		r, err := hypergraph.Analyse(ctx, job.G, job.S, job.MaxPairs)
		if errors.Is(err, hypergraph.ErrTooManyPairs) {
			return nil, kerr.Invalid("node_kinds", "the entity co-occurrence count exceeds its limits (%d listed pairs, 4,096 shared nodes, %d class comparisons); drop a node kind", job.MaxPairs, 4*job.MaxPairs)
		}
		if err != nil {
			return nil, err
		}
		g := job.G
		ids := func(idx []int, names func(int) string) *auditv1.IdGroup {
			out := &auditv1.IdGroup{Ids: make([]string, len(idx))}
			for i, v := range idx {
				out.Ids[i] = names(v)
			}
			return out
		}
		node := func(v int) string { return g.Nodes[v] }
		edge := func(e int) string { return g.Edges[e].ID }
		out := &auditv1.HypergraphOutput{Patterns: &auditv1.HypergraphPatterns{}, Stats: &auditv1.HypergraphStats{
			Nodes: int32(len(g.Nodes)), Edges: int32(len(g.Edges))}}
		for v, id := range g.Nodes {
			out.Nodes = append(out.Nodes, &auditv1.HyperNode{Id: id, Kind: g.Kinds[v], Degree: int32(r.Degree[v]),
				Strength: r.Strength[v], Centrality: r.Centrality[v]})
		}
		nnz := 0
		for _, e := range g.Edges {
			he := &auditv1.HyperEdge{Id: e.ID, Kind: e.Kind, Weight: e.Weight}
			for _, v := range e.Nodes {
				he.Nodes = append(he.Nodes, g.Nodes[v])
			}
			nnz += len(e.Nodes)
			out.Edges = append(out.Edges, he)
		}
		if len(g.Edges) > 0 {
			out.Stats.Density = float64(nnz) / (float64(len(g.Nodes)) * float64(len(g.Edges)))
			out.Stats.MeanEdgeSize = float64(nnz) / float64(len(g.Edges))
		}
		for _, c := range r.Components {
			out.Components = append(out.Components, ids(c, node))
		}
		for i, s := range job.S {
			sc := &auditv1.SComponents{S: int32(s)}
			for _, c := range r.SComponents[i] {
				sc.Components = append(sc.Components, ids(c, edge))
			}
			out.SComponents = append(out.SComponents, sc)
		}
		for _, h := range r.Hubs {
			out.Patterns.Hubs = append(out.Patterns.Hubs, g.Nodes[h])
		}
		for _, c := range r.Small {
			out.Patterns.SmallComponents = append(out.Patterns.SmallComponents, ids(c, node))
		}
		for _, c := range r.Groups {
			out.Patterns.EntityGroups = append(out.Patterns.EntityGroups, ids(c, node))
		}
		return out, nil
	},
	Estimate: func(in *auditv1.HypergraphInput) registry.Cost {
		n := int64(len(in.GetRecords()))
		return registry.Cost{WorkingBytes: 2000 * n, OutputBytes: 600 * n, Work: float64(n)}
	},
}

func prepareHypergraph(ctx context.Context, in *auditv1.HypergraphInput) (HypergraphJob, error) {
	lim := limits.From(ctx)
	if err := checkRecords(lim, in.GetRecords()); err != nil {
		return HypergraphJob{}, err
	}
	kinds := in.GetNodeKinds()
	if len(kinds) == 0 {
		kinds = []string{"entity", "account", "category"}
	}
	minSize := int(registry.Or(in.MinEdgeSize, 2))
	job := HypergraphJob{MaxPairs: lim.MaxSamples}
	for _, s := range in.GetSValues() {
		job.S = append(job.S, int(s))
	}
	if len(job.S) == 0 {
		job.S = []int{1, 2}
	}
	off := int64(in.GetTzOffsetSeconds())
	type rec struct {
		id, kind string
		nodes    []string
		weight   float64
	}
	recs := make([]rec, len(in.GetRecords()))
	seen := map[string]bool{}
	for i, r := range in.GetRecords() {
		var ns []string
		for _, k := range kinds {
			switch k {
			case "entity":
				if r.GetEntityId() != "" {
					ns = append(ns, "entity:"+r.GetEntityId())
				}
			case "account":
				if r.GetAccount() != "" {
					ns = append(ns, "account:"+r.GetAccount())
				}
			case "transaction":
				ns = append(ns, "tx:"+r.GetId())
			case "category":
				if r.GetCategory() != "" {
					ns = append(ns, "category:"+r.GetCategory())
				}
			case "day":
				t := r.GetTs() + off
				day := t / 86400
				if t%86400 < 0 {
					day--
				}
				ns = append(ns, "day:"+time.Unix(day*86400, 0).UTC().Format(time.DateOnly))
			}
		}
		slices.Sort(ns)
		ns = slices.Compact(ns)
		for _, n := range ns {
			seen[n] = true
		}
		w := 1.0
		if r.Amount != nil {
			w = math.Abs(r.GetAmount())
		}
		recs[i] = rec{id: r.GetId(), kind: r.GetType(), nodes: ns, weight: w}
	}
	g := &job.G
	g.Nodes = make([]string, 0, len(seen))
	for n := range seen {
		g.Nodes = append(g.Nodes, n)
	}
	slices.Sort(g.Nodes)
	index := make(map[string]int32, len(g.Nodes))
	g.Kinds = make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		index[n] = int32(i)
		g.Kinds[i] = hypergraph.Kind(n)
	}
	slices.SortFunc(recs, func(a, b rec) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	for _, r := range recs {
		if len(r.nodes) < minSize {
			continue
		}
		e := hypergraph.Edge{ID: r.id, Kind: r.kind, Weight: r.weight, Nodes: make([]int32, len(r.nodes))}
		for j, n := range r.nodes {
			e.Nodes[j] = index[n] // sorted ids → sorted indexes
		}
		g.Edges = append(g.Edges, e)
	}
	return job, nil
}
