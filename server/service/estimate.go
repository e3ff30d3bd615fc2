package service

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// estimate sizes a request before it runs: the working set that admission
// reserves against the memory budget, and minOutput, a lower bound on the
// output's protobuf size, which lets a request whose answer cannot fit the
// response limit be refused before it computes anything.
//
// Kernels declared with registry.Def supply their own Estimate; for the
// others a generic estimate reads the size fields most inputs share
// (num_nodes and edges, n_samples × n_features, a vectorizer's n_features,
// all-pairs outputs), plus a multiple of the decoded input itself.
//
// Sizes are clamped to the server's caps: a request over a cap is refused by
// the kernel with a 400 naming the field, before it allocates.
func estimate(k *registry.Kernel, in proto.Message, caps limits.Limits) (working, minOutput int64) {
	caps = caps.WithDefaults()
	inBytes := int64(proto.Size(in))
	if c, ok := k.Estimate(in); ok {
		return max(c.WorkingBytes, 2*inBytes), 0
	}
	m := in.ProtoReflect()
	nodes := capped(intField(m, "num_nodes"), caps.MaxNodes)
	edges := listLen(m, "edges") + listLen(m, "packed_edges")/2
	// Decoded input plus its working form (CSR in both directions, per-node
	// arrays, a per-node output or two).
	working = 4*inBytes + 64*nodes + 48*edges
	if boolField(m, "all_pairs") || boolField(m, "path_metrics") {
		n := capped(nodes, caps.MaxAllPairsN)
		working += 8 * n * n
	}
	if s, f := intField(m, "n_samples"), intField(m, "n_features"); s > 0 && f > 0 && s < 1<<31 && f < 1<<31 {
		working += 16 * capped(s*f, caps.MaxCells)
	}
	minOutput = outputFloor(k.ID, m, nodes, caps)
	return working + 2*minOutput, minOutput
}

// outputFloor is what the outputs of the kernels whose answer grows with a
// size field the client chooses (not with the data sent) cannot be smaller
// than, in protobuf bytes.
func outputFloor(id string, m protoreflect.Message, nodes int64, caps limits.Limits) int64 {
	switch id {
	case "graph/degree-ratio":
		// two int32 (≥ 1 byte each) and three doubles per node
		return nodes * (2 + 3*8)
	case "graph/shortest-path":
		if boolField(m, "all_pairs") {
			n := capped(nodes, caps.MaxAllPairsN)
			return 8 * n * n
		}
		return 8 * nodes
	case "ml/embedding-generation":
		if stringField(m, "output") == "sparse" {
			return 0
		}
		docs := listLen(m, "documents")
		nf := int64(0)
		if v := messageField(m, "vectorizer"); v != nil {
			nf = intField(v, "n_features")
		}
		if nf == 0 {
			nf = 1 << 20 // sklearn's HashingVectorizer default
		}
		return 8 * capped(docs*min(nf, 1<<31), caps.MaxCells)
	}
	return 0
}

// capped is n, or 0 when n is over the cap: the kernel refuses such a request
// with a 400 naming the field before it allocates, so it costs nothing.
func capped(n int64, limit int) int64 {
	if n > int64(limit) {
		return 0
	}
	return n
}

func field(m protoreflect.Message, name string) protoreflect.FieldDescriptor {
	return m.Descriptor().Fields().ByName(protoreflect.Name(name))
}

func intField(m protoreflect.Message, name string) int64 {
	fd := field(m, name)
	if fd == nil || fd.IsList() || fd.IsMap() || !m.Has(fd) {
		return 0
	}
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		return max(m.Get(fd).Int(), 0)
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind:
		return int64(min(m.Get(fd).Uint(), 1<<40))
	}
	return 0
}

func boolField(m protoreflect.Message, name string) bool {
	fd := field(m, name)
	return fd != nil && fd.Kind() == protoreflect.BoolKind && !fd.IsList() && m.Get(fd).Bool()
}

func stringField(m protoreflect.Message, name string) string {
	fd := field(m, name)
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
		return ""
	}
	return m.Get(fd).String()
}

func listLen(m protoreflect.Message, name string) int64 {
	fd := field(m, name)
	if fd == nil || !fd.IsList() {
		return 0
	}
	return int64(m.Get(fd).List().Len())
}

func messageField(m protoreflect.Message, name string) protoreflect.Message {
	fd := field(m, name)
	if fd == nil || fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() || !m.Has(fd) {
		return nil
	}
	return m.Get(fd).Message()
}
