package pep

import (
	"context"
	"fmt"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	"github.com/gokernels/gokernels/kernels/compliance/sanctions"
	"github.com/gokernels/gokernels/kernels/compliance/screen"
	screenring "github.com/gokernels/gokernels/kernels/compliance/screen/ring"
	"github.com/gokernels/gokernels/kernels/finance/civil"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// Event kinds the ring emits, before the message's reply.
const (
	// EventResult carries each screened query's PepResult: the ring's
	// answer to Screen.
	EventResult = "PepResult"
	// EventHit carries the PepResult of a query whose is_pep is set.
	EventHit = "PepHit"
)

// RingState is the ring's state: the list and every screened query's
// result (screen/ring.State; Snapshot equals the Batch output).
type RingState = screenring.State[*State]

// RingSpec is the ring handler of compliance/pep-screening.
var RingSpec = screenring.Kind[*compliancev1.PepScreeningInput, *compliancev1.PepScreeningOutput,
	*compliancev1.PepEntry, *compliancev1.PepQuery, *compliancev1.PepResult, *State]{
	Name:        "pep ring",
	EventResult: EventResult,
	EventHit:    EventHit,
	Entries:     (*compliancev1.PepScreeningInput).GetEntries,
	Queries:     (*compliancev1.PepScreeningInput).GetQueries,
	ID:          (*compliancev1.PepEntry).GetId,
	DeleteIDs:   (*compliancev1.PepScreeningInput).GetDeleteIds,
	Replace:     (*compliancev1.PepScreeningInput).GetReplaceList,
	ExpectedVersion: func(in *compliancev1.PepScreeningInput) (uint64, bool) {
		return in.GetExpectedVersion(), in.ExpectedVersion != nil
	},
	Input: func(e []*compliancev1.PepEntry, q []*compliancev1.PepQuery) *compliancev1.PepScreeningInput {
		return &compliancev1.PepScreeningInput{Entries: e, Queries: q}
	},
	Output: func(r []*compliancev1.PepResult, version uint64, size int) *compliancev1.PepScreeningOutput {
		return &compliancev1.PepScreeningOutput{Results: r, ListVersion: version, ListSize: int32(size)}
	},
	NewEntry:  func() *compliancev1.PepEntry { return &compliancev1.PepEntry{} },
	NewResult: func() *compliancev1.PepResult { return &compliancev1.PepResult{} },
	CheckIDs:  sanctions.CheckEntries,
	CheckData: checkRingData,
	Load: func(ctx context.Context, cfg *compliancev1.PepScreeningInput) (*State, error) {
		j, err := prepare(ctx, cfg)
		if err != nil {
			return nil, err
		}
		j.state.asOf = cfg.GetAsOf()
		return j.state, nil
	},
	Append: func(st *State, fresh []*compliancev1.PepEntry) {
		all := make([][]string, len(fresh))
		for i, e := range fresh {
			all[i] = append([]string{e.GetName()}, e.GetAliases()...)
			var left *civil.Date
			if e.LeftOfficeDate != nil {
				d, _ := civil.Parse(e.GetLeftOfficeDate(), false) // checkRingData checked it
				left = &d
			}
			st.left = append(st.left, left)
		}
		st.entries = append(st.entries, fresh...)
		st.list.Append(all)
	},
	Remove: func(st *State, at []int) {
		st.entries, st.left = screen.RemoveAt(st.entries, at), screen.RemoveAt(st.left, at)
		st.list.Remove(at)
	},
	Len: func(st *State) int { return len(st.entries) },
}.Spec()

func checkRingData(st *State, in *compliancev1.PepScreeningInput) (func(*State, int) (*compliancev1.PepResult, bool), error) {
	switch {
	case in.MinScore != nil:
		return nil, kerr.Invalid("min_score", "is a parameter: set it with Configure")
	case in.MaxMatches != nil:
		return nil, kerr.Invalid("max_matches", "is a parameter: set it with Configure")
	case in.HitThreshold != nil:
		return nil, kerr.Invalid("hit_threshold", "is a parameter: set it with Configure")
	case in.LookbackMonths != nil:
		return nil, kerr.Invalid("lookback_months", "is a parameter: set it with Configure")
	case in.AsOf != "":
		return nil, kerr.Invalid("as_of", "is a parameter: set it with Configure (or give each query its as_of)")
	}
	for i, e := range in.GetEntries() {
		if e.LeftOfficeDate != nil {
			if _, err := civil.Parse(e.GetLeftOfficeDate(), false); err != nil {
				return nil, kerr.Invalid(fmt.Sprintf("entries[%d].left_office_date", i), "%v", err)
			}
		}
	}
	asOf := make([]civil.Date, len(in.GetQueries()))
	for i, q := range in.GetQueries() {
		d := q.GetAsOf()
		if q.AsOf == nil {
			d = st.asOf
		}
		if d == "" {
			return nil, kerr.Invalid(fmt.Sprintf("queries[%d].as_of", i), "needs an as_of date (here or in Configure's as_of)")
		}
		var err error
		if asOf[i], err = civil.Parse(d, false); err != nil {
			return nil, kerr.Invalid(fmt.Sprintf("queries[%d].as_of", i), "%v", err)
		}
	}
	return func(st *State, q int) (*compliancev1.PepResult, bool) {
		res := st.Screen(in.GetQueries()[q].GetName(), asOf[q])
		return res, res.IsPep
	}, nil
}
