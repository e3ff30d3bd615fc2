// Package dfg builds the directly-follows graph of a log in trace form
// (van der Aalst 2016): a >_L b counts consecutive events a, b of a trace,
// with the gaps ts(b) − ts(a) of every occurrence kept for performance
// statistics. Shared by dfg-construction, partial-order, conformance and
// next-activity.
package dfg

import (
	"context"
	"slices"

	"github.com/gokernels/gokernels/kernels/procint/eventlog"
)

// Graph is the DFG of a log over activity codes 0..N-1.
type Graph struct {
	N        int
	ActCount []int64 // events per activity
	Start    []int64 // traces starting with each activity
	End      []int64 // traces ending with each activity
	// Pairs maps source·N+target to the edge's index in Edges.
	Pairs map[int64]int32
	Edges []Edge
}

// Edge is one directly-follows edge with its gaps (seconds).
type Edge struct {
	Source, Target int32
	Count          int64
	Gaps           []int64 // nil unless gaps were requested
}

// Build counts the DFG of l; with gaps it keeps every gap per edge.
func Build(ctx context.Context, l *eventlog.Log, gaps bool) (*Graph, error) {
	n := len(l.Acts)
	g := &Graph{
		N: n, ActCount: make([]int64, n), Start: make([]int64, n), End: make([]int64, n),
		Pairs: make(map[int64]int32),
	}
	for t, tr := range l.Traces {
		if t&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if len(tr) == 0 {
			continue
		}
		g.Start[tr[0]]++
		g.End[tr[len(tr)-1]]++
		ts := l.TS[t]
		for i, a := range tr {
			g.ActCount[a]++
			if i == 0 {
				continue
			}
			e := g.edge(tr[i-1], a)
			e.Count++
			if gaps {
				e.Gaps = append(e.Gaps, ts[i]-ts[i-1])
			}
		}
	}
	return g, nil
}

func (g *Graph) edge(a, b int32) *Edge {
	key := int64(a)*int64(g.N) + int64(b)
	i, ok := g.Pairs[key]
	if !ok {
		i = int32(len(g.Edges))
		g.Pairs[key] = i
		g.Edges = append(g.Edges, Edge{Source: a, Target: b})
	}
	return &g.Edges[i]
}

// Count returns |a > b|.
func (g *Graph) Count(a, b int32) int64 {
	if i, ok := g.Pairs[int64(a)*int64(g.N)+int64(b)]; ok {
		return g.Edges[i].Count
	}
	return 0
}

// GapStats are the mean, median (numpy: mean of the two middle values),
// min and max of gaps; all 0 for none.
func GapStats(gaps []int64) (mean, median, lo, hi float64) {
	if len(gaps) == 0 {
		return 0, 0, 0, 0
	}
	s := slices.Clone(gaps)
	slices.Sort(s)
	var sum float64
	for _, v := range s {
		sum += float64(v)
	}
	n := len(s)
	median = float64(s[n/2])
	if n%2 == 0 {
		median = (float64(s[n/2-1]) + float64(s[n/2])) / 2
	}
	return sum / float64(n), median, float64(s[0]), float64(s[n-1])
}
