package book

// index maps order ids to orders. Exchange order ids are mostly dense and
// increasing (ITCH order reference numbers), so ids below a bound live in a
// slice that grows by doubling — a hash map of millions of orders spends
// most of an Apply in cache misses — and sparse ids fall back to a map.
type index struct {
	dense  []*order
	sparse map[uint64]*order
	n      int
}

// denseLimit bounds the slice (8 bytes per slot: 128 MiB at the limit).
const denseLimit = 1 << 24

func (x *index) get(id uint64) *order {
	if id < uint64(len(x.dense)) {
		return x.dense[id]
	}
	return x.sparse[id]
}

func (x *index) put(id uint64, o *order) {
	x.n++
	if id < uint64(len(x.dense)) {
		x.dense[id] = o
		return
	}
	// Grow the slice when the id is near it (at most double plus a page),
	// so a few huge ids cannot make it allocate gigabytes.
	if id < denseLimit && id < 2*uint64(len(x.dense))+4096 {
		grown := make([]*order, max(2*len(x.dense), int(id)+4096))
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
		x.sparse = map[uint64]*order{}
	}
	x.sparse[id] = o
}

// each calls f for every order, in no particular order.
func (x *index) each(f func(*order)) {
	for _, o := range x.dense {
		if o != nil {
			f(o)
		}
	}
	for _, o := range x.sparse {
		f(o)
	}
}
