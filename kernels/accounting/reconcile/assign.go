package reconcile

import (
	"container/heap"
	"context"
	"math"
)

// Pair is a feasible pairing of left item L with right item R at Cost ≥ 0.
type Pair struct {
	L, R int
	Cost int64
}

// MinCostMaxMatching returns a one-to-one matching of maximum cardinality
// and, among those, minimum total cost (match[l] = r or −1). It is
// successive shortest paths on the unit-capacity flow network
// s → L → R → t with Dijkstra on reduced costs: after k augmentations the
// matching is a minimum-cost matching of size k, so stopping when t is no
// longer reachable gives min-cost maximum matching. Costs must be ≥ 0.
func MinCostMaxMatching(ctx context.Context, nL, nR int, pairs []Pair) (match []int, cost int64, err error) {
	s, t := nL+nR, nL+nR+1
	g := newFlowGraph(nL + nR + 2)
	for l := 0; l < nL; l++ {
		g.add(s, l, 0)
	}
	for r := 0; r < nR; r++ {
		g.add(nL+r, t, 0)
	}
	for _, p := range pairs {
		g.add(p.L, nL+p.R, p.Cost)
	}
	n := len(g.adj)
	pot := make([]int64, n)
	dist := make([]int64, n)
	prevEdge := make([]int32, n)
	prevNode := make([]int32, n)
	done := make([]bool, n)
	var pq distHeap
	for flow := 0; flow < min(nL, nR); flow++ {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		for i := range dist {
			dist[i], done[i], prevEdge[i] = math.MaxInt64, false, -1
		}
		dist[s] = 0
		pq = append(pq[:0], distItem{s, 0})
		for pq.Len() > 0 {
			it := heap.Pop(&pq).(distItem)
			u := it.node
			if done[u] || it.d != dist[u] {
				continue
			}
			done[u] = true
			if u == t {
				break // later nodes get min(d, d_t) = d_t below anyway
			}
			for ei, e := range g.adj[u] {
				if e.cap == 0 {
					continue
				}
				nd := dist[u] + e.cost + pot[u] - pot[e.to]
				if nd < dist[e.to] {
					dist[e.to], prevNode[e.to], prevEdge[e.to] = nd, int32(u), int32(ei)
					heap.Push(&pq, distItem{e.to, nd})
				}
			}
		}
		if dist[t] == math.MaxInt64 {
			break
		}
		dt := dist[t]
		for v := range pot {
			pot[v] += min(dist[v], dt)
		}
		for v := t; v != s; v = int(prevNode[v]) {
			e := &g.adj[prevNode[v]][prevEdge[v]]
			e.cap--
			g.adj[v][e.rev].cap++
			cost += e.cost
		}
	}
	match = make([]int, nL)
	for l := 0; l < nL; l++ {
		match[l] = -1
		for _, e := range g.adj[l] {
			if e.to >= nL && e.to < nL+nR && e.cap == 0 {
				match[l] = e.to - nL
			}
		}
	}
	return match, cost, nil
}

type flowEdge struct {
	to, rev int
	cap     int8
	cost    int64
}

type flowGraph struct{ adj [][]flowEdge }

func newFlowGraph(n int) *flowGraph { return &flowGraph{adj: make([][]flowEdge, n)} }

func (g *flowGraph) add(u, v int, cost int64) {
	g.adj[u] = append(g.adj[u], flowEdge{to: v, rev: len(g.adj[v]), cap: 1, cost: cost})
	g.adj[v] = append(g.adj[v], flowEdge{to: u, rev: len(g.adj[u]) - 1, cap: 0, cost: -cost})
}

type distItem struct {
	node int
	d    int64
}

type distHeap []distItem

func (h distHeap) Len() int           { return len(h) }
func (h distHeap) Less(i, j int) bool { return h[i].d < h[j].d }
func (h distHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *distHeap) Push(x any)        { *h = append(*h, x.(distItem)) }
func (h *distHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
