// Package flowanalysis is payments/flow-analysis: the topology of a payment
// network (Soramäki et al. 2007): links, degrees and strengths, density,
// reciprocity, clustering, bow-tie, path length, PageRank, hourly profile
// and upstream's anomaly rules. The graph algorithms are the graph
// domain's (CSR, Tarjan SCC, PageRank, clustering, BFS path sums).
package flowanalysis

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	paymentsv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/payments/v1"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/graph/centrality"
	"github.com/gokernels/gokernels/kernels/graph/components"
	"github.com/gokernels/gokernels/kernels/graph/csr"
	"github.com/gokernels/gokernels/kernels/graph/metrics"
	"github.com/gokernels/gokernels/kernels/graph/paths"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Def declares payments/flow-analysis.
var Def = registry.Def[*paymentsv1.FlowAnalysisInput, *paymentsv1.FlowAnalysisOutput, *job]{
	Meta: registry.Meta{
		ID:          "payments/flow-analysis",
		Domain:      registry.DomainPayments,
		Description: "Payment-network topology (Soramäki et al. 2007): links, degrees, strengths, density, reciprocity, clustering, bow-tie, path length, volume PageRank, hourly profile and anomalies (equals networkx).",
		Modes:       []registry.Mode{registry.Batch},
	},
	Prepare: prepare,
	CPU:     run,
}

type job struct {
	payments []*paymentsv1.FlowPayment // kept: COMPLETED/PROCESSING, no self-loops, ts order
	tz       int64
}

func prepare(ctx context.Context, in *paymentsv1.FlowAnalysisInput) (*job, error) {
	ps := in.GetPayments()
	if err := limits.Check("payments", len(ps), limits.From(ctx).MaxEdges); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(ps))
	j := &job{tz: in.GetTzOffsetSeconds()}
	for i, p := range ps {
		if seen[p.GetId()] {
			return nil, kerr.Invalid(fmt.Sprintf("payments[%d].id", i), "duplicate payment id %q", p.GetId())
		}
		seen[p.GetId()] = true
		switch p.GetStatus() {
		case "", "COMPLETED", "PROCESSING":
		default:
			continue
		}
		if p.GetPayer() != p.GetPayee() {
			j.payments = append(j.payments, p)
		}
	}
	slices.SortStableFunc(j.payments, func(a, b *paymentsv1.FlowPayment) int { return cmp.Compare(a.GetTs(), b.GetTs()) })
	return j, nil
}

type link struct {
	u, v   int32
	volume float64
	count  int32
}

