// Package ring is the ring handler shared by the list-screening kernels
// (sanctions-screening, pep-screening): a list loaded and upserted by data
// messages, queries screened against the list as it then is. Each kernel
// supplies its messages and its prepared list through a Kind; the state,
// its encoding, the upsert rule and the events are written once here.
package ring

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

// Kind describes one screening kernel: In/Out are its input and output, E a
// list entry, Q a query, R one query's result and L its prepared list.
type Kind[In, Out, E, Q, R proto.Message, L any] struct {
	Name                  string // for error messages ("sanctions ring")
	EventResult, EventHit string // event kinds: every result; results that are hits

	Entries func(In) []E
	Queries func(In) []Q
	ID      func(E) string
	// Input returns a new input holding only these entries and queries.
	Input func(entries []E, queries []Q) In
	// Output wraps the results in order.
	Output    func([]R) Out
	NewEntry  func() E
	NewResult func() R

	// CheckIDs rejects empty or duplicate entry ids, naming the field.
	CheckIDs func(ids []string, field string) error
	// CheckData rejects parameters and bad fields of a data message
	// against the current list, before the state changes, and returns the
	// screening of its queries (run after the message's entries are in).
	CheckData func(l L, in In) (screen func(l L, q int) (res R, hit bool), err error)
	// Load prepares the list of a parameters-only input with entries.
	Load func(ctx context.Context, cfg In) (L, error)
	// Append adds new entries (ids not listed yet) to a prepared list.
	Append func(l L, fresh []E)
	// Len is the number of listed entries.
	Len func(l L) int
}

// State is a screening ring's state. Configure sets the parameters; a data
// message's entries load or upsert the list (an entry whose id is listed
// already replaces it, new ids are appended), its queries are screened
// against the list as it then is (entries of the same message first).
// Snapshot lists every screened query's result in order, so feeding a
// Batch input as Split does (the list, then one query per message) gives
// the Batch output.
type State[L any] struct {
	Config  []byte   `json:"config"`  // the parameters (input without entries and queries)
	Entries [][]byte `json:"entries"` // the list, in load order
	Version uint64   `json:"version"` // list version: +1 per message that changes the list
	Results [][]byte `json:"results"` // every Screen result, in order

	live *L       // the prepared list; rebuilt from Entries after a restore
	ids  []string // entry ids by position, alongside live
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// Spec is the kind's ring handler.
func (k Kind[In, Out, E, Q, R, L]) Spec() fold.Spec[In, Out, State[L]] {
	return fold.Spec[In, Out, State[L]]{
		Configure: k.configure,
		Apply:     k.apply,
		Snapshot:  k.snapshot,
		Split: func(in In) (In, []In) {
			cfg := k.params(in)
			var data []In
			if len(k.Entries(in)) > 0 {
				data = append(data, k.Input(k.Entries(in), nil))
			}
			for _, q := range k.Queries(in) {
				data = append(data, k.Input(nil, []Q{q}))
			}
			return cfg, data
		},
	}
}

// params returns a copy of in without its entries and queries.
func (k Kind[In, Out, E, Q, R, L]) params(in In) In {
	cfg := proto.Clone(in).(In)
	m := cfg.ProtoReflect()
	for _, name := range []protoreflect.Name{"entries", "queries"} {
		m.Clear(m.Descriptor().Fields().ByName(name))
	}
	return cfg
}

func (k Kind[In, Out, E, Q, R, L]) configure(ctx context.Context, in In) (*State[L], error) {
	if len(k.Entries(in)) > 0 {
		return nil, kerr.Invalid("entries", "Configure takes the parameters only; send the list as a data message")
	}
	if len(k.Queries(in)) > 0 {
		return nil, kerr.Invalid("queries", "Configure takes the parameters only; send queries as data messages")
	}
	if _, err := k.Load(ctx, in); err != nil {
		return nil, err
	}
	cfg, err := deterministic.Marshal(in)
	if err != nil {
		return nil, err
	}
	return &State[L]{Config: cfg}, nil
}

// list returns the prepared list, rebuilding it after a restore or an
// in-place replacement.
func (k Kind[In, Out, E, Q, R, L]) list(ctx context.Context, s *State[L]) (L, error) {
	if s.live != nil {
		return *s.live, nil
	}
	cfg := k.Input(nil, nil)
	if err := proto.Unmarshal(s.Config, cfg); err != nil {
		var zero L
		return zero, err
	}
	entries := make([]E, len(s.Entries))
	ids := make([]string, len(s.Entries))
	for i, b := range s.Entries {
		entries[i] = k.NewEntry()
		if err := proto.Unmarshal(b, entries[i]); err != nil {
			var zero L
			return zero, err
		}
		ids[i] = k.ID(entries[i])
	}
	l, err := k.Load(ctx, k.withEntries(cfg, entries)) // within limits: apply checked the list size
	if err != nil {
		return l, err
	}
	s.live, s.ids = &l, ids
	return l, nil
}

// withEntries returns cfg's parameters with these entries.
func (k Kind[In, Out, E, Q, R, L]) withEntries(cfg In, entries []E) In {
	in := k.Input(entries, nil)
	proto.Merge(in, cfg)
	return in
}

func (k Kind[In, Out, E, Q, R, L]) apply(rc fold.Context, s *State[L], in In) error {
	l, err := k.list(rc, s)
	if err != nil {
		return err
	}
	// Check and encode everything before the state changes: a refused
	// message leaves it as it was.
	screen, err := k.CheckData(l, in)
	if err != nil {
		return err
	}
	entries := k.Entries(in)
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = k.ID(e)
	}
	if err := k.CheckIDs(ids, "entries"); err != nil {
		return err
	}
	at := make(map[string]int, len(s.ids))
	for i, id := range s.ids {
		at[id] = i
	}
	added := 0
	for _, id := range ids {
		if _, ok := at[id]; !ok {
			added++
		}
	}
	if err := limits.Check("entries", k.Len(l)+added, limits.From(rc).MaxSamples); err != nil {
		return err
	}
	encoded := make([][]byte, len(entries))
	for i, e := range entries {
		if encoded[i], err = deterministic.Marshal(e); err != nil {
			return err
		}
	}
	if len(entries) > 0 {
		replaced := false
		var fresh []E
		for i, e := range entries {
			if j, ok := at[ids[i]]; ok {
				s.Entries[j], replaced = encoded[i], true
				continue
			}
			fresh = append(fresh, proto.Clone(e).(E))
			s.Entries = append(s.Entries, encoded[i])
			s.ids = append(s.ids, ids[i])
		}
		if replaced {
			// A replaced entry's names change in place: prepare the list anew.
			s.live, s.ids = nil, nil
			if l, err = k.list(rc, s); err != nil {
				return fmt.Errorf("%s: rebuilding the list: %w", k.Name, err)
			}
		} else {
			k.Append(l, fresh)
		}
		s.Version++
	}
	for q := range k.Queries(in) {
		res, hit := screen(l, q)
		b, err := deterministic.Marshal(res)
		if err != nil {
			return err
		}
		s.Results = append(s.Results, b)
		rc.Emit(k.EventResult, res)
		if hit {
			rc.Emit(k.EventHit, res)
		}
	}
	return nil
}

func (k Kind[In, Out, E, Q, R, L]) snapshot(_ context.Context, s *State[L]) (Out, error) {
	results := make([]R, len(s.Results))
	for i, b := range s.Results {
		results[i] = k.NewResult()
		if err := proto.Unmarshal(b, results[i]); err != nil {
			var zero Out
			return zero, err
		}
	}
	return k.Output(results), nil
}
