package monitoring

import "github.com/gokernels/gokernels/kernels/finance/txn"

// entIndex finds an entity's state by name: names are interned
// (txn.Interner, an open-addressing table, ~2x faster per lookup than a Go
// map on this path) and the states kept in a slice by interned id.
// Entities leave when their window empties; their ids then stay unused
// until the names of departed entities outnumber the live ones, when the
// table is rebuilt from the live names alone, so its size stays within a
// constant factor of the state's (amortised O(1) per departure).
//
// Departed states are kept on a free list and reused with their slices,
// so a steady stream allocates nothing per entity.
type entIndex struct {
	names  txn.Interner
	ents   []*entity // by interned id; nil once the entity left
	live   int
	free   []*entity
	rules  int // len(fires) of a new entity
	groups int // len(wins) of a new entity
}

// get returns name's state, creating an empty one when it has none.
func (x *entIndex) get(name string) *entity {
	id := x.names.ID(name)
	if int(id) == len(x.ents) {
		x.ents = append(x.ents, nil)
	}
	e := x.ents[id]
	if e == nil {
		if n := len(x.free); n > 0 {
			e, x.free = x.free[n-1], x.free[:n-1]
		} else {
			e = &entity{wins: make([]win, x.groups), fires: make([]fire, x.rules)}
		}
		e.id = id
		x.ents[id] = e
		x.live++
	}
	return e
}

// lookup returns name's state or nil.
func (x *entIndex) lookup(name string) *entity {
	if id, ok := x.names.Lookup(name); ok {
		return x.ents[id]
	}
	return nil
}

// name is the name of a live entity.
func (x *entIndex) name(e *entity) string { return x.names.Names[e.id] }

// drop removes an entity whose window is empty.
func (x *entIndex) drop(e *entity) {
	x.ents[e.id] = nil
	x.live--
	e.q, e.off = e.q[:0], 0
	x.free = append(x.free, e)
	if dead := len(x.ents) - x.live; dead > x.live && dead > 1024 {
		x.compact()
	}
}

func (x *entIndex) compact() {
	var names txn.Interner
	names.Grow(x.live)
	ents := make([]*entity, 0, x.live)
	for id, e := range x.ents {
		if e != nil {
			e.id = names.ID(x.names.Names[id])
			ents = append(ents, e)
		}
	}
	x.names, x.ents = names, ents
	x.free = x.free[:min(len(x.free), 1024)]
}

// each calls fn for every live entity.
func (x *entIndex) each(fn func(name string, e *entity)) {
	for id, e := range x.ents {
		if e != nil {
			fn(x.names.Names[id], e)
		}
	}
}
