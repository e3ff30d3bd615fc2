package txn

import (
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"slices"
)

// Interner maps entity ids to dense int32 indexes in order of first
// appearance. The zero value is ready to use.
//
// It is an open-addressing table written for the transaction kernels' hot
// loop (two lookups per transaction, millions per request), where a Go
// map[string]int32 made three cache misses per lookup (the hash group, the
// control word, the stored key's bytes behind its pointer) and was ~70% of
// circular-flow's time. A slot is 16 bytes, four to a cache line: a tag
// (32 bits of the name's hash and its length), the index, and names of up
// to 8 bytes themselves, so such a lookup touches one slot and nothing
// else; longer names are confirmed against Names. IDs resolves a batch of
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
	key uint64 // a name of up to 8 bytes, zero-padded (see short)
}

var internSeed = maphash.MakeSeed()

func hashName(name string) uint64 { return maphash.String(internSeed, name) }

func tagOf(h uint64, name string) uint32 {
	return uint32(h>>32)&^0xff | uint32(min(len(name), 0xff))
}

// short is the zero-padded little-endian word of a name of up to 8 bytes;
// with the length in the tag it identifies the name.
func short(name string) uint64 {
	var b [8]byte
	copy(b[:], name)
	return binary.LittleEndian.Uint64(b[:])
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
	for size < atLeast {
		size *= 2
	}
	slots := make([]slot, size)
	mask := uint64(size - 1)
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
		key := short(name)
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
		s.key = short(name)
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

// Lookup returns the index of name and whether it is known.
func (in *Interner) Lookup(name string) (int32, bool) {
	if len(in.slots) == 0 {
		return 0, false
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
// bytewise order), are the primary key, so most comparisons are one
// integer compare on a contiguous array instead of two string loads.
func (in *Interner) ByName() []int32 {
	type key struct {
		prefix uint64
		id     int32
	}
	keys := make([]key, len(in.Names))
	for i, name := range in.Names {
		var b [8]byte
		copy(b[:], name)
		keys[i] = key{binary.BigEndian.Uint64(b[:]), int32(i)}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(a.prefix, b.prefix); c != 0 {
			return c
		}
		return cmp.Compare(in.Names[a.id], in.Names[b.id])
	})
	order := make([]int32, len(keys))
	for i, k := range keys {
		order[i] = k.id
	}
	return order
}
