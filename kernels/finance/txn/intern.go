package txn

import (
	"cmp"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sync"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
)

// Interner maps entity ids to dense int32 indexes in order of first
// appearance. The zero value is ready to use.
//
// It is an open-addressing table written for the transaction kernels' hot
// loop (two lookups per transaction, millions per request), where a Go
// map[string]int32 made three cache misses per lookup (the hash group, the
// control word, the stored key's bytes behind its pointer) and was ~70% of
// circular-flow's time. A slot is 16 bytes, four to a cache line: a tag
// (24 bits of the name's hash and its length), the index, and names of up
// to 8 bytes themselves (as word packs them), so such a lookup touches one
// slot and nothing else; longer names are confirmed against Names. IDs resolves a batch of
// names, loading all their slots before it probes any, so the cache
// misses overlap instead of queueing one after another.
type Interner struct {
	slots []slot // power-of-two length, at most half full
	// Names holds the names by index (the strings given to ID).
	Names []string
	// touched keeps IDs' early slot loads from being optimised away.
	touched int32
}

type slot struct {
	tag uint32 // hash bits 32..55 and min(len(name), 255) in the low byte
	id1 int32  // index + 1; 0 marks an empty slot
	key uint64 // word(name) for a name of up to 8 bytes
}

var (
	internSeed = maphash.MakeSeed()
	// Per-process random keys of the short-name hash (hashName).
	seedA, seedB = rand.Uint64() | 1, rand.Uint64() | 1
)

// hashName hashes an entity or transaction id. Names of up to 16 bytes
// (account and transaction ids usually are) take a wyhash-style path: the
// bytes as one or two words (word), keyed by per-process random seeds and
// folded by two 64x64->128-bit multiplies, about a third of maphash.String's
// cost on 8-byte names; longer ones use maphash. Both are seeded per
// process, so inputs cannot be crafted to collide in the tables.
func hashName(name string) uint64 {
	n := len(name)
	switch {
	case n <= 8:
		return mix(seedA^uint64(n), mix(word(name)^seedA, seedB))
	case n <= 16:
		return mix(seedA^uint64(n), mix(word(name)^seedA, word(name[n-8:])^seedB))
	}
	return maphash.String(internSeed, name)
}

// mix folds the 128-bit product of a and b into 64 bits (wyhash's mum).
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func tagOf(h uint64, name string) uint32 {
	return uint32(h>>32)&^0xff | uint32(min(len(name), 0xff))
}

// word packs a name's first 8 bytes into a word (little-endian); a
// shorter name as its first and last 4 bytes (overlapping when under 8),
// or for under 4 its first, middle and last byte. Given the length (which
// the slot's tag holds) it is one-to-one on names of up to 8 bytes, so a
// slot's key identifies such a name, and it costs a few loads where
// copying into a zero-padded array cost a memmove call.
func word(s string) uint64 {
	n := len(s)
	switch {
	case n >= 8:
		return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	case n >= 4:
		t := s[n-4:]
		return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			(uint64(t[0])|uint64(t[1])<<8|uint64(t[2])<<16|uint64(t[3])<<24)<<32
	case n > 0:
		return uint64(s[0])<<16 | uint64(s[n>>1])<<8 | uint64(s[n-1])
	}
	return 0
}

// Grow makes room for n more names without rehashing.
func (in *Interner) Grow(n int) {
	if want := 2 * (len(in.Names) + n); want > len(in.slots) {
		in.rehash(want)
	}
	in.Names = slices.Grow(in.Names, n)
}

func (in *Interner) rehash(atLeast int) {
	size := 16
	for size < atLeast || size < 2*len(in.Names) {
		size *= 2
	}
	slots := make([]slot, size)
	mask := uint64(size - 1)
	if len(in.slots) == 0 && len(in.Names) > 0 { // Join's names, not yet indexed
		for id, name := range in.Names {
			h := hashName(name)
			for i := h & mask; ; i = (i + 1) & mask {
				if slots[i].id1 == 0 {
					slots[i] = slot{tag: tagOf(h, name), id1: int32(id) + 1}
					if len(name) <= 8 {
						slots[i].key = word(name)
					}
					break
				}
			}
		}
		in.slots = slots
		return
	}
	for _, s := range in.slots {
		if s.id1 == 0 {
			continue
		}
		// The table is indexed by the hash's low bits, which the slot
		// does not keep: rehash the name.
		for i := hashName(in.Names[s.id1-1]) & mask; ; i = (i + 1) & mask {
			if slots[i].id1 == 0 {
				slots[i] = s
				break
			}
		}
	}
	in.slots = slots
}

