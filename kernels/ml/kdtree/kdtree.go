// Package kdtree is a static k-d tree for radius and k-nearest-neighbour
// queries under the Minkowski metrics p = 1, 2 and ∞.
//
// It is the spatial index behind DBSCAN and LOF: building is O(n log n) and
// O(n) memory, queries touch only the boxes that can hold an answer, and a
// built tree is read-only so any number of goroutines may query it at once.
// Like sklearn's KDTree it works on "reduced" distances (squared for p = 2)
// and keeps a bounding box per node for pruning.
package kdtree

import (
	"context"
	"math"
	"sort"
)

// P selects the Minkowski norm.
type P int

const (
	L1   P = 1 // Manhattan
	L2   P = 2 // Euclidean
	LInf P = 3 // Chebyshev
)

// LeafSize is the largest number of points in a leaf (sklearn's default 30
// is tuned for Python overhead; smaller leaves prune better in Go).
const LeafSize = 16

// Tree is a built k-d tree.
type Tree struct {
	p     P
	d     int
	pts   []float64 // points in tree order, row-major
	idx   []int32   // original index of each tree-order point
	nodes []node
	lo    []float64 // per node bounding box, node*d .. node*d+d
	hi    []float64
}

type node struct {
	start, end  int32 // tree-order point range
	left, right int32 // children, -1 for a leaf
}

// Build indexes the n = len(data)/d points of the row-major data. It copies
// the points into tree order. ctx is checked while partitioning.
func Build(ctx context.Context, data []float64, d int, p P) (*Tree, error) {
	n := len(data) / d
	t := &Tree{p: p, d: d, pts: make([]float64, n*d), idx: make([]int32, n)}
	for i := range t.idx {
		t.idx[i] = int32(i)
	}
	// About 2n/LeafSize nodes; a capacity guess, append grows it if needed.
	t.nodes = make([]node, 0, 2*(n/LeafSize+1))
	if n > 0 {
		b := builder{t: t, data: data, ctx: ctx}
		b.build(0, n)
		if b.err != nil {
			return nil, b.err
		}
	}
	for k, i := range t.idx {
		copy(t.pts[k*d:(k+1)*d], data[int(i)*d:(int(i)+1)*d])
	}
	return t, nil
}

type builder struct {
	t     *Tree
	data  []float64
	ctx   context.Context
	err   error
	steps int
}

func (b *builder) build(start, end int) int32 {
	t := b.t
	d := t.d
	id := int32(len(t.nodes))
	t.nodes = append(t.nodes, node{start: int32(start), end: int32(end), left: -1, right: -1})
	t.lo = append(t.lo, make([]float64, d)...)
	t.hi = append(t.hi, make([]float64, d)...)
	lo := t.lo[int(id)*d : int(id)*d+d]
	hi := t.hi[int(id)*d : int(id)*d+d]
	for j := 0; j < d; j++ {
		lo[j], hi[j] = math.Inf(1), math.Inf(-1)
	}
	for _, i := range t.idx[start:end] {
		row := b.data[int(i)*d : int(i)*d+d]
		for j, v := range row {
			lo[j] = min(lo[j], v)
			hi[j] = max(hi[j], v)
		}
	}
	if end-start <= LeafSize {
		return id
	}
	if b.steps++; b.steps&63 == 0 && b.err == nil {
		b.err = b.ctx.Err()
	}
	if b.err != nil {
		return id
	}
	split, spread := 0, -1.0
	for j := 0; j < d; j++ {
		if s := hi[j] - lo[j]; s > spread {
			split, spread = j, s
		}
	}
	if spread == 0 { // all points identical: nothing to split
		return id
	}
	mid := (start + end) / 2
	b.selectNth(start, end, mid, split)
	l := b.build(start, mid)
	r := b.build(mid, end)
	t.nodes[id].left, t.nodes[id].right = l, r
	return id
}

