package sanctions

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
)

// Event kinds the ring emits, before the message's reply.
const (
	// EventResult carries each screened query's SanctionsResult: the
	// ring's answer to Screen.
	EventResult = "SanctionsResult"
	// EventHit carries the SanctionsResult of a query whose is_hit is set.
	EventHit = "SanctionsHit"
)

// RingState is the ring's state. Configure sets the screening parameters;
// a data message's entries are LoadList/Upsert (an entry whose id is
// listed already replaces it, new ids are appended), its queries are
// Screen messages, answered against the list as it then is (entries of the
// same message first). Snapshot lists every screened query's result in
// order, so feeding a Batch input as Split does (the list, then one query
// per message) gives the Batch output.
type RingState struct {
	Config  []byte   `json:"config"`  // the parameters (input without entries and queries)
	Entries [][]byte `json:"entries"` // the list, in load order
	Version uint64   `json:"version"` // list version: +1 per message that changes the list
	Results [][]byte `json:"results"` // every Screen result, in order

	live *State // the prepared list; rebuilt from Entries after UnmarshalState
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// RingSpec is the ring handler of compliance/sanctions-screening.
var RingSpec = fold.Spec[*compliancev1.SanctionsScreeningInput, *compliancev1.SanctionsScreeningOutput, RingState]{
	Configure: func(ctx context.Context, in *compliancev1.SanctionsScreeningInput) (*RingState, error) {
		if len(in.GetEntries()) > 0 {
			return nil, kerr.Invalid("entries", "Configure takes the parameters only; send the list as a data message")
		}
		if len(in.GetQueries()) > 0 {
			return nil, kerr.Invalid("queries", "Configure takes the parameters only; send queries as data messages")
		}
		if _, err := prepare(ctx, in); err != nil {
			return nil, err
		}
		cfg, err := deterministic.Marshal(in)
		if err != nil {
			return nil, err
		}
		return &RingState{Config: cfg}, nil
	},
	Apply:    applyRing,
	Snapshot: snapshotRing,
	Split: func(in *compliancev1.SanctionsScreeningInput) (*compliancev1.SanctionsScreeningInput, []*compliancev1.SanctionsScreeningInput) {
		cfg := proto.Clone(in).(*compliancev1.SanctionsScreeningInput)
		cfg.Entries, cfg.Queries = nil, nil
		var data []*compliancev1.SanctionsScreeningInput
		if len(in.GetEntries()) > 0 {
			data = append(data, &compliancev1.SanctionsScreeningInput{Entries: in.GetEntries()})
		}
		for _, q := range in.GetQueries() {
			data = append(data, &compliancev1.SanctionsScreeningInput{Queries: []*compliancev1.ScreeningQuery{q}})
		}
		return cfg, data
	},
}

// state returns the prepared list, rebuilding it after a restore.
func (s *RingState) state(ctx context.Context) (*State, error) {
	if s.live != nil {
		return s.live, nil
	}
	cfg := &compliancev1.SanctionsScreeningInput{}
	if err := proto.Unmarshal(s.Config, cfg); err != nil {
		return nil, err
	}
	for _, b := range s.Entries {
		e := &compliancev1.SanctionsEntry{}
		if err := proto.Unmarshal(b, e); err != nil {
			return nil, err
		}
		cfg.Entries = append(cfg.Entries, e)
	}
	j, err := prepare(ctx, cfg) // within limits: Apply checked the list size
	if err != nil {
		return nil, err
	}
	s.live = j.state
	return s.live, nil
}

func applyRing(rc fold.Context, s *RingState, in *compliancev1.SanctionsScreeningInput) error {
	switch {
	case in.MinScore != nil:
		return kerr.Invalid("min_score", "is a parameter: set it with Configure")
	case in.MaxMatches != nil:
		return kerr.Invalid("max_matches", "is a parameter: set it with Configure")
	case in.HitThreshold != nil:
		return kerr.Invalid("hit_threshold", "is a parameter: set it with Configure")
	}
	st, err := s.state(rc)
	if err != nil {
		return err
	}
	// Check and encode everything before the state changes: a refused
	// message leaves it as it was.
	ids := make([]string, len(in.GetEntries()))
	for i, e := range in.GetEntries() {
		ids[i] = e.GetId()
	}
	if err := CheckEntries(ids, "entries"); err != nil {
		return err
	}
	at := make(map[string]int, len(st.entries))
	for i, e := range st.entries {
		at[e.GetId()] = i
	}
	added := 0
	for _, id := range ids {
		if _, ok := at[id]; !ok {
			added++
		}
	}
	if err := limits.Check("entries", len(st.entries)+added, limits.From(rc).MaxSamples); err != nil {
		return err
	}
	encoded := make([][]byte, len(ids))
	for i, e := range in.GetEntries() {
		if encoded[i], err = deterministic.Marshal(e); err != nil {
			return err
		}
	}
	if len(ids) > 0 {
		replaced := false
		var fresh []*compliancev1.SanctionsEntry
		for i, e := range in.GetEntries() {
			e = proto.Clone(e).(*compliancev1.SanctionsEntry)
			if k, ok := at[e.GetId()]; ok {
				st.entries[k], s.Entries[k], replaced = e, encoded[i], true
				continue
			}
			fresh = append(fresh, e)
			s.Entries = append(s.Entries, encoded[i])
		}
		st.entries = append(st.entries, fresh...)
		if replaced {
			// A replaced entry's names change in place: prepare the list anew.
			s.live = nil
			if st, err = s.state(rc); err != nil {
				return fmt.Errorf("sanctions ring: rebuilding the list: %w", err)
			}
		} else {
			all := make([][]string, len(fresh))
			for i, e := range fresh {
				all[i] = append([]string{e.GetName()}, e.GetAliases()...)
			}
			st.list.Append(all)
		}
		s.Version++
	}
	for _, q := range in.GetQueries() {
		res := st.Screen(q)
		b, err := deterministic.Marshal(res)
		if err != nil {
			return err
		}
		s.Results = append(s.Results, b)
		rc.Emit(EventResult, res)
		if res.IsHit {
			rc.Emit(EventHit, res)
		}
	}
	return nil
}

func snapshotRing(_ context.Context, s *RingState) (*compliancev1.SanctionsScreeningOutput, error) {
	out := &compliancev1.SanctionsScreeningOutput{Results: make([]*compliancev1.SanctionsResult, len(s.Results))}
	for i, b := range s.Results {
		out.Results[i] = &compliancev1.SanctionsResult{}
		if err := proto.Unmarshal(b, out.Results[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