// lookup returns the index of name (hash h), adding it when new.
func (in *Interner) lookup(name string, h uint64) int32 {
	tag := tagOf(h, name)
	mask := uint64(len(in.slots) - 1)
	i := h & mask
	if len(name) <= 8 {
		key := word(name)
		for ; ; i = (i + 1) & mask {
			s := &in.slots[i]
			if s.id1 == 0 {
				break
			}
			if s.tag == tag && s.key == key {
				return s.id1 - 1
			}
		}
	} else {
		for ; ; i = (i + 1) & mask {
			s := &in.slots[i]
			if s.id1 == 0 {
				break
			}
			if s.tag == tag && in.Names[s.id1-1] == name {
				return s.id1 - 1
			}
		}
	}
	id := int32(len(in.Names))
	s := slot{tag: tag, id1: id + 1}
	if len(name) <= 8 {
		s.key = word(name)
	}
	in.slots[i] = s
	in.Names = append(in.Names, name)
	if 2*len(in.Names) > len(in.slots) {
		in.rehash(2 * len(in.slots))
	}
	return id
}

// ID returns the index of name, adding it when new.
func (in *Interner) ID(name string) int32 {
	if len(in.slots) == 0 {
		in.rehash(16)
	}
	return in.lookup(name, hashName(name))
}

// batch is how many names IDs hashes and touches before probing.
const batch = 32

// IDs sets ids[i] = ID(names[i]) for every i (len(ids) >= len(names)).
func (in *Interner) IDs(names []string, ids []int32) {
	if len(in.slots) == 0 {
		in.rehash(16)
	}
	var hs [batch]uint64
	for len(names) > 0 {
		k := min(len(names), batch)
		// Load each name's first slot before probing any: the loads are
		// independent, so their misses are in flight together.
		mask := uint64(len(in.slots) - 1)
		var touch int32
		for j, name := range names[:k] {
			hs[j] = hashName(name)
			touch |= in.slots[hs[j]&mask].id1
		}
		in.touched = touch
		for j, name := range names[:k] {
			ids[j] = in.lookup(name, hs[j])
		}
		names, ids = names[k:], ids[k:]
	}
}

// NameHash is a name's hash as IDsHashed takes it: hashName's bits with
// the name's length (capped at 255) in the top byte. The low bits, which
// index the table, are hashName's, so a table filled by IDsHashed rehashes
// and answers ID and Lookup like any other.
func NameHash(name string) uint64 {
	return hashName(name)&^(0xff<<56) | uint64(min(len(name), 0xff))<<56
}

// NameKey is a name's key as IDsHashed takes it (one-to-one on names of
// up to 8 bytes of a given length).
func NameKey(name string) uint64 { return word(name) }

// NameOf is name k of txs's endpoint list: txs[k/2]'s source for even k,
// its dest for odd k.
func NameOf(txs []*financev1.Transaction, k int32) string {
	if k&1 == 0 {
		return txs[k>>1].GetSourceId()
	}
	return txs[k>>1].GetDestId()
}

// IDsHashed sets ids[j] to the index of name ks[j] of txs's endpoint list
// (NameOf), given its NameHash hs[j] and NameKey keys[j], adding it when
// new. A name is read only when it is added or is longer than 8 bytes:
// a loader that hashed the names in one sequential pass interns them here
// without touching the transactions again. Like IDs, it loads every
// name's first slot before probing any.
func (in *Interner) IDsHashed(txs []*financev1.Transaction, hs, keys []uint64, ks, ids []int32) {
	if len(in.slots) == 0 {
		in.rehash(16)
	}
	for len(hs) > 0 {
		k := min(len(hs), batch)
		mask := uint64(len(in.slots) - 1)
		var touch int32
		for _, h := range hs[:k] {
			touch |= in.slots[h&mask].id1
		}
		in.touched = touch
		for j, h := range hs[:k] {
			ids[j] = in.lookupHashed(txs, h, keys[j], ks[j])
		}
		hs, keys, ks, ids = hs[k:], keys[k:], ks[k:], ids[k:]
	}
}

// lookupHashed is lookup for IDsHashed.
func (in *Interner) lookupHashed(txs []*financev1.Transaction, h, key uint64, k int32) int32 {
	n := int(h >> 56)
	tag := uint32(h>>32)&^0xff | uint32(n)
	mask := uint64(len(in.slots) - 1)
	i := h & mask
	var name string
	if n <= 8 {
		for ; ; i = (i + 1) & mask {
			s := &in.slots[i]
			if s.id1 == 0 {
				break
			}
			if s.tag == tag && s.key == key {
				return s.id1 - 1
			}
		}
		name = NameOf(txs, k)
	} else {
		name = NameOf(txs, k)
		for ; ; i = (i + 1) & mask {
			s := &in.slots[i]
			if s.id1 == 0 {
				break
			}
			if s.tag == tag && in.Names[s.id1-1] == name {
				return s.id1 - 1
			}
		}
	}
	id := int32(len(in.Names))
	s := slot{tag: tag, id1: id + 1}
	if n <= 8 {
		s.key = key
	}
	in.slots[i] = s
	in.Names = append(in.Names, name)
	if 2*len(in.Names) > len(in.slots) {
		in.rehash(2 * len(in.slots))
	}
	return id
}