// selectNth partially orders idx[start:end] so that idx[k] holds the point
// with the k-th smallest coordinate j (Hoare quickselect, median of three).
func (b *builder) selectNth(start, end, k, j int) {
	idx := b.t.idx
	d := b.t.d
	key := func(p int) float64 { return b.data[int(idx[p])*d+j] }
	lo, hi := start, end-1
	for hi > lo {
		m := lo + (hi-lo)/2
		// median of three into position m
		if key(m) < key(lo) {
			idx[m], idx[lo] = idx[lo], idx[m]
		}
		if key(hi) < key(lo) {
			idx[hi], idx[lo] = idx[lo], idx[hi]
		}
		if key(hi) < key(m) {
			idx[hi], idx[m] = idx[m], idx[hi]
		}
		pivot := key(m)
		i, g := lo, hi
		for i <= g {
			for key(i) < pivot {
				i++
			}
			for key(g) > pivot {
				g--
			}
			if i <= g {
				idx[i], idx[g] = idx[g], idx[i]
				i++
				g--
			}
		}
		switch {
		case k <= g:
			hi = g
		case k >= i:
			lo = i
		default:
			return
		}
	}
}

// Order returns the original indexes in tree order: consecutive entries are
// spatially close, so running queries in this order keeps the nodes they
// visit in cache. The slice is shared; do not modify it.
func (t *Tree) Order() []int32 { return t.idx }

// Len is the number of indexed points.
func (t *Tree) Len() int { return len(t.idx) }

// Reduce turns a distance into the tree's reduced distance (r² for L2).
func (t *Tree) Reduce(r float64) float64 {
	if t.p == L2 {
		return r * r
	}
	return r
}

// Unreduce turns a reduced distance back into a distance.
func (t *Tree) Unreduce(r float64) float64 {
	if t.p == L2 {
		return math.Sqrt(r)
	}
	return r
}

func (t *Tree) rdist(q, x []float64) float64 {
	x = x[:len(q)]
	var s float64
	switch t.p {
	case L2:
		for i, v := range q {
			d := v - x[i]
			s += d * d
		}
	case L1:
		for i, v := range q {
			s += math.Abs(v - x[i])
		}
	default:
		for i, v := range q {
			s = max(s, math.Abs(v-x[i]))
		}
	}
	return s
}

// boxMin is the smallest reduced distance from q to node n's box. One loop
// per norm keeps the hot loop free of branches on p.
func (t *Tree) boxMin(q []float64, n int32) float64 {
	d := t.d
	lo := t.lo[int(n)*d : int(n)*d+d]
	hi := t.hi[int(n)*d : int(n)*d+d]
	lo, hi = lo[:len(q)], hi[:len(q)]
	var s float64
	switch t.p {
	case L2:
		for j, v := range q {
			g := max(lo[j]-v, v-hi[j], 0)
			s += g * g
		}
	case L1:
		for j, v := range q {
			s += max(lo[j]-v, v-hi[j], 0)
		}
	default:
		for j, v := range q {
			s = max(s, lo[j]-v, v-hi[j])
		}
	}
	return s
}

// boxMax is the largest reduced distance from q to node n's box.
func (t *Tree) boxMax(q []float64, n int32) float64 {
	d := t.d
	lo := t.lo[int(n)*d : int(n)*d+d]
	hi := t.hi[int(n)*d : int(n)*d+d]
	var s float64
	for j, v := range q {
		g := max(math.Abs(v-lo[j]), math.Abs(hi[j]-v))
		switch t.p {
		case L2:
			s += g * g
		case L1:
			s += g
		default:
			s = max(s, g)
		}
	}
	return s
}

// Radius calls fn with the original index of every point x with
// dist(q, x) <= r (sklearn's query_radius convention: the boundary is
// included).
func (t *Tree) Radius(q []float64, r float64, fn func(i int32)) {
	if len(t.nodes) == 0 {
		return
	}
	t.radius(q, t.Reduce(r), 0, fn)
}

