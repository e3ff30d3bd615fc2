package components

import (
	"context"

	"github.com/gokernels/gokernels/kernels/graph/csr"
)

// tarjan is the textbook iterative Tarjan search (index, lowlink and
// component arrays) that Strong replaced: the reference it is checked and
// benchmarked against.
func tarjan(ctx context.Context, g *csr.Graph) (Result, error) {
	n := g.N
	const unvisited = -1
	index := make([]int32, n) // discovery order, -1 before
	low := make([]int32, n)
	comp := make([]int32, n) // Tarjan's component number, -1 while open
	for i := range index {
		index[i] = unvisited
		comp[i] = -1
	}
	var (
		stack   []int32  // Tarjan's node stack
		call    []tframe // DFS call stack
		next    int32
		ncomp   int32
		visited int
	)
	for root := 0; root < n; root++ {
		if index[root] != unvisited {
			continue
		}
		call = append(call, tframe{v: int32(root), e: g.Ptr[root]})
		index[root], low[root] = next, next
		next++
		stack = append(stack, int32(root))
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if f.e < g.Ptr[v+1] {
				w := g.Idx[f.e]
				f.e++
				switch {
				case index[w] == unvisited:
					visited++
					if visited%checkEvery == 0 {
						if err := ctx.Err(); err != nil {
							return Result{}, err
						}
					}
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					call = append(call, tframe{v: w, e: g.Ptr[w]})
				case comp[w] < 0: // w is on the stack
					low[v] = min(low[v], index[w])
				}
				continue
			}
			// v is finished.
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					comp[w] = ncomp
					if w == v {
						break
					}
				}
				ncomp++
			}
		}
	}
	return canonical(comp, int(ncomp)), nil
}

type tframe struct {
	v int32
	e int32
}
