// Package hypergraph builds the record hypergraph of audit/hypergraph
// (domains.md §11): nodes and edges, degrees and strengths, eigenvector
// centrality on the clique expansion, star-expansion components,
// s-components (Aksoy et al. 2020) and the hub / small-component /
// entity-group patterns.
package hypergraph

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// Edge is one record's hyperedge: its node indexes (sorted, distinct).
type Edge struct {
	ID, Kind string
	Nodes    []int32
	Weight   float64
}

// Graph is a hypergraph: node ids sorted bytewise, edges sorted by id.
type Graph struct {
	Nodes []string
	Kinds []string
	Edges []Edge
}

// Result is everything the kernel reports, in index form.
type Result struct {
	Degree      []int
	Strength    []float64
	Centrality  []float64
	Components  [][]int   // node indexes, sorted groups, (−size, first) order
	SComponents [][][]int // per s: edge indexes
	Hubs        []int
	Small       [][]int
	Groups      [][]int
}

// ErrTooManyPairs is returned when the entity co-occurrence scan would
// exceed the cap.
var ErrTooManyPairs = errors.New("entity co-occurrence pairs exceed the limit")

// DenseMax is the largest component whose eigenvector is taken by a dense
// symmetric eigensolver; larger ones use power iteration on A + I.
var DenseMax = 400

// Analyse computes every measure. sValues are the s of the s-components;
// maxPairs caps the entity co-occurrence work.
func Analyse(ctx context.Context, g Graph, sValues []int, maxPairs int) (Result, error) {
	n := len(g.Nodes)
	r := Result{Degree: make([]int, n), Strength: make([]float64, n), Centrality: make([]float64, n)}
	// Entity groups first: when the co-occurrence scan is over the cap the
	// request fails before the eigenvector work.
	var err error
	if r.Groups, err = entityGroups(ctx, g, maxPairs); err != nil {
		return Result{}, err
	}
	uf := newUF(n)
	for _, e := range g.Edges {
		for _, v := range e.Nodes {
			r.Degree[v]++
			r.Strength[v] += e.Weight
			uf.union(int(e.Nodes[0]), int(v))
		}
	}
	r.Components = groups(uf, all(n))
	if err := centrality(ctx, g, r.Centrality); err != nil {
		return Result{}, err
	}
	for _, s := range sValues {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		r.SComponents = append(r.SComponents, sComponents(g, s))
	}
	// hubs: degree z-score > 2 over V (population σ)
	if n > 0 {
		var sum float64
		for _, d := range r.Degree {
			sum += float64(d)
		}
		mean := sum / float64(n)
		var ss float64
		for _, d := range r.Degree {
			ss += (float64(d) - mean) * (float64(d) - mean)
		}
		if sd := math.Sqrt(ss / float64(n)); sd > 0 {
			for v, d := range r.Degree {
				if (float64(d)-mean)/sd > 2 {
					r.Hubs = append(r.Hubs, v)
				}
			}
		}
	}
	for _, c := range r.Components {
		if float64(len(c)) < 0.1*float64(n) {
			r.Small = append(r.Small, c)
		}
	}
	return r, nil
}

// all is 0..n-1.
func all(n int) []int {
	xs := make([]int, n)
	for i := range xs {
		xs[i] = i
	}
	return xs
}

// groups lists the union-find classes of the members, each sorted,
// ordered by (−size, first).
func groups(uf *unionFind, members []int) [][]int {
	by := map[int][]int{}
	for _, v := range members {
		root := uf.find(v)
		by[root] = append(by[root], v)
	}
	out := make([][]int, 0, len(by))
	for _, c := range by {
		slices.Sort(c)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b []int) int { return cmp.Or(cmp.Compare(len(b), len(a)), cmp.Compare(a[0], b[0])) })
	return out
}