func run(ctx context.Context, j *job) (*paymentsv1.FlowAnalysisOutput, error) {
	var ents txn.Interner
	linkOf := map[uint64]int{}
	var links []link
	net := &paymentsv1.NetworkMetrics{HourlyVolume: make([]float64, 24), BowtieSizes: &paymentsv1.BowtieSizes{}}
	for _, p := range j.payments {
		u, v := ents.ID(p.GetPayer()), ents.ID(p.GetPayee())
		k := uint64(uint32(u))<<32 | uint64(uint32(v))
		i, ok := linkOf[k]
		if !ok {
			i = len(links)
			linkOf[k] = i
			links = append(links, link{u: u, v: v})
		}
		links[i].volume += p.GetAmount()
		links[i].count++
		net.TotalVolume += p.GetAmount()
		net.TotalCount++
		h := ((p.GetTs()+j.tz)%86_400 + 86_400) % 86_400 / 3600
		net.HourlyVolume[h] += p.GetAmount()
	}
	if math.IsInf(net.TotalVolume, 0) {
		return nil, kerr.Invalid("payments", "the amounts' sum overflows float64")
	}
	n := ents.Len()
	out := &paymentsv1.FlowAnalysisOutput{Network: net}
	net.Nodes, net.Links = int32(n), int32(len(links))
	for h := range 24 {
		if net.HourlyVolume[h] > net.HourlyVolume[net.PeakHour] {
			net.PeakHour = int32(h)
		}
	}
	if n == 0 {
		return out, nil
	}
	if err := limits.Check("payments", n, limits.From(ctx).MaxNodes); err != nil {
		return nil, err
	}
	nodes := make([]*paymentsv1.PaymentNode, n)
	for i := range nodes {
		nodes[i] = &paymentsv1.PaymentNode{Id: ents.Names[i]}
	}
	src, dst := make([]int32, len(links)), make([]int32, len(links))
	w := make([]float64, len(links))
	reciprocated := 0
	for i, l := range links {
		src[i], dst[i], w[i] = l.u, l.v, l.volume
		nodes[l.u].OutDegree++
		nodes[l.u].OutStrength += l.volume
		nodes[l.u].OutCount += l.count
		nodes[l.v].InDegree++
		nodes[l.v].InStrength += l.volume
		nodes[l.v].InCount += l.count
		if _, ok := linkOf[uint64(uint32(l.v))<<32|uint64(uint32(l.u))]; ok {
			reciprocated++
		}
	}
	if n > 1 {
		net.Density = float64(len(links)) / (float64(n) * float64(n-1))
	}
	net.Reciprocity = txn.Ratio(float64(reciprocated), float64(len(links)))

	g, err := csr.Build(n, src, dst, w, true)
	if err != nil {
		return nil, err
	}
	pr, err := centrality.PageRank(ctx, g, 0.85, 100_000, 1e-13)
	if err != nil {
		return nil, err
	}
	for i := range nodes {
		nodes[i].Pagerank = pr.Scores[i]
	}
	und, err := csr.Build(n, src, dst, nil, false)
	if err != nil {
		return nil, err
	}
	cl, err := metrics.ClusteringOf(ctx, und)
	if err != nil {
		return nil, err
	}
	net.AvgClustering = cl.Average
	if err := bowtie(ctx, g, nodes, net); err != nil {
		return nil, err
	}

	out.Links = make([]*paymentsv1.PaymentLink, len(links))
	for i, l := range links {
		out.Links[i] = &paymentsv1.PaymentLink{Payer: ents.Names[l.u], Payee: ents.Names[l.v],
			Volume: l.volume, Count: l.count, Mean: l.volume / float64(l.count)}
	}
	out.Anomalies = anomalies(out.Links, nodes, linkOf, &ents)
	slices.SortFunc(out.Links, func(a, b *paymentsv1.PaymentLink) int {
		if c := cmp.Compare(b.Volume, a.Volume); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Payer, b.Payer); c != 0 {
			return c
		}
		return cmp.Compare(a.Payee, b.Payee)
	})
	slices.SortFunc(nodes, func(a, b *paymentsv1.PaymentNode) int { return cmp.Compare(a.Id, b.Id) })
	out.Nodes = nodes
	return out, nil
}