func (t *Tree) radius(q []float64, rr float64, n int32, fn func(i int32)) {
	if t.boxMin(q, n) > rr {
		return
	}
	nd := t.nodes[n]
	if nd.left < 0 || t.boxMax(q, n) <= rr {
		d := t.d
		for k := nd.start; k < nd.end; k++ {
			if nd.left < 0 && t.rdist(q, t.pts[int(k)*d:int(k)*d+d]) > rr {
				continue
			}
			fn(t.idx[k])
		}
		return
	}
	t.radius(q, rr, nd.left, fn)
	t.radius(q, rr, nd.right, fn)
}

// RadiusCount returns how many points lie within distance r of q.
func (t *Tree) RadiusCount(q []float64, r float64) int {
	if len(t.nodes) == 0 {
		return 0
	}
	return t.radiusCount(q, t.Reduce(r), 0)
}

func (t *Tree) radiusCount(q []float64, rr float64, n int32) int {
	if t.boxMin(q, n) > rr {
		return 0
	}
	nd := t.nodes[n]
	if t.boxMax(q, n) <= rr {
		return int(nd.end - nd.start)
	}
	if nd.left < 0 {
		c := 0
		d := t.d
		for k := nd.start; k < nd.end; k++ {
			if t.rdist(q, t.pts[int(k)*d:int(k)*d+d]) <= rr {
				c++
			}
		}
		return c
	}
	return t.radiusCount(q, rr, nd.left) + t.radiusCount(q, rr, nd.right)
}

// Neighbor is one k-nearest-neighbour result.
type Neighbor struct {
	Index int32
	Dist  float64 // true (not reduced) distance
}

// KNN is a reusable k-nearest-neighbour query; one per goroutine.
type KNN struct {
	t    *Tree
	heap []Neighbor // max-heap on (reduced Dist, Index)
	k    int
	skip int32
}

// NewKNN returns a query object for k neighbours.
func (t *Tree) NewKNN(k int) *KNN { return &KNN{t: t, k: k, heap: make([]Neighbor, 0, k)} }

// Query finds the k nearest points to q, leaving out the point with original
// index skip (pass -1 to keep all), and appends them to out sorted by
// distance, ties by index.
func (s *KNN) Query(q []float64, skip int32, out []Neighbor) []Neighbor {
	s.heap = s.heap[:0]
	s.skip = skip
	if s.k > 0 && len(s.t.nodes) > 0 {
		s.search(q, 0, s.t.boxMin(q, 0))
	}
	h := s.heap
	sort.Slice(h, func(a, b int) bool { return less(h[a], h[b]) })
	for _, nb := range h {
		out = append(out, Neighbor{Index: nb.Index, Dist: s.t.Unreduce(nb.Dist)})
	}
	return out
}

func less(a, b Neighbor) bool {
	return a.Dist < b.Dist || (a.Dist == b.Dist && a.Index < b.Index)
}

func (s *KNN) worst() float64 {
	if len(s.heap) < s.k {
		return math.Inf(1)
	}
	return s.heap[0].Dist
}

func (s *KNN) search(q []float64, n int32, bmin float64) {
	if bmin > s.worst() {
		return
	}
	t := s.t
	nd := t.nodes[n]
	if nd.left < 0 {
		d := t.d
		for k := nd.start; k < nd.end; k++ {
			i := t.idx[k]
			if i == s.skip {
				continue
			}
			s.push(Neighbor{Index: i, Dist: t.rdist(q, t.pts[int(k)*d:int(k)*d+d])})
		}
		return
	}
	bl := t.boxMin(q, nd.left)
	br := t.boxMin(q, nd.right)
	if bl <= br {
		s.search(q, nd.left, bl)
		s.search(q, nd.right, br)
	} else {
		s.search(q, nd.right, br)
		s.search(q, nd.left, bl)
	}
}

// push keeps the k best candidates in a max-heap ordered by (Dist, Index).
func (s *KNN) push(c Neighbor) {
	h := s.heap
	if len(h) < s.k {
		h = append(h, c)
		i := len(h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !less(h[p], h[i]) {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		s.heap = h
		return
	}
	if !less(c, h[0]) {
		return
	}
	h[0] = c
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && less(h[l], h[r]) {
			m = r
		}
		if !less(h[i], h[m]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
