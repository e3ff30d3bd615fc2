package sanctions

import (
	"context"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	"github.com/gokernels/gokernels/kernels/compliance/screen"
	screenring "github.com/gokernels/gokernels/kernels/compliance/screen/ring"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// Event kinds the ring emits, before the message's reply.
const (
	// EventResult carries each screened query's SanctionsResult: the
	// ring's answer to Screen.
	EventResult = "SanctionsResult"
	// EventHit carries the SanctionsResult of a query whose is_hit is set.
	EventHit = "SanctionsHit"
)

// RingState is the ring's state: the list and every screened query's
// result (screen/ring.State; Snapshot equals the Batch output).
type RingState = screenring.State[*State]

// RingSpec is the ring handler of compliance/sanctions-screening.
var RingSpec = screenring.Kind[*compliancev1.SanctionsScreeningInput, *compliancev1.SanctionsScreeningOutput,
	*compliancev1.SanctionsEntry, *compliancev1.ScreeningQuery, *compliancev1.SanctionsResult, *State]{
	Name:        "sanctions ring",
	EventResult: EventResult,
	EventHit:    EventHit,
	Entries:     (*compliancev1.SanctionsScreeningInput).GetEntries,
	Queries:     (*compliancev1.SanctionsScreeningInput).GetQueries,
	ID:          (*compliancev1.SanctionsEntry).GetId,
	DeleteIDs:   (*compliancev1.SanctionsScreeningInput).GetDeleteIds,
	Replace:     (*compliancev1.SanctionsScreeningInput).GetReplaceList,
	ExpectedVersion: func(in *compliancev1.SanctionsScreeningInput) (uint64, bool) {
		return in.GetExpectedVersion(), in.ExpectedVersion != nil
	},
	Input: func(e []*compliancev1.SanctionsEntry, q []*compliancev1.ScreeningQuery) *compliancev1.SanctionsScreeningInput {
		return &compliancev1.SanctionsScreeningInput{Entries: e, Queries: q}
	},
	Output: func(r []*compliancev1.SanctionsResult, version uint64, size int) *compliancev1.SanctionsScreeningOutput {
		return &compliancev1.SanctionsScreeningOutput{Results: r, ListVersion: version, ListSize: int32(size)}
	},
	NewEntry:  func() *compliancev1.SanctionsEntry { return &compliancev1.SanctionsEntry{} },
	NewResult: func() *compliancev1.SanctionsResult { return &compliancev1.SanctionsResult{} },
	CheckIDs:  CheckEntries,
	CheckData: checkRingData,
	Load: func(ctx context.Context, cfg *compliancev1.SanctionsScreeningInput) (*State, error) {
		j, err := prepare(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return j.state, nil
	},
	Append: func(st *State, fresh []*compliancev1.SanctionsEntry) {
		all := make([][]string, len(fresh))
		for i, e := range fresh {
			all[i] = append([]string{e.GetName()}, e.GetAliases()...)
		}
		st.entries = append(st.entries, fresh...)
		st.list.Append(all)
	},
	Remove: func(st *State, at []int) {
		st.entries = screen.RemoveAt(st.entries, at)
		st.list.Remove(at)
	},
	Len: func(st *State) int { return len(st.entries) },
}.Spec()

func checkRingData(_ *State, in *compliancev1.SanctionsScreeningInput) (func(*State, int) (*compliancev1.SanctionsResult, bool), error) {
	switch {
	case in.MinScore != nil:
		return nil, kerr.Invalid("min_score", "is a parameter: set it with Configure")
	case in.MaxMatches != nil:
		return nil, kerr.Invalid("max_matches", "is a parameter: set it with Configure")
	case in.HitThreshold != nil:
		return nil, kerr.Invalid("hit_threshold", "is a parameter: set it with Configure")
	}
	return func(st *State, q int) (*compliancev1.SanctionsResult, bool) {
		res := st.Screen(in.GetQueries()[q])
		return res, res.IsHit
	}, nil
}
