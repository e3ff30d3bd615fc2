package eventlog

import (
	"cmp"
	"hash/maphash"
	"slices"
)

// Grouping equal strings among a million events with a Go map costs a few
// cache misses per event (control word, slot, the stored key's bytes,
// scattered over the decoded request): measured 0.35 CPU-s for 678,000
// event ids against 0.09 CPU-s for what follows. Instead each string is
// hashed once in input order (sequential reads), the (hash, index) pairs
// are bucket-sorted on the hash's top bits and insertion-sorted inside the
// small buckets, and only neighbours with equal hashes have their strings
// compared. Hash equality is never trusted: a run of equal hashes is split
// by string compare, so a collision costs time, not correctness. The seed
// is random per call (hash/maphash), so no input can aim for collisions.

// keyed is one string's hash and its input index.
type keyed struct {
	h uint64
	i int32
}

// hashString is maphash.String; tests replace it with a weak hash to
// drive the collision path.
var hashString = maphash.String

// hashAll hashes key(i) for i in [0, n) with a fresh seed.
func hashAll(n int, key func(int) string) []keyed {
	seed := maphash.MakeSeed()
	ks := make([]keyed, n)
	for i := range ks {
		ks[i] = keyed{hashString(seed, key(i)), int32(i)}
	}
	return ks
}

// sortKeyed sorts ks by (hash, index) and returns the sorted slice (ks
// itself or a new one). Equal hashes keep their indices ascending.
func sortKeyed(ks []keyed) []keyed {
	if len(ks) < 64 {
		slices.SortFunc(ks, cmpKeyed)
		return ks
	}
	bits := uint(1)
	for 1<<bits < len(ks)/4 && bits < 20 {
		bits++
	}
	shift := 64 - bits
	start := make([]int32, 1<<bits+1)
	for _, k := range ks {
		start[k.h>>shift+1]++
	}
	for b := 1; b < len(start); b++ {
		start[b] += start[b-1]
	}
	pos := slices.Clone(start[:len(start)-1])
	out := make([]keyed, len(ks))
	for _, k := range ks { // stable: indices stay ascending within a bucket
		b := k.h >> shift
		out[pos[b]] = k
		pos[b]++
	}
	for b := 0; b+1 < len(start); b++ {
		bucket := out[start[b]:start[b+1]]
		if len(bucket) > 32 {
			// Many events of one string (or a rare crowded bucket): a
			// total order, so an unstable sort keeps indices ascending.
			slices.SortFunc(bucket, cmpKeyed)
			continue
		}
		for x := 1; x < len(bucket); x++ {
			for y := x; y > 0 && bucket[y].h < bucket[y-1].h; y-- {
				bucket[y], bucket[y-1] = bucket[y-1], bucket[y]
			}
		}
	}
	return out
}

func cmpKeyed(a, b keyed) int {
	if c := cmp.Compare(a.h, b.h); c != 0 {
		return c
	}
	return cmp.Compare(a.i, b.i)
}

// groups calls fn once per distinct string among key(0..n-1) with the
// indices holding it, ascending; members is reused between calls. Groups
// come in no particular order. fn returning false stops the walk.
func groups(ks []keyed, key func(int) string, fn func(members []int32) bool) {
	var members []int32
	for lo := 0; lo < len(ks); {
		hi := lo + 1
		for hi < len(ks) && ks[hi].h == ks[lo].h {
			hi++
		}
		run := ks[lo:hi]
		lo = hi
		same := true
		if len(run) > 1 {
			first := key(int(run[0].i))
			for _, k := range run[1:] {
				if key(int(k.i)) != first {
					same = false
					break
				}
			}
		}
		if same {
			members = members[:0]
			for _, k := range run {
				members = append(members, k.i)
			}
			if !fn(members) {
				return
			}
			continue
		}
		// A hash collision: split the run by string, each part in index
		// order (the run is in index order).
		done := make([]bool, len(run))
		for a := range run {
			if done[a] {
				continue
			}
			s := key(int(run[a].i))
			members = members[:0]
			for b := a; b < len(run); b++ {
				if !done[b] && key(int(run[b].i)) == s {
					done[b] = true
					members = append(members, run[b].i)
				}
			}
			if !fn(members) {
				return
			}
		}
	}
}

// firstRepeat returns the smallest index i such that key(i) equals key(j)
// for some j < i, or -1: the index a map-based scan in input order would
// stop at.
func firstRepeat(n int, key func(int) string) int {
	ks := sortKeyed(hashAll(n, key))
	first := -1
	groups(ks, key, func(m []int32) bool {
		if len(m) > 1 && (first < 0 || int(m[1]) < first) {
			first = int(m[1])
		}
		return true
	})
	return first
}

// span is one distinct string: its value and where its indices lie in the
// members slice of groupSpans.
type span struct {
	name       string
	prefix     uint64 // prefix8(name)
	start, end int32
}

// groupSpans groups the n strings key(i): members holds the indices of
// each distinct string together, ascending, spans[s] says where. Spans
// come in no particular order.
//
// It assumes equal hashes mean equal strings, then checks that in one pass
// in input order, where each string's first occurrence is copied into a
// packed buffer and every later one compared with that copy: sequential
// reads of the events and names that fit in cache, instead of scattered
// reads per event. A collision, should one ever occur, redoes the grouping
// with string compares (groups).
func groupSpans(n int, key func(int) string) (spans []span, members []int32) {
	ks := sortKeyed(hashAll(n, key))
	members = make([]int32, n)
	of := make([]int32, n) // span of each index
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && ks[hi].h == ks[lo].h {
			hi++
		}
		s := int32(len(spans))
		spans = append(spans, span{start: int32(lo), end: int32(hi)})
		for k := lo; k < hi; k++ {
			members[k] = ks[k].i
			of[ks[k].i] = s
		}
		lo = hi
	}
	var packed []byte
	at := make([][2]int32, len(spans)) // span s's name is packed[at[s][0]:at[s][1]]; [-1, -1] before its first index
	for s := range at {
		at[s] = [2]int32{-1, -1}
	}
	ok := true
	for i := 0; i < n && ok; i++ {
		s, str := of[i], key(i)
		if at[s][0] < 0 {
			at[s] = [2]int32{int32(len(packed)), int32(len(packed) + len(str))}
			packed = append(packed, str...)
			spans[s].name, spans[s].prefix = str, prefix8(str)
			continue
		}
		ok = string(packed[at[s][0]:at[s][1]]) == str
	}
	if ok {
		return spans, members
	}
	spans, members = spans[:0], members[:0]
	groups(ks, key, func(m []int32) bool {
		name := key(int(m[0]))
		spans = append(spans, span{name: name, prefix: prefix8(name), start: int32(len(members)), end: int32(len(members) + len(m))})
		members = append(members, m...)
		return true
	})
	return spans, members
}