// bowtie labels the largest SCC (ties: the one with the smallest member
// id) CORE, what reaches it IN, what it reaches OUT, the rest OTHER, and
// measures the average hop distance inside the core.
func bowtie(ctx context.Context, g *csr.Graph, nodes []*paymentsv1.PaymentNode, net *paymentsv1.NetworkMetrics) error {
	scc, err := components.Strong(ctx, g)
	if err != nil {
		return err
	}
	best := int32(-1)
	minID := make([]string, scc.Count())
	for v := range g.N {
		c := scc.Labels[v]
		if minID[c] == "" || nodes[v].Id < minID[c] {
			minID[c] = nodes[v].Id
		}
	}
	for c := range int32(scc.Count()) {
		if best < 0 || scc.Sizes[c] > scc.Sizes[best] || (scc.Sizes[c] == scc.Sizes[best] && minID[c] < minID[best]) {
			best = c
		}
	}
	net.LargestScc = scc.Sizes[best]
	reach := func(ptr, idx []int32) []bool {
		seen := make([]bool, g.N)
		var stack []int32
		for v := range g.N {
			if scc.Labels[v] == best {
				seen[v] = true
				stack = append(stack, int32(v))
			}
		}
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, u := range idx[ptr[v]:ptr[v+1]] {
				if !seen[u] {
					seen[u] = true
					stack = append(stack, u)
				}
			}
		}
		return seen
	}
	fwd, back := reach(g.Ptr, g.Idx), reach(g.InPtr, g.InIdx)
	var core []int32
	for v := range g.N {
		switch {
		case scc.Labels[v] == best:
			nodes[v].Bowtie = "CORE"
			net.BowtieSizes.Core++
			core = append(core, int32(v))
		case back[v]:
			nodes[v].Bowtie = "IN"
			net.BowtieSizes.In++
		case fwd[v]:
			nodes[v].Bowtie = "OUT"
			net.BowtieSizes.Out++
		default:
			nodes[v].Bowtie = "OTHER"
			net.BowtieSizes.Other++
		}
	}
	if len(core) < 2 {
		return nil
	}
	if err := limits.Check("payments", len(core), limits.From(ctx).MaxAllPairsN); err != nil {
		return kerr.Invalid("payments", "the largest SCC has %d accounts, above the all-pairs limit %d for avg_shortest_path",
			len(core), limits.From(ctx).MaxAllPairsN)
	}
	pos := make(map[int32]int32, len(core))
	for i, v := range core {
		pos[v] = int32(i)
	}
	var s, d []int32
	for _, v := range core {
		for _, u := range g.Idx[g.Ptr[v]:g.Ptr[v+1]] {
			if p, ok := pos[u]; ok {
				s, d = append(s, pos[v]), append(d, p)
			}
		}
	}
	sub, err := csr.Build(len(core), s, d, nil, true)
	if err != nil {
		return err
	}
	sums, err := paths.Sums(ctx, sub)
	if err != nil {
		return err
	}
	net.AvgShortestPath = sums.NetworkX()
	return nil
}

// anomalies applies upstream's rules with population sigma.
func anomalies(links []*paymentsv1.PaymentLink, nodes []*paymentsv1.PaymentNode, linkOf map[uint64]int, ents *txn.Interner) []*paymentsv1.FlowAnomaly {
	var out []*paymentsv1.FlowAnomaly
	var mean, meanCount float64
	for _, l := range links {
		mean += l.Volume
		meanCount += float64(l.Count)
	}
	mean /= float64(len(links))
	meanCount /= float64(len(links))
	var ss float64
	for _, l := range links {
		ss += (l.Volume - mean) * (l.Volume - mean)
	}
	sigma := math.Sqrt(ss / float64(len(links)))
	for _, l := range links {
		if l.Volume > mean+3*sigma {
			out = append(out, &paymentsv1.FlowAnomaly{Type: "UNUSUAL_VOLUME", Entities: []string{l.Payer, l.Payee}, Value: l.Volume})
		}
		if float64(l.Count) > 5*meanCount {
			out = append(out, &paymentsv1.FlowAnomaly{Type: "UNUSUAL_FREQUENCY", Entities: []string{l.Payer, l.Payee}, Value: float64(l.Count)})
		}
		if l.Payer < l.Payee {
			u, _ := ents.Lookup(l.Payer)
			v, _ := ents.Lookup(l.Payee)
			if i, ok := linkOf[uint64(uint32(v))<<32|uint64(uint32(u))]; ok {
				out = append(out, &paymentsv1.FlowAnomaly{Type: "RECIPROCAL_PAIR", Entities: []string{l.Payer, l.Payee},
					Value: min(l.Volume, links[i].Volume)})
			}
		}
	}
	for _, nd := range nodes {
		if nd.InCount >= 2 && nd.OutCount >= 2 {
			r := min(nd.InStrength, nd.OutStrength) / ((nd.InStrength + nd.OutStrength) / 2)
			if r > 0.8 {
				out = append(out, &paymentsv1.FlowAnomaly{Type: "PASS_THROUGH", Entities: []string{nd.Id}, Value: r})
			}
		}
	}
	slices.SortFunc(out, func(a, b *paymentsv1.FlowAnomaly) int {
		if c := cmp.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return slices.Compare(a.Entities, b.Entities)
	})
	return out
}