// sComponents: two edges with |e|, |f| ≥ s are s-adjacent iff they share
// an s-subset of nodes, so uniting the edges that share each s-subset
// (at most C(5, s) per edge) gives the components without comparing pairs.
func sComponents(g Graph, s int) [][]int {
	uf := newUF(len(g.Edges))
	first := map[string]int{}
	var members []int
	var key []byte
	for i, e := range g.Edges {
		if len(e.Nodes) < s {
			continue
		}
		members = append(members, i)
		subsets(e.Nodes, s, func(sub []int32) {
			key = key[:0]
			for _, v := range sub {
				key = append(key, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
			}
			if j, ok := first[string(key)]; ok {
				uf.union(i, j)
			} else {
				first[string(key)] = i
			}
		})
	}
	return groups(uf, members)
}

// subsets calls fn with every k-subset of xs in lexicographic order.
func subsets(xs []int32, k int, fn func([]int32)) {
	sub := make([]int32, 0, k)
	var rec func(start int)
	rec = func(start int) {
		if len(sub) == k {
			fn(sub)
			return
		}
		for i := start; i <= len(xs)-(k-len(sub)); i++ {
			sub = append(sub, xs[i])
			rec(i + 1)
			sub = sub[:len(sub)-1]
		}
	}
	rec(0)
}

// entityGroups finds the entity pairs that co-occur through at least k
// non-entity nodes and groups them. See groupEntities.
func entityGroups(ctx context.Context, g Graph, maxPairs int) ([][]int, error) {
	return groupEntities(ctx, g, maxPairs, -1)
}

// groupEntities computes the entity groups without listing every
// co-occurring pair: a category or account shared by thousands of entities
// makes millions of pairs, each counted once more by every other shared
// node, so a pair-by-pair count is quadratic per node.
//
// The non-entity nodes are split by how many entities they touch. Light
// nodes have their pairs listed (Σ C(|S_v|, 2) ≤ maxPairs). Heavy nodes
// (the largest, as many as needed to bring the light pairs under the cap;
// heavyAbove ≥ 0 forces the split at that size, for tests) are recorded as
// a bitset per entity, its signature; entities with equal signatures form a
// class, and the heavy part of a pair's count is |σ(a) ∩ σ(b)|, one popcount
// per pair of classes. So:
//   - Σ counts = Σ_v C(|S_v|, 2), from the set sizes alone;
//   - co-occurring pairs = the pairs of classes with intersecting
//     signatures (n_i·n_j of them, C(n_i, 2) within a class) plus the listed
//     light pairs whose signatures are disjoint;
//   - a listed pair qualifies when light count + |σ(a) ∩ σ(b)| ≥ k; an
//     unlisted pair when |σ(a) ∩ σ(b)| ≥ k, which holds for whole classes
//     at once, so the classes are united rather than their pairs.
//
// The work is about maxPairs for the light pairs plus (classes)²·words for
// the signatures; beyond either cap the result is ErrTooManyPairs.
func groupEntities(ctx context.Context, g Graph, maxPairs, heavyAbove int) ([][]int, error) {
	n := len(g.Nodes)
	sets := make([][]int32, n) // per non-entity node: the entities sharing an edge with it
	for _, e := range g.Edges {
		var es []int32
		for _, v := range e.Nodes {
			if g.Kinds[v] == "entity" {
				es = append(es, v)
			}
		}
		if len(es) == 0 {
			continue
		}
		for _, v := range e.Nodes {
			if g.Kinds[v] != "entity" {
				sets[v] = append(sets[v], es...)
			}
		}
	}
	var shared []int // nodes with ≥ 2 entities, largest first
	var total int64  // Σ counts over co-occurring pairs = Σ_v C(|S_v|, 2)
	for v, es := range sets {
		slices.Sort(es)
		sets[v] = slices.Compact(es)
		if s := int64(len(sets[v])); s >= 2 {
			shared = append(shared, v)
			total += s * (s - 1) / 2
		}
	}
	if len(shared) == 0 {
		return nil, nil
	}
	slices.SortStableFunc(shared, func(a, b int) int { return cmp.Compare(len(sets[b]), len(sets[a])) })
	pairsOf := func(v int) int64 { s := int64(len(sets[v])); return s * (s - 1) / 2 }
	heavy := 0 // shared[:heavy] are heavy
	if heavyAbove >= 0 {
		for heavy < len(shared) && len(sets[shared[heavy]]) > heavyAbove {
			heavy++
		}
	} else {
		for light := total; light > int64(maxPairs); heavy++ {
			light -= pairsOf(shared[heavy])
		}
	}
	const maxHeavy = 1 << 12
	if heavy > maxHeavy {
		return nil, ErrTooManyPairs
	}
	var light int64
	for _, v := range shared[heavy:] {
		light += pairsOf(v)
	}
	if light > int64(maxPairs) {
		return nil, ErrTooManyPairs
	}

	// Signatures and their classes.
	words := (heavy + 63) / 64
	sig := make([][]uint64, n) // entity → bitset over the heavy nodes, nil for none
	for j, v := range shared[:heavy] {
		for _, a := range sets[v] {
			if sig[a] == nil {
				sig[a] = make([]uint64, words)
			}
			sig[a][j/64] |= 1 << (j % 64)
		}
	}
	var classes [][]int32 // members, sorted
	var classSig [][]uint64
	{
		byKey := map[string]int{}
		key := make([]byte, 8*words)
		for a, b := range sig {
			if b == nil {
				continue
			}
			for w, x := range b {
				binary.LittleEndian.PutUint64(key[8*w:], x)
			}
			c, ok := byKey[string(key)]
			if !ok {
				c = len(classes)
				byKey[string(key)] = c
				classes = append(classes, nil)
				classSig = append(classSig, b)
			}
			classes[c] = append(classes[c], int32(a))
		}
	}
	r := len(classes)
	if int64(r)*int64(r)/2*int64(words) > 4*int64(maxPairs) {
		return nil, ErrTooManyPairs
	}
	inter := func(x, y []uint64) int {
		c := 0
		for w := range x {
			c += bits.OnesCount64(x[w] & y[w])
		}
		return c
	}
	common := func(a, b int32) int {
		x, y := sig[a], sig[b]
		if x == nil || y == nil {
			return 0
		}
		return inter(x, y)
	}
	// Co-occurring pairs through heavy nodes, class by class.
	var pairs int64
	for i := range r {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		ni := int64(len(classes[i]))
		pairs += ni * (ni - 1) / 2 // a class's signature is never empty
		for j := i + 1; j < r; j++ {
			if inter(classSig[i], classSig[j]) > 0 {
				pairs += ni * int64(len(classes[j]))
			}
		}
	}
	// Light pairs, with their light counts: listed as a<<32|b, sorted, and
	// counted as runs (a sort of ≤ maxPairs keys beats a hash map of them).
	keys := make([]uint64, 0, light)
	for i, v := range shared[heavy:] {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		es := sets[v]
		for x := range es {
			for y := x + 1; y < len(es); y++ {
				keys = append(keys, uint64(es[x])<<32|uint64(es[y]))
			}
		}
	}
	slices.Sort(keys)
	type lightPair struct {
		a, b  int32
		count int
	}
	var lights []lightPair
	for i := 0; i < len(keys); {
		j := i
		for j < len(keys) && keys[j] == keys[i] {
			j++
		}
		lp := lightPair{a: int32(keys[i] >> 32), b: int32(uint32(keys[i])), count: j - i}
		lights = append(lights, lp)
		if common(lp.a, lp.b) == 0 {
			pairs++
		}
		i = j
	}
	k := max(2, 1.5*float64(total)/float64(pairs))
	uf := newUF(n)
	in := map[int]bool{}
	for _, p := range lights {
		if float64(p.count+common(p.a, p.b)) >= k {
			uf.union(int(p.a), int(p.b))
			in[int(p.a)], in[int(p.b)] = true, true
		}
	}
	joined := make([]bool, r)
	joinClass := func(c int) {
		if joined[c] {
			return
		}
		joined[c] = true
		for _, a := range classes[c] {
			uf.union(int(classes[c][0]), int(a))
			in[int(a)] = true
		}
	}
	for i := range r {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if len(classes[i]) >= 2 && float64(inter(classSig[i], classSig[i])) >= k {
			joinClass(i)
		}
		for j := i + 1; j < r; j++ {
			if float64(inter(classSig[i], classSig[j])) >= k {
				// every member of i co-occurs with every member of j
				joinClass(i)
				joinClass(j)
				uf.union(int(classes[i][0]), int(classes[j][0]))
			}
		}
	}
	if len(in) == 0 {
		return nil, nil
	}
	members := make([]int, 0, len(in))
	for v := range in {
		members = append(members, v)
	}
	return groups(uf, members), nil
}

// centrality fills c with the unit leading eigenvector of each connected
// block of the clique expansion A = B W Bᵀ (zero diagonal, positive
// entries only).
func centrality(ctx context.Context, g Graph, c []float64) error {
	n := len(g.Nodes)
	adj := make([]map[int32]float64, n)
	for _, e := range g.Edges {
		if e.Weight <= 0 {
			continue
		}
		for _, u := range e.Nodes {
			for _, v := range e.Nodes {
				if u != v {
					if adj[u] == nil {
						adj[u] = map[int32]float64{}
					}
					adj[u][v] += e.Weight
				}
			}
		}
	}
	uf := newUF(n)
	var members []int
	for u := range adj {
		if len(adj[u]) > 0 {
			members = append(members, u)
			for v := range adj[u] {
				uf.union(u, int(v))
			}
		}
	}
	for _, comp := range groups(uf, members) {
		if err := ctx.Err(); err != nil {
			return err
		}
		pos := make(map[int32]int, len(comp))
		for i, v := range comp {
			pos[int32(v)] = i
		}
		// rows of the block in a fixed order, so sums are reproducible
		rows := make([][]struct {
			j int
			w float64
		}, len(comp))
		for i, u := range comp {
			keys := make([]int32, 0, len(adj[u]))
			for v := range adj[u] {
				keys = append(keys, v)
			}
			slices.Sort(keys)
			for _, v := range keys {
				rows[i] = append(rows[i], struct {
					j int
					w float64
				}{pos[v], adj[u][v]})
			}
		}
		var x []float64
		if len(comp) <= DenseMax {
			a := mat.NewSymDense(len(comp), nil)
			for i, row := range rows {
				for _, e := range row {
					a.SetSym(i, e.j, e.w)
				}
			}
			var es mat.EigenSym
			if !es.Factorize(a, true) {
				return errors.New("hypergraph: eigendecomposition did not converge")
			}
			var vecs mat.Dense
			es.VectorsTo(&vecs)
			vals := es.Values(nil)
			top := len(vals) - 1 // ascending
			x = make([]float64, len(comp))
			for i := range x {
				x[i] = math.Abs(vecs.At(i, top))
			}
		} else {
			var err error
			// shift by half the mean row sum (≤ λ_max / 2): A + cI has A's
			// eigenvectors, and the shift stops the oscillation on
			// bipartite blocks whose spectrum is symmetric.
			var rs float64
			for _, row := range rows {
				for _, e := range row {
					rs += e.w
				}
			}
			shift := rs / float64(len(rows)) / 2
			if x, err = power(ctx, len(comp), func(dst, src []float64) {
				for i, row := range rows {
					s := shift * src[i]
					for _, e := range row {
						s += e.w * src[e.j]
					}
					dst[i] = s
				}
			}); err != nil {
				return err
			}
		}
		var norm float64
		for _, v := range x {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		for i, v := range comp {
			c[v] = x[i] / norm
		}
	}
	return nil
}

// power iterates x ← Mx / ‖Mx‖ from the uniform vector until the change
// is below 1e-14 per entry (or 100 000 iterations).
func power(ctx context.Context, n int, mul func(dst, src []float64)) ([]float64, error) {
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i] = 1 / math.Sqrt(float64(n))
	}
	for it := 0; it < 100000; it++ {
		if err := ctx.Err(); err != nil { // one pass can be ~25·records multiply-adds
			return nil, err
		}
		mul(y, x)
		var norm float64
		for _, v := range y {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		var diff float64
		for i := range y {
			y[i] /= norm
			diff += math.Abs(y[i] - x[i])
		}
		x, y = y, x
		if diff < 1e-14*float64(n) {
			break
		}
	}
	return x, nil
}

// Kind is a node's kind from its id prefix.
func Kind(id string) string {
	p, _, _ := strings.Cut(id, ":")
	if p == "tx" {
		return "transaction"
	}
	return p
}

type unionFind struct{ parent []int }

func newUF(n int) *unionFind {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return &unionFind{p}
}

func (u *unionFind) find(x int) int {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

func (u *unionFind) union(a, b int) {
	ra, rb := u.find(a), u.find(b)
	if ra != rb {
		u.parent[max(ra, rb)] = min(ra, rb)
	}
}
