package jsoninput

import (
	"math"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gokernels/gokernels/kernels/limits"
)

// Graph edges as packed_edges.
//
// A graph input's edges field is repeated google.protobuf.ListValue (so
// that protojson clients such as grpcurl can send [[0, 1]]). Decoding that
// into the typed message costs seven allocations per edge (a ListValue, its
// slice, two Values, two oneof wrappers), three times the rest of a
// million-edge REST request. Every graph input also has packed_edges, the
// same list as [s0, t0, s1, t1, ...] in one []int32. So when a request's
// edges are all plain [u, v] pairs that the kernel will accept, the
// transcoder writes them as packed_edges instead.
//
// The kernel reads packed_edges exactly like edges, except for the names in
// its errors (packed_edges[2i], packed_edges) and its refusal of both
// fields at once. So edges go the packed way only when none of those errors
// can happen: every id a plain non-negative integer literal in
// [0, num_nodes), the request has no packed_edges of its own, and there are
// no more edges than the default cap. Anything else — a 1.5, a string, a
// triple, an id out of range, a missing num_nodes — is transcoded as
// ListValue items as before, so the kernel reports it under the same name
// as always (edges[i], edges[i][j]).

// edgeFields are the fields of a message whose edges can be packed.
type edgeFields struct {
	edges, packed, numNodes protoreflect.FieldDescriptor
}

var edgeFieldsCache sync.Map // protoreflect.FullName -> *edgeFields (nil: not a graph input)

// packableEdges returns md's edge fields when it is a graph input: a
// repeated ListValue edges, a repeated int32 packed_edges and an int32
// num_nodes.
func packableEdges(md protoreflect.MessageDescriptor) *edgeFields {
	if v, ok := edgeFieldsCache.Load(md.FullName()); ok {
		return v.(*edgeFields)
	}
	fds := md.Fields()
	ef := &edgeFields{edges: fds.ByName("edges"), packed: fds.ByName("packed_edges"), numNodes: fds.ByName("num_nodes")}
	switch {
	case ef.edges == nil || !ef.edges.IsList() || ef.edges.Message() == nil ||
		ef.edges.Message().FullName() != "google.protobuf.ListValue",
		ef.packed == nil || !ef.packed.IsList() || ef.packed.Kind() != protoreflect.Int32Kind,
		ef.numNodes == nil || ef.numNodes.IsList() || ef.numNodes.Kind() != protoreflect.Int32Kind:
		ef = nil
	}
	edgeFieldsCache.Store(md.FullName(), ef)
	return ef
}

// packedSpan records edges written as packed_edges, so that they can be
// written again as ListValue items if the rest of the object rules the
// packed form out.
type packedSpan struct {
	used             bool
	inStart, inEnd   int   // the edges array in the JSON text
	outStart, outEnd int   // the packed_edges record in the output
	maxID            int32 // the largest node id
	count            int   // edges
}

// packEdges tries to transcode the edges array at the cursor as one
// packed_edges record. It reports false, having consumed and written
// nothing, when the array is empty or holds anything but [u, v] pairs of
// plain integer literals in [0, 2^31).
func (d *decoder) packEdges(ef *edgeFields, sp *packedSpan) bool {
	d.skipWS()
	inStart, outStart := d.pos, len(d.out)
	undo := func() bool {
		d.pos, d.out = inStart, d.out[:outStart]
		return false
	}
	d.pos++ // [
	if d.peek() == ']' {
		return undo() // nothing to gain; ListValue writes nothing either
	}
	d.out = protowire.AppendTag(d.out, ef.packed.Number(), protowire.BytesType)
	start := d.beginLen()
	maxID, count := int32(0), 0
	for {
		if d.peek() != '[' {
			return undo()
		}
		d.pos++
		u, ok := d.nodeID()
		if !ok || d.peek() != ',' {
			return undo()
		}
		d.pos++
		v, ok := d.nodeID()
		if !ok || d.peek() != ']' {
			return undo()
		}
		d.pos++
		d.out = protowire.AppendVarint(d.out, uint64(u))
		d.out = protowire.AppendVarint(d.out, uint64(v))
		maxID = max(maxID, u, v)
		count++
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			if count > limits.Default().MaxEdges {
				return undo()
			}
			d.endLen(start)
			*sp = packedSpan{used: true, inStart: inStart, inEnd: d.pos, outStart: outStart, outEnd: len(d.out), maxID: maxID, count: count}
			return true
		default:
			return undo()
		}
	}
}

// nodeID reads a plain non-negative integer literal ("0", "17") that fits
// an int32. Anything else — a sign, a fraction, an exponent, a leading zero,
// a string — is left to the ListValue path, which reads or refuses it.
func (d *decoder) nodeID() (int32, bool) {
	d.skipWS()
	start := d.pos
	var n int64
	for d.pos < len(d.buf) && isDigit(d.buf[d.pos]) {
		if d.pos-start >= 10 {
			return 0, false
		}
		n = n*10 + int64(d.buf[d.pos]-'0')
		d.pos++
	}
	digits := d.pos - start
	if digits == 0 || digits > 1 && d.buf[start] == '0' || n > math.MaxInt32 {
		return 0, false
	}
	if d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case '.', 'e', 'E', '+', '-':
			return 0, false
		}
	}
	return int32(n), true
}

// settlePacked runs when an object with packed edges is complete: if the
// kernel would name packed_edges in an error about them (num_nodes missing,
// or not above every id; packed_edges also given), it writes the edges
// again as ListValue items, in place of the packed record.
func (d *decoder) settlePacked(ef *edgeFields, sp *packedSpan, objStart int, seen *fieldSet) error {
	if !sp.used {
		return nil
	}
	if !seen.has(int(ef.packed.Number())) {
		if n, ok := int32Field(d.out[objStart:], ef.numNodes.Number()); ok && sp.maxID < n {
			return nil
		}
	}
	t := &decoder{buf: d.buf, pos: sp.inStart, path: []segment{{name: string(ef.edges.Name()), idx: -1}}}
	if err := t.field(ef.edges); err != nil {
		return err // cannot happen: the pairs were read once already
	}
	tail := append([]byte(nil), d.out[sp.outEnd:]...)
	d.out = append(append(d.out[:sp.outStart], t.out...), tail...)
	*sp = packedSpan{}
	return nil
}

// int32Field finds the value of the varint field num among the records of
// b (a message body the decoder wrote: each field at most once).
func int32Field(b []byte, num protowire.Number) (int32, bool) {
	for len(b) > 0 {
		n, typ, tn := protowire.ConsumeTag(b)
		if tn < 0 {
			return 0, false
		}
		b = b[tn:]
		if n == num && typ == protowire.VarintType {
			v, vn := protowire.ConsumeVarint(b)
			if vn < 0 {
				return 0, false
			}
			return int32(v), true
		}
		vn := protowire.ConsumeFieldValue(n, typ, b)
		if vn < 0 {
			return 0, false
		}
		b = b[vn:]
	}
	return 0, false
}
