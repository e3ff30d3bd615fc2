package ring

import (
	"slices"

	"google.golang.org/grpc/codes"
)

// Anti-replay windows (RFC 4303 style) per client_id: the highest
// client_seq seen, a bitmap of the windowSize below it, and the replies of
// the last replyCache messages. They are part of the ring's snapshot, so a
// retry after a restart still finds its original reply.
const (
	windowSize   = 1024
	replyCache   = 256
	maxClients   = 4096
	windowWords  = windowSize / 64
	noDedupeSeq0 = 0
)

type cachedReply struct {
	ClientSeq uint64 `json:"cs"`
	Seq       uint64 `json:"seq"`
	Code      uint32 `json:"code,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Msg       string `json:"msg,omitempty"`
}

type clientWindow struct {
	ID      string              `json:"id"`
	Hi      uint64              `json:"hi"`
	Bits    [windowWords]uint64 `json:"bits"` // bit i: Hi-i was seen
	Replies []cachedReply       `json:"replies,omitempty"`
	Touched uint64              `json:"touched"` // ring seq of the last use (LRU, deterministic)
}

type verdict int

const (
	fresh verdict = iota
	seen
	tooOld
)

type dedup struct {
	clients map[string]*clientWindow
}

func newDedup() *dedup { return &dedup{clients: map[string]*clientWindow{}} }

func (d *dedup) check(id string, cs uint64) verdict {
	w := d.clients[id]
	if w == nil || cs > w.Hi {
		return fresh
	}
	off := w.Hi - cs
	if off >= windowSize {
		return tooOld
	}
	if w.Bits[off/64]&(1<<(off%64)) != 0 {
		return seen
	}
	return fresh
}

// mark records (id, cs) as applied with its reply; seq is the ring's seq.
func (d *dedup) mark(id string, cs, seq uint64, rep cachedReply) {
	w := d.clients[id]
	if w == nil {
		if len(d.clients) >= maxClients {
			d.evict()
		}
		w = &clientWindow{ID: id}
		d.clients[id] = w
	}
	w.Touched = seq
	if cs > w.Hi {
		shift := cs - w.Hi
		if w.Hi == 0 {
			shift = windowSize // first use: nothing below is seen
		}
		shiftBits(&w.Bits, shift)
		w.Hi = cs
	}
	off := w.Hi - cs
	if off < windowSize {
		w.Bits[off/64] |= 1 << (off % 64)
	}
	rep.ClientSeq = cs
	i, _ := slices.BinarySearchFunc(w.Replies, cs, func(r cachedReply, c uint64) int { return cmpU(r.ClientSeq, c) })
	w.Replies = slices.Insert(w.Replies, i, rep)
	if len(w.Replies) > replyCache {
		w.Replies = slices.Delete(w.Replies, 0, len(w.Replies)-replyCache)
	}
}

func (d *dedup) reply(id string, cs uint64) (cachedReply, bool) {
	w := d.clients[id]
	if w == nil {
		return cachedReply{}, false
	}
	i, ok := slices.BinarySearchFunc(w.Replies, cs, func(r cachedReply, c uint64) int { return cmpU(r.ClientSeq, c) })
	if !ok {
		return cachedReply{}, false
	}
	return w.Replies[i], true
}

// evict drops the least recently used client (smallest Touched, then id).
func (d *dedup) evict() {
	var victim *clientWindow
	for _, w := range d.clients {
		if victim == nil || w.Touched < victim.Touched || (w.Touched == victim.Touched && w.ID < victim.ID) {
			victim = w
		}
	}
	if victim != nil {
		delete(d.clients, victim.ID)
	}
}

// list returns the windows sorted by id (snapshot order).
func (d *dedup) list() []clientWindow {
	out := make([]clientWindow, 0, len(d.clients))
	for _, w := range d.clients {
		out = append(out, *w)
	}
	slices.SortFunc(out, func(a, b clientWindow) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

func (d *dedup) load(ws []clientWindow) {
	d.clients = make(map[string]*clientWindow, len(ws))
	for i := range ws {
		w := ws[i]
		d.clients[w.ID] = &w
	}
}

func shiftBits(b *[windowWords]uint64, n uint64) {
	if n >= windowSize {
		*b = [windowWords]uint64{}
		return
	}
	words, bits := int(n/64), n%64
	for i := windowWords - 1; i >= 0; i-- {
		var v uint64
		if j := i - words; j >= 0 {
			v = b[j] << bits
			if bits > 0 && j-1 >= 0 {
				v |= b[j-1] >> (64 - bits)
			}
		}
		b[i] = v
	}
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (c cachedReply) code() codes.Code { return codes.Code(c.Code) }
