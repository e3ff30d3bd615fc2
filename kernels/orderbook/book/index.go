package book

// index maps order ids to order handles (0 = absent). Exchange order ids are mostly dense and
// increasing (ITCH order reference numbers), so ids below a bound live in a
// slice that grows by doubling — a hash map of millions of orders spends
// most of an Apply in cache misses — and sparse ids fall back to a map.
type index struct {
	dense  []uint32
	sparse map[uint64]uint32
}

// denseLimit bounds the slice (4 bytes per slot: 64 MiB at the limit).
const denseLimit = 1 << 24

func (x *index) get(id uint64) uint32 {
	if id < uint64(len(x.dense)) {
		return x.dense[id]
	}
	return x.sparse[id]
}

func (x *index) put(id uint64, o uint32) {
	if id < uint64(len(x.dense)) {
		x.dense[id] = o
		return
	}
	// Grow the slice when the id is near it (at most double plus a page),
	// so a few huge ids cannot make it allocate gigabytes.
	if id < denseLimit && id < 2*uint64(len(x.dense))+4096 {
		grown := make([]uint32, max(2*len(x.dense), int(id)+4096))
		copy(grown, x.dense)
		x.dense = grown
		for k, v := range x.sparse {
			if k < uint64(len(grown)) {
				grown[k] = v
				delete(x.sparse, k)
			}
		}
		x.dense[id] = o
		return
	}
	if x.sparse == nil {
		x.sparse = map[uint64]uint32{}
	}
	x.sparse[id] = o
}

// set replaces the entry of an id that is present.
func (x *index) set(id uint64, v uint32) {
	if id < uint64(len(x.dense)) {
		x.dense[id] = v
		return
	}
	x.sparse[id] = v
}
