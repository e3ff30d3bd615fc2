// Package ring is the ring handler shared by the list-screening kernels
// (sanctions-screening, pep-screening): a versioned list managed by data
// messages (upsert by id, delete by id, replace whole, compare-and-set on
// the version), queries screened against the list as it then is. Each
// kernel supplies its messages and its prepared list through a Kind; the
// state, its encoding, the list rules, replies and events are written once
// here.
package ring

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gokernels/gokernels/kernels/compliance/screen"
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
	// DeleteIDs, Replace and ExpectedVersion read the list-management
	// fields of a data message (delete_ids, replace_list,
	// expected_version).
	DeleteIDs       func(In) []string
	Replace         func(In) bool
	ExpectedVersion func(In) (uint64, bool)
	// Input returns a new input holding only these entries and queries.
	Input func(entries []E, queries []Q) In
	// Output wraps the results in order with the list's version and size.
	Output    func(results []R, version uint64, size int) Out
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
	// Remove deletes the entries at these positions (ascending) from a
	// prepared list, keeping the others in order.
	Remove func(l L, at []int)
	// Len is the number of listed entries.
	Len func(l L) int
}

// CheckBatch refuses the ring-only list-management fields in a Batch
// input or a Configure, naming the field: they act on a ring's list.
func CheckBatch(deleteIDs []string, replace bool, expected *uint64) error {
	switch {
	case len(deleteIDs) > 0:
		return kerr.Invalid("delete_ids", "is a ring data message field (Batch and Configure take the list as entries)")
	case replace:
		return kerr.Invalid("replace_list", "is a ring data message field (Batch and Configure take the list as entries)")
	case expected != nil:
		return kerr.Invalid("expected_version", "is a ring data message field (Batch and Configure take the list as entries)")
	}
	return nil
}

// BatchVersion is the list_version of a Batch output: that of a ring
// after one message loading the list (the replay law's feed), 0 for none.
func BatchVersion(entries int) uint64 {
	if entries > 0 {
		return 1
	}
	return 0
}

// State is a screening ring's state. Configure sets the parameters; a data
// message, all or nothing, first checks expected_version against Version,
// then replaces the list with its entries (replace_list) or deletes
// delete_ids and upserts its entries (a listed id is removed and the new
// entry appended, so an upsert prepares only its own names), and screens
// its queries against the list as it then is. Snapshot lists every
// screened query's result in order, so feeding a Batch input as Split does
// (the list, then one query per message) gives the Batch output.
type State[L any] struct {
	Config  []byte   `json:"config"`  // the parameters (input without entries and queries)
	Entries [][]byte `json:"entries"` // the list, oldest upsert first
	Version uint64   `json:"version"` // list version: +1 per message that changes the list
	Results [][]byte `json:"results"` // every Screen result, in order

	live *L             // the prepared list; rebuilt from Entries after a restore
	ids  []string       // entry ids by position, alongside live
	at   map[string]int // position of each id, alongside live
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
		Messages: fold.Messages{Reply: k.Output(nil, 0, 0), ReplyDoc: "The results of this message's queries, in " +
			"query order, with the list's version and size after the message.", Events: []fold.EventType{
			{Kind: k.EventResult, Message: k.NewResult(), Doc: "One per screened query of a data message, in query order: the " +
				"query's result, as the Batch output lists it."},
			{Kind: k.EventHit, Message: k.NewResult(), Doc: "After the result of a query that is a hit (its hit flag set): " +
				"the same result again, for watchers that only want hits."},
		}},
	}
}

