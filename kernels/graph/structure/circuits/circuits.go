// Package circuits enumerates the elementary circuits (simple directed
// cycles) of a directed graph up to a length bound: the cycles Johnson's
// algorithm (1975, SIAM J. Comput. 4(1)) and networkx's simple_cycles list,
// filtered by length, without listing the longer ones first.
//
// Each circuit is found exactly once, from its smallest node s, by a
// depth-bounded walk through larger nodes of s's strongly connected
// component (graph/components.Strong) that closes back to s. Before the walk
// a reverse breadth-first search from s gives every node's distance back to
// s, so the walk never enters a node from which s cannot be reached within
// the remaining length; on sparse graphs this keeps the work near the number
// of circuits found.
package circuits

import (
	"context"
	"errors"

	"github.com/gokernels/gokernels/kernels/graph/components"
	"github.com/gokernels/gokernels/kernels/graph/csr"
)

// ErrSteps is returned when the search needs more than its step budget.
var ErrSteps = errors.New("circuit search step budget exhausted")

// Bounded calls emit for every elementary circuit of the directed graph g
// with 2..maxLen nodes; self-loops are not circuits here. The path passed to
// emit starts at the circuit's smallest node and follows its arcs; emit must
// not keep it (it is reused). Circuits come in order of their smallest node,
// then in depth-first order over ascending neighbours. maxSteps bounds the
// arcs examined (≤ 0: no bound; beyond it the result is ErrSteps); an error
// from emit stops the search and is returned. steps is the number of arcs
// examined.
func Bounded(ctx context.Context, g *csr.Graph, maxLen int, maxSteps int64, emit func(path []int32) error) (steps int64, err error) {
	if maxLen < 2 || g.N == 0 {
		return 0, nil
	}
	scc, err := components.Strong(ctx, g)
	if err != nil {
		return 0, err
	}
	s := &search{g: g, comp: scc.Labels, maxLen: int32(maxLen), maxSteps: maxSteps, emit: emit, ctx: ctx,
		dist: make([]int32, g.N), onPath: make([]bool, g.N)}
	for i := range s.dist {
		s.dist[i] = -1
	}
	for v := int32(0); v < int32(g.N); v++ {
		if scc.Sizes[scc.Labels[v]] < 2 {
			continue // no circuit through v
		}
		if err := s.from(v); err != nil {
			return s.steps, err
		}
	}
	return s.steps, nil
}

type search struct {
	ctx      context.Context
	g        *csr.Graph
	comp     []int32
	maxLen   int32
	maxSteps int64
	steps    int64
	emit     func([]int32) error

	dist    []int32 // arcs from the node back to the current start, -1 when unknown
	touched []int32 // nodes whose dist is set, to reset them
	onPath  []bool
	path    []int32
}

// step counts one unit of work and polls the context now and then.
func (s *search) step() error {
	s.steps++
	if s.maxSteps > 0 && s.steps > s.maxSteps {
		return ErrSteps
	}
	if s.steps&4095 == 0 {
		return s.ctx.Err()
	}
	return nil
}

// from lists the circuits whose smallest node is v.
func (s *search) from(v int32) error {
	if err := s.distances(v); err != nil {
		return err
	}
	s.path = append(s.path[:0], v)
	s.onPath[v] = true
	err := s.walk(v)
	s.onPath[v] = false
	for _, u := range s.touched {
		s.dist[u] = -1
	}
	s.touched = s.touched[:0]
	return err
}

// distances sets dist[u] for the nodes u ≥ v of v's component that reach v
// within maxLen−1 arcs (a reverse BFS along in-arcs).
func (s *search) distances(v int32) error {
	g, c := s.g, s.comp[v]
	s.dist[v] = 0
	s.touched = append(s.touched, v)
	for head := 0; head < len(s.touched); head++ {
		u := s.touched[head]
		d := s.dist[u]
		if d == s.maxLen-1 {
			continue
		}
		for _, w := range g.InIdx[g.InPtr[u]:g.InPtr[u+1]] {
			if err := s.step(); err != nil {
				return err
			}
			if w > v && s.comp[w] == c && s.dist[w] < 0 {
				s.dist[w] = d + 1
				s.touched = append(s.touched, w)
			}
		}
	}
	return nil
}

// walk extends the path ending at u (path[0] is the start).
func (s *search) walk(u int32) error {
	g, start := s.g, s.path[0]
	k := int32(len(s.path)) // nodes on the path, arcs so far = k−1
	for _, w := range g.Idx[g.Ptr[u]:g.Ptr[u+1]] {
		if err := s.step(); err != nil {
			return err
		}
		if w == start {
			if k >= 2 {
				if err := s.emit(s.path); err != nil {
					return err
				}
			}
			continue
		}
		// Taking u→w makes k arcs; closing needs dist[w] more.
		if w < start || s.onPath[w] || s.dist[w] < 0 || k+s.dist[w] > s.maxLen {
			continue
		}
		s.path = append(s.path, w)
		s.onPath[w] = true
		err := s.walk(w)
		s.onPath[w] = false
		s.path = s.path[:len(s.path)-1]
		if err != nil {
			return err
		}
	}
	return nil
}
