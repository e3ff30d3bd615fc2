// Package pep is compliance/pep-screening: screening against politically
// exposed persons (FATF Rec. 12), with the sanctions comparator and an
// in-scope rule for persons who left office within the look-back.
package pep

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	"github.com/gokernels/gokernels/kernels/compliance/sanctions"
	"github.com/gokernels/gokernels/kernels/compliance/screen"
	screenring "github.com/gokernels/gokernels/kernels/compliance/screen/ring"
	"github.com/gokernels/gokernels/kernels/finance/civil"
	"github.com/gokernels/gokernels/kernels/finance/names"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Def declares compliance/pep-screening.
var Def = registry.Def[*compliancev1.PepScreeningInput, *compliancev1.PepScreeningOutput, *job]{
	Meta: registry.Meta{
		ID:          "compliance/pep-screening",
		Domain:      registry.DomainCompliance,
		Description: "PEP screening (FATF Rec. 12): Jaro-Winkler name matching over names and aliases, in-scope rule for active PEPs and those who left office within the look-back, highest level.",
		Modes:       []registry.Mode{registry.Batch, registry.Ring},
	},
	Prepare: prepare,
	CPU: func(ctx context.Context, j *job) (*compliancev1.PepScreeningOutput, error) {
		prepared := make([]names.Name, len(j.queries))
		for i, q := range j.queries {
			prepared[i] = names.Prepare(q.GetName())
		}
		found, err := j.state.list.ScanAll(ctx, prepared, j.state.p.MinScore, j.state.p.NoPrefilter)
		if err != nil {
			return nil, err
		}
		n := len(j.state.entries)
		out := &compliancev1.PepScreeningOutput{ListVersion: screenring.BatchVersion(n), ListSize: int32(n)}
		for i, q := range j.queries {
			out.Results = append(out.Results, j.state.result(q.GetName(), j.asOf[i], found[i]))
		}
		return out, nil
	},
}

type job struct {
	state   *State
	queries []*compliancev1.PepQuery
	asOf    []civil.Date
}

func prepare(ctx context.Context, in *compliancev1.PepScreeningInput) (*job, error) {
	if err := screenring.CheckBatch(in.GetDeleteIds(), in.GetReplaceList(), in.ExpectedVersion); err != nil {
		return nil, err
	}
	lim := limits.From(ctx)
	if err := limits.Check("entries", len(in.GetEntries()), lim.MaxSamples); err != nil {
		return nil, err
	}
	if err := limits.Check("queries", len(in.GetQueries()), lim.MaxSamples); err != nil {
		return nil, err
	}
	if pairs := len(in.GetQueries()) * len(in.GetEntries()); pairs > lim.MaxSimulations {
		return nil, kerr.Invalid("queries", "queries x entries = %d exceeds the server limit of %d", pairs, lim.MaxSimulations)
	}
	var global *civil.Date
	if in.GetAsOf() != "" {
		d, err := civil.Parse(in.GetAsOf(), false)
		if err != nil {
			return nil, kerr.Invalid("as_of", "%v", err)
		}
		global = &d
	}
	asOf := make([]civil.Date, len(in.GetQueries()))
	for i, q := range in.GetQueries() {
		switch {
		case q.AsOf != nil:
			d, err := civil.Parse(q.GetAsOf(), false)
			if err != nil {
				return nil, kerr.Invalid(fmt.Sprintf("queries[%d].as_of", i), "%v", err)
			}
			asOf[i] = d
		case global != nil:
			asOf[i] = *global
		default:
			return nil, kerr.Invalid(fmt.Sprintf("queries[%d].as_of", i), "needs an as_of date (here or in the input's as_of)")
		}
	}
	st, err := New(ctx, Params{
		MinScore:     registry.Or(in.MinScore, 0.7),
		HitThreshold: registry.Or(in.HitThreshold, 0.85),
		MaxMatches:   int(registry.Or(in.MaxMatches, 10)),
		Lookback:     int(registry.Or(in.LookbackMonths, 12)),
	}, in.GetEntries())
	if err != nil {
		return nil, err
	}
	return &job{state: st, queries: in.GetQueries(), asOf: asOf}, nil
}

// Params are the screening options with defaults applied.
type Params struct {
	MinScore, HitThreshold float64
	MaxMatches, Lookback   int
	NoPrefilter            bool // tests only
}

// State is the ring state: the loaded list.
type State struct {
	p       Params
	entries []*compliancev1.PepEntry
	left    []*civil.Date
	list    *screen.List
	asOf    string // the ring's Configure as_of, for queries without their own
}

// New loads a list.
func New(ctx context.Context, p Params, entries []*compliancev1.PepEntry) (*State, error) {
	ids := make([]string, len(entries))
	all := make([][]string, len(entries))
	left := make([]*civil.Date, len(entries))
	for i, e := range entries {
		ids[i] = e.GetId()
		all[i] = append([]string{e.GetName()}, e.GetAliases()...)
		if e.LeftOfficeDate != nil {
			d, err := civil.Parse(e.GetLeftOfficeDate(), false)
			if err != nil {
				return nil, kerr.Invalid(fmt.Sprintf("entries[%d].left_office_date", i), "%v", err)
			}
			left[i] = &d
		}
	}
	if err := sanctions.CheckEntries(ids, "entries"); err != nil {
		return nil, err
	}
	l, err := screen.NewList(ctx, all)
	if err != nil {
		return nil, err
	}
	return &State{p: p, entries: entries, left: left, list: l}, nil
}

// Screen screens one query as of a date (the ring's Screen message).
func (s *State) Screen(name string, asOf civil.Date) *compliancev1.PepResult {
	pq := names.Prepare(name)
	return s.result(name, asOf, s.list.Scan(pq, s.p.MinScore, s.p.NoPrefilter))
}

func (s *State) result(name string, asOf civil.Date, found []screen.Match) *compliancev1.PepResult {
	res := &compliancev1.PepResult{Query: name}
	cutoff := asOf.AddMonths(-s.p.Lookback)
	slices.SortFunc(found, func(a, b screen.Match) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(s.entries[a.Entry].GetLevel(), s.entries[b.Entry].GetLevel()); c != 0 {
			return c
		}
		return strings.Compare(s.entries[a.Entry].GetId(), s.entries[b.Entry].GetId())
	})
	for k, m := range found {
		e := s.entries[m.Entry]
		inScope := e.GetActive() || (s.left[m.Entry] != nil && s.left[m.Entry].Compare(cutoff) >= 0)
		if inScope {
			if m.Score >= s.p.HitThreshold {
				res.IsPep = true
			}
			if res.HighestLevel == 0 || e.GetLevel() < res.HighestLevel {
				res.HighestLevel = e.GetLevel()
			}
		}
		if k >= s.p.MaxMatches {
			continue
		}
		matched := e.GetName()
		if m.Name > 0 {
			matched = e.GetAliases()[m.Name-1]
		}
		res.Matches = append(res.Matches, &compliancev1.PepMatch{
			EntryId: e.GetId(), Score: m.Score, MatchedName: matched, Level: e.GetLevel(),
			Position: e.GetPosition(), Country: e.GetCountry(), InScope: inScope,
		})
	}
	return res
}
