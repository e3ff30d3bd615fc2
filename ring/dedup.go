package ring

import (
	"slices"

	"google.golang.org/grpc/codes"
)

// Anti-replay windows (RFC 4303 style) per client_id: the highest
// client_seq seen, a bitmap of the windowSize below it, and the replies
// (with their outputs, bounded in bytes) of at least the last replyCache
// messages. They are part of the ring's snapshot, so a
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
	// Out is the reply's output (fold.Reply) as a deterministic Any;
	// Dropped says there was one but it is not kept (over the byte caps).
	Out     []byte `json:"out,omitempty"`
	Dropped bool   `json:"dropped,omitempty"`
}

// The reply outputs kept for retries are bounded in bytes: one output at
// most maxOutputBytes, one client's at most clientOutputBytes (its oldest
// dropped first), all clients' at most totalOutputBytes (new ones not kept
// while over). Every cap is applied in seq order, so a replay keeps
// exactly what the live ring kept.
const (
	maxOutputBytes    = 16 << 10
	clientOutputBytes = 128 << 10
	totalOutputBytes  = 8 << 20
)

type clientWindow struct {
	ID       string              `json:"id"`
	Hi       uint64              `json:"hi"`
	Bits     [windowWords]uint64 `json:"bits"` // bit i: Hi-i was seen
	Replies  []cachedReply       `json:"replies,omitempty"`
	Touched  uint64              `json:"touched"` // ring seq of the last use (LRU, deterministic)
	outBytes int
}

type verdict int

const (
	fresh verdict = iota
	seen
	tooOld
)

type dedup struct {
	clients  map[string]*clientWindow
	outBytes int
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
	if len(rep.Out) > maxOutputBytes || (len(rep.Out) > 0 && d.outBytes+len(rep.Out) > totalOutputBytes) {
		rep.Out, rep.Dropped = nil, true
	}
	w.outBytes += len(rep.Out)
	d.outBytes += len(rep.Out)
	for i := 0; w.outBytes > clientOutputBytes && i < len(w.Replies); i++ {
		if o := w.Replies[i].Out; o != nil {
			w.outBytes -= len(o)
			d.outBytes -= len(o)
			w.Replies[i].Out, w.Replies[i].Dropped = nil, true
		}
	}
	if n := len(w.Replies); n == 0 || w.Replies[n-1].ClientSeq < cs {
		w.Replies = append(w.Replies, rep) // the usual case: client_seqs rise
	} else {
		i, _ := slices.BinarySearchFunc(w.Replies, cs, func(r cachedReply, c uint64) int { return cmpU(r.ClientSeq, c) })
		w.Replies = slices.Insert(w.Replies, i, rep)
	}
	// Trimmed in halves, not one entry per message: shifting the whole
	// cache on every reply was a sixth of a JOURNAL session's apply time.
	// So between replyCache and 2·replyCache replies are kept.
	if len(w.Replies) > 2*replyCache {
		cut := len(w.Replies) - replyCache
		for _, r := range w.Replies[:cut] {
			w.outBytes -= len(r.Out)
			d.outBytes -= len(r.Out)
		}
		w.Replies = slices.Delete(w.Replies, 0, cut)
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
		d.outBytes -= victim.outBytes
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
	d.outBytes = 0
	for i := range ws {
		w := ws[i]
		w.outBytes = 0
		for _, r := range w.Replies {
			w.outBytes += len(r.Out)
		}
		d.outBytes += w.outBytes
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