// Join returns one interner holding the names of parts, part p's index i
// becoming off[p] + i with off[p] the total length of the parts before
// it, and gives the parts' tables back to the free list. Its table is
// built from the names on the first ID, IDs or Lookup: a Batch loader
// that only reads Names and ByName never pays for it.
func Join(parts []Interner) (Interner, []int32) {
	total := 0
	off := make([]int32, len(parts))
	for p := range parts {
		off[p] = int32(total)
		total += len(parts[p].Names)
	}
	names := make([]string, 0, total)
	for p := range parts {
		names = append(names, parts[p].Names...)
		PutInterner(parts[p])
	}
	return Interner{Names: names}, off
}

// Lookup returns the index of name and whether it is known.
func (in *Interner) Lookup(name string) (int32, bool) {
	if len(in.slots) == 0 {
		if len(in.Names) == 0 {
			return 0, false
		}
		in.rehash(16)
	}
	h := hashName(name)
	tag := tagOf(h, name)
	mask := uint64(len(in.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &in.slots[i]
		if s.id1 == 0 {
			return 0, false
		}
		if s.tag == tag && in.Names[s.id1-1] == name {
			return s.id1 - 1, true
		}
	}
}

// Len is the number of entities.
func (in *Interner) Len() int { return len(in.Names) }

// ByName returns the entity indexes sorted bytewise by name. The names'
// first eight bytes, big-endian and zero-padded (which keeps their
// bytewise order), are the primary key: an LSD radix sort over it (digits
// where every key agrees are skipped) orders the array in a few sequential
// passes, and only runs of names sharing those eight bytes are then
// compared as strings.
func (in *Interner) ByName() []int32 {
	n := len(in.Names)
	keys := make([]nameKey, n)
	for i, name := range in.Names {
		var p uint64
		for k := range min(len(name), 8) {
			p |= uint64(name[k]) << (56 - 8*k)
		}
		keys[i] = nameKey{p, int32(i)}
	}
	keys = sortNameKeys(keys, make([]nameKey, n))
	for i := 0; i < n; {
		j := i + 1
		for j < n && keys[j].prefix == keys[i].prefix {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(keys[i:j], func(a, b nameKey) int {
				return cmp.Compare(in.Names[a.id], in.Names[b.id])
			})
		}
		i = j
	}
	order := make([]int32, n)
	for i, k := range keys {
		order[i] = k.id
	}
	return order
}

type nameKey struct {
	prefix uint64
	id     int32
}

// sortNameKeys sorts a by prefix (LSD radix, stable) using scratch and
// returns whichever holds the result.
func sortNameKeys(a, scratch []nameKey) []nameKey {
	if len(a) < 2 {
		return a
	}
	var count [1 << radixDigit]int
	for shift := 0; shift < 64; shift += radixDigit {
		mask := uint64(1)<<min(radixDigit, 64-shift) - 1
		clear(count[:])
		for _, k := range a {
			count[(k.prefix>>shift)&mask]++
		}
		if count[(a[0].prefix>>shift)&mask] == len(a) {
			continue // every key has this digit
		}
		sum := 0
		for d := range count[:mask+1] {
			c := count[d]
			count[d] = sum
			sum += c
		}
		for _, k := range a {
			d := (k.prefix >> shift) & mask
			scratch[count[d]] = k
			count[d]++
		}
		a, scratch = scratch, a
	}
	return a
}

// Reset empties the table and keeps its arrays for reuse.
func (in *Interner) Reset() {
	clear(in.slots)
	clear(in.Names) // drop the strings
	in.Names = in.Names[:0]
}

// interners is a bounded free list of emptied tables (see Arrays).
var interners struct {
	mu   sync.Mutex
	free []Interner
}

// GetInterner returns an empty interner for about hint names, reusing a
// table PutInterner kept when one is at least that large (the smallest
// such).
func GetInterner(hint int) Interner {
	interners.mu.Lock()
	defer interners.mu.Unlock()
	best := -1
	for i, t := range interners.free {
		if len(t.slots) >= 2*hint && (best < 0 || len(t.slots) < len(interners.free[best].slots)) {
			best = i
		}
	}
	if best < 0 {
		var in Interner
		in.Grow(hint)
		return in
	}
	in := interners.free[best]
	interners.free = slices.Delete(interners.free, best, best+1)
	return in
}

// PutInterner empties in and keeps its table for GetInterner; in must
// not be used afterwards. Small tables and tables over 2^22 slots are
// dropped, and at most 8 are kept.
func PutInterner(in Interner) {
	if len(in.slots) < MinPooled || len(in.slots) > 1<<22 {
		return
	}
	in.Reset()
	interners.mu.Lock()
	defer interners.mu.Unlock()
	if len(interners.free) < 8 {
		interners.free = append(interners.free, in)
	}
}
