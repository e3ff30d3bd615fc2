// Package accumulate gives Batch kernels whose input is a list of records
// (edges, observations, exposures, positions) a ring handler: Configure
// sets the input's parameter fields, each data message appends records to
// the input's data fields, and Snapshot runs the kernel's own Batch
// function on everything accumulated. The replay law — feeding a Batch
// input as data messages in ts order, then Snapshot, equals the Batch
// output — therefore holds by construction, and the tests check it against
// the reference fixtures of each kernel.
//
// It serves the nine Ring ids that were Batch-only: graph/pagerank,
// graph/degree-centrality, graph/degree-ratio, temporal/anomaly-detection,
// temporal/volatility-analysis, risk/credit-scoring, risk/monte-carlo-var,
// risk/portfolio-aggregation and risk/realtime-correlation.
package accumulate

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Shape says which fields of a kernel's input are data (appended by data
// messages) and which are parameters (set by Configure).
type Shape struct {
	ID string
	// Data are repeated fields appended by each data message.
	Data []protoreflect.Name
	// Counts are integer fields that count the records (n_exposures): a
	// data message gives the count of its own records, and they add up.
	Counts []protoreflect.Name
	// Shared are parameter fields a data message may repeat if it repeats
	// them exactly (num_nodes): convenient for clients that send a full
	// Batch-shaped message.
	Shared []protoreflect.Name
	// Columns is a repeated message field whose elements are rows that
	// grow together: a data message carries one or more columns (one value
	// per row), appended row by row (realtime-correlation's series).
	Columns protoreflect.Name
}

// Shapes of the nine kernels.
var Shapes = []Shape{
	{ID: "graph/pagerank", Data: names("edges", "weights"), Shared: names("num_nodes", "directed")},
}

func names(ns ...string) []protoreflect.Name {
	out := make([]protoreflect.Name, len(ns))
	for i, n := range ns {
		out[i] = protoreflect.Name(n)
	}
	return out
}

// Register attaches the handlers to the kernels already registered in r.
func Register(r *registry.Registry) error {
	var errList []error
	for _, sh := range Shapes {
		k, ok := r.Get(sh.ID)
		if !ok {
			errList = append(errList, fmt.Errorf("accumulate: kernel %s is not registered", sh.ID))
			continue
		}
		if err := sh.check(k.Input.Descriptor()); err != nil {
			errList = append(errList, err)
			continue
		}
		errList = append(errList, r.AddRing(sh.ID, func() fold.Handler { return New(k, sh) }))
	}
	return errors.Join(errList...)
}

func (sh Shape) check(md protoreflect.MessageDescriptor) error {
	all := append(append(append([]protoreflect.Name{}, sh.Data...), sh.Counts...), sh.Shared...)
	if sh.Columns != "" {
		all = append(all, sh.Columns)
	}
	for _, n := range all {
		if md.Fields().ByName(n) == nil {
			return fmt.Errorf("accumulate: %s has no field %s", md.FullName(), n)
		}
	}
	return nil
}

// Handler is one ring's accumulated input.
type Handler struct {
	k     *registry.Kernel
	sh    Shape
	acc   proto.Message
	kinds map[protoreflect.Name]int // 1 data, 2 count, 3 shared, 4 columns
}

// New returns a handler for k with an empty, default-configured input.
func New(k *registry.Kernel, sh Shape) *Handler {
	h := &Handler{k: k, sh: sh, kinds: map[protoreflect.Name]int{}}
	for _, n := range sh.Data {
		h.kinds[n] = 1
	}
	for _, n := range sh.Counts {
		h.kinds[n] = 2
	}
	for _, n := range sh.Shared {
		h.kinds[n] = 3
	}
	if sh.Columns != "" {
		h.kinds[sh.Columns] = 4
	}
	h.Reset()
	return h
}

// Reset implements fold.Handler.
func (h *Handler) Reset() { h.acc = h.k.NewInput() }

// Configure implements fold.Handler: parameters only.
func (h *Handler) Configure(_ context.Context, cfg proto.Message) error {
	var bad error
	cfg.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		switch h.kinds[fd.Name()] {
		case 1, 2, 4:
			bad = kerr.Invalid(string(fd.Name()), "is data: send it in data messages, not in Configure")
			return false
		}
		return true
	})
	if bad != nil {
		return bad
	}
	h.acc = proto.Clone(cfg)
	return nil
}