// params returns a copy of in without its entries and queries.
func (k Kind[In, Out, E, Q, R, L]) params(in In) In {
	cfg := proto.Clone(in).(In)
	m := cfg.ProtoReflect()
	for _, name := range []protoreflect.Name{"entries", "queries", "delete_ids", "replace_list", "expected_version"} {
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
	s.live = &l
	s.setIDs(ids)
	return l, nil
}

// setIDs records the ids by position and their index.
func (s *State[L]) setIDs(ids []string) {
	s.ids = ids
	s.at = make(map[string]int, len(ids))
	for i, id := range ids {
		s.at[id] = i
	}
}

// change is a checked data message's effect on the list.
type change[E any] struct {
	replace bool
	remove  []int    // positions to remove, ascending (deletes and upserted ids)
	add     []E      // entries to append, in message order
	ids     []string // their ids
	encoded [][]byte // their encodings
}

// plan checks the list-management fields of in against the list and
// returns the change, naming the field of the first problem.
func (k Kind[In, Out, E, Q, R, L]) plan(rc fold.Context, s *State[L], l L, in In) (*change[E], error) {
	entries := k.Entries(in)
	c := &change[E]{replace: k.Replace(in), ids: make([]string, len(entries)), encoded: make([][]byte, len(entries))}
	for i, e := range entries {
		c.ids[i] = k.ID(e)
	}
	if err := k.CheckIDs(c.ids, "entries"); err != nil {
		return nil, err
	}
	dels := k.DeleteIDs(in)
	if c.replace && len(dels) > 0 {
		return nil, kerr.Invalid("delete_ids", "replace_list replaces the whole list: leave delete_ids empty")
	}
	inEntries := make(map[string]bool, len(c.ids))
	for _, id := range c.ids {
		inEntries[id] = true
	}
	removed := make(map[int]bool, len(dels))
	for i, id := range dels {
		j, listed := s.at[id]
		switch {
		case id == "":
			return nil, kerr.Invalid(fmt.Sprintf("delete_ids[%d]", i), "must not be empty")
		case !listed:
			return nil, kerr.Invalid(fmt.Sprintf("delete_ids[%d]", i), "entry id %q is not listed", id)
		case removed[j]:
			return nil, kerr.Invalid(fmt.Sprintf("delete_ids[%d]", i), "duplicate id %q", id)
		case inEntries[id]:
			return nil, kerr.Invalid(fmt.Sprintf("delete_ids[%d]", i), "id %q is also upserted by entries", id)
		}
		removed[j] = true
	}
	size := len(entries)
	if !c.replace {
		for _, id := range c.ids {
			if j, ok := s.at[id]; ok {
				removed[j] = true
			}
		}
		size += k.Len(l) - len(removed)
		for j := range removed {
			c.remove = append(c.remove, j)
		}
		slices.Sort(c.remove)
	}
	if err := limits.Check("entries", size, limits.From(rc).MaxSamples); err != nil {
		return nil, err
	}
	for i, e := range entries {
		var err error
		if c.encoded[i], err = deterministic.Marshal(e); err != nil {
			return nil, err
		}
		c.add = append(c.add, proto.Clone(e).(E))
	}
	return c, nil
}

// commit applies a planned change to the state and the prepared list.
func (k Kind[In, Out, E, Q, R, L]) commit(ctx context.Context, s *State[L], l L, c *change[E]) (L, error) {
	if c.replace {
		// Prepare the new list before dropping the old one: a failure
		// (cancellation) leaves the state as it was.
		cfg := k.Input(nil, nil)
		if err := proto.Unmarshal(s.Config, cfg); err != nil {
			return l, err
		}
		fresh, err := k.Load(ctx, k.withEntries(cfg, c.add))
		if err != nil {
			return l, fmt.Errorf("%s: preparing the replacement list: %w", k.Name, err)
		}
		s.Entries, s.live = c.encoded, &fresh
		s.setIDs(c.ids)
		return fresh, nil
	}
	if len(c.remove) > 0 {
		k.Remove(l, c.remove)
		s.Entries, s.ids = screen.RemoveAt(s.Entries, c.remove), screen.RemoveAt(s.ids, c.remove)
	}
	if len(c.add) > 0 {
		k.Append(l, c.add)
		s.Entries = append(s.Entries, c.encoded...)
		s.ids = append(s.ids, c.ids...)
	}
	if len(c.remove) > 0 {
		s.setIDs(s.ids) // positions moved
	} else {
		for i, id := range c.ids {
			s.at[id] = len(s.ids) - len(c.ids) + i
		}
	}
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
	c, err := k.plan(rc, s, l, in)
	if err != nil {
		return err
	}
	if want, ok := k.ExpectedVersion(in); ok && want != s.Version {
		// Not a *kerr.FieldError: the runtime answers FAILED_PRECONDITION.
		return fmt.Errorf("expected_version: the list is at version %d, not %d (message not applied)", s.Version, want)
	}
	if c.replace || len(c.remove) > 0 || len(c.add) > 0 {
		if l, err = k.commit(rc, s, l, c); err != nil {
			return err
		}
		s.Version++
	}
	results := make([]R, 0, len(k.Queries(in)))
	for q := range k.Queries(in) {
		res, hit := screen(l, q)
		b, err := deterministic.Marshal(res)
		if err != nil {
			return err
		}
		s.Results = append(s.Results, b)
		results = append(results, res)
		rc.Emit(k.EventResult, res)
		if hit {
			rc.Emit(k.EventHit, res)
		}
	}
	fold.Reply(rc, k.Output(results, s.Version, k.Len(l)))
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
	return k.Output(results, s.Version, len(s.Entries)), nil
}