// Apply implements fold.Handler: appends the message's records. It checks
// everything before changing the state, so a refused message leaves it
// as it was.
func (h *Handler) Apply(_ fold.Context, msg proto.Message) error {
	m := msg.ProtoReflect()
	acc := h.acc.ProtoReflect()
	var bad error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch h.kinds[fd.Name()] {
		case 0:
			bad = kerr.Invalid(string(fd.Name()), "is a parameter: set it with Configure (before the first data message or after Reset)")
		case 3:
			if !acc.Has(fd) || !acc.Get(fd).Equal(v) {
				bad = kerr.Invalid(string(fd.Name()), "must be left out of data messages or equal the configured value %v", acc.Get(fd).Interface())
			}
		case 4:
			rows := acc.Get(fd).List()
			if rows.Len() > 0 && rows.Len() != v.List().Len() {
				bad = kerr.Invalid(string(fd.Name()), "has %d rows; the ring's has %d (one value per row per observation)", v.List().Len(), rows.Len())
			}
		}
		return bad == nil
	})
	if bad != nil {
		return bad
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch h.kinds[fd.Name()] {
		case 1:
			dst := acc.Mutable(fd).List()
			src := v.List()
			for i := 0; i < src.Len(); i++ {
				dst.Append(src.Get(i))
			}
		case 2:
			acc.Set(fd, protoreflect.ValueOfInt32(int32(acc.Get(fd).Int()+v.Int())))
		case 4:
			dst := acc.Mutable(fd).List()
			src := v.List()
			for i := 0; i < src.Len(); i++ {
				if dst.Len() <= i {
					dst.Append(protoreflect.ValueOfMessage(src.Get(i).Message().Interface().ProtoReflect().Type().New()))
				}
				row, in := dst.Get(i).Message(), src.Get(i).Message()
				in.Range(func(rf protoreflect.FieldDescriptor, rv protoreflect.Value) bool {
					l := row.Mutable(rf).List()
					for j := 0; j < rv.List().Len(); j++ {
						l.Append(rv.List().Get(j))
					}
					return true
				})
			}
		}
		return true
	})
	return nil
}

// Snapshot implements fold.Handler: the Batch output of the accumulated input.
func (h *Handler) Snapshot(ctx context.Context) (proto.Message, error) {
	return h.k.Run(ctx, h.acc)
}

// MarshalState implements fold.Handler (deterministic proto encoding).
func (h *Handler) MarshalState() ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(h.acc)
}

// UnmarshalState implements fold.Handler.
func (h *Handler) UnmarshalState(data []byte) error {
	m := h.k.NewInput()
	if err := proto.Unmarshal(data, m); err != nil {
		return err
	}
	h.acc = m
	return nil
}

// Split implements fold.Handler: the Configure message (parameters) and one
// data message per record, in input order (the records' ts order).
func (h *Handler) Split(in proto.Message) (proto.Message, []proto.Message) {
	src := in.ProtoReflect()
	cfg := proto.Clone(in).ProtoReflect()
	for n, kind := range h.kinds {
		if kind != 3 && kind != 0 {
			cfg.Clear(cfg.Descriptor().Fields().ByName(n))
		}
	}
	fields := src.Descriptor().Fields()
	var out []proto.Message
	if h.sh.Columns != "" {
		fd := fields.ByName(h.sh.Columns)
		rows := src.Get(fd).List()
		if rows.Len() == 0 {
			return cfg.Interface(), nil
		}
		vf := rows.Get(0).Message().Descriptor().Fields().Get(0)
		n := rows.Get(0).Message().Get(vf).List().Len()
		for j := 0; j < n; j++ {
			m := h.k.NewInput().ProtoReflect()
			l := m.Mutable(fd).List()
			for i := 0; i < rows.Len(); i++ {
				row := rows.Get(i).Message().Type().New()
				v := rows.Get(i).Message().Get(vf).List()
				if j < v.Len() {
					row.Mutable(vf).List().Append(v.Get(j))
				}
				l.Append(protoreflect.ValueOfMessage(row))
			}
			out = append(out, m.Interface())
		}
		return cfg.Interface(), out
	}
	// Records: the first data field's length; fields that hold several
	// values per record (credit features: n_features each) are cut evenly.
	first := fields.ByName(h.sh.Data[0])
	n := src.Get(first).List().Len()
	per := map[protoreflect.Name]int{}
	for _, name := range h.sh.Data {
		l := src.Get(fields.ByName(name)).List().Len()
		if name != h.sh.Data[0] && n > 0 && l%max(n, 1) == 0 {
			per[name] = l / n
		} else {
			per[name] = 1
		}
	}
	if len(h.sh.Counts) > 0 {
		// Records are counted explicitly (n_exposures); per-record widths
		// follow from it.
		n = int(src.Get(fields.ByName(h.sh.Counts[0])).Int())
		for _, name := range h.sh.Data {
			if n > 0 {
				per[name] = src.Get(fields.ByName(name)).List().Len() / n
			}
		}
	}
	for i := 0; i < n; i++ {
		m := h.k.NewInput().ProtoReflect()
		for _, name := range h.sh.Data {
			fd := fields.ByName(name)
			sl := src.Get(fd).List()
			w := per[name]
			for j := i * w; j < (i+1)*w && j < sl.Len(); j++ {
				m.Mutable(fd).List().Append(sl.Get(j))
			}
		}
		for _, name := range h.sh.Counts {
			m.Set(fields.ByName(name), protoreflect.ValueOfInt32(1))
		}
		out = append(out, m.Interface())
	}
	return cfg.Interface(), out
}
