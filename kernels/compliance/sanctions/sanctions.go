// Package sanctions is compliance/sanctions-screening: list screening as in
// OFAC's Sanctions List Search, Jaro-Winkler (token-sort aware) for the
// score with American Soundex reported alongside.
package sanctions

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	"github.com/gokernels/gokernels/kernels/compliance/screen"
	screenring "github.com/gokernels/gokernels/kernels/compliance/screen/ring"
	"github.com/gokernels/gokernels/kernels/finance/names"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"

	"golang.org/x/text/cases"
)

// Def declares compliance/sanctions-screening.
var Def = registry.Def[*compliancev1.SanctionsScreeningInput, *compliancev1.SanctionsScreeningOutput, *job]{
	Meta: registry.Meta{
		ID:          "compliance/sanctions-screening",
		Domain:      registry.DomainCompliance,
		Description: "Sanctions list screening: Jaro-Winkler (equals jellyfish, with token sort) over names and aliases, lossless length prefilter, Soundex, DOB and country flags.",
		Modes:       []registry.Mode{registry.Batch, registry.Ring},
	},
	Prepare: prepare,
	CPU: func(ctx context.Context, j *job) (*compliancev1.SanctionsScreeningOutput, error) {
		return j.state.ScreenAll(ctx, j.queries)
	},
	Estimate: func(in *compliancev1.SanctionsScreeningInput) registry.Cost {
		names := int64(0)
		for _, e := range in.GetEntries() {
			names += 1 + int64(len(e.GetAliases()))
		}
		q := int64(len(in.GetQueries()))
		return registry.Cost{WorkingBytes: 256 * names, OutputBytes: 256 * q * 10, Work: float64(names * q)}
	},
}

type job struct {
	state   *State
	queries []*compliancev1.ScreeningQuery
}

// Params are the screening options with defaults applied.
type Params struct {
	MinScore, HitThreshold float64
	MaxMatches             int
	NoPrefilter            bool // tests only
}

func prepare(ctx context.Context, in *compliancev1.SanctionsScreeningInput) (*job, error) {
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
	// The scan compares every query with every listed name.
	pairs := len(in.GetQueries()) * len(in.GetEntries())
	if err := limits.Check("queries", pairs, lim.MaxSimulations); err != nil {
		return nil, kerr.Invalid("queries", "queries x entries = %d exceeds the server limit of %d", pairs, lim.MaxSimulations)
	}
	st, err := New(ctx, Params{
		MinScore:     registry.Or(in.MinScore, 0.7),
		HitThreshold: registry.Or(in.HitThreshold, 0.85),
		MaxMatches:   int(registry.Or(in.MaxMatches, 10)),
	}, in.GetEntries())
	if err != nil {
		return nil, err
	}
	return &job{state: st, queries: in.GetQueries()}, nil
}

// State is the ring state: the loaded list. Screening does not change it,
// so replaying Screen messages gives the Batch results.
type State struct {
	p       Params
	entries []*compliancev1.SanctionsEntry
	list    *screen.List
}

// CheckEntries rejects empty or duplicate entry ids, naming the field.
func CheckEntries(ids []string, field string) error {
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		if id == "" {
			return kerr.Invalid(fmt.Sprintf("%s[%d].id", field, i), "must not be empty")
		}
		if seen[id] {
			return kerr.Invalid(fmt.Sprintf("%s[%d].id", field, i), "duplicate entry id %q", id)
		}
		seen[id] = true
	}
	return nil
}

// New loads a list.
func New(ctx context.Context, p Params, entries []*compliancev1.SanctionsEntry) (*State, error) {
	ids := make([]string, len(entries))
	all := make([][]string, len(entries))
	for i, e := range entries {
		ids[i] = e.GetId()
		all[i] = append([]string{e.GetName()}, e.GetAliases()...)
	}
	if err := CheckEntries(ids, "entries"); err != nil {
		return nil, err
	}
	l, err := screen.NewList(ctx, all)
	if err != nil {
		return nil, err
	}
	return &State{p: p, entries: entries, list: l}, nil
}

var folder = cases.Fold()

func sameFolded(a, b *string) bool {
	return a != nil && b != nil && folder.String(*a) == folder.String(*b)
}

// ScreenAll screens every query, in order.
func (s *State) ScreenAll(ctx context.Context, queries []*compliancev1.ScreeningQuery) (*compliancev1.SanctionsScreeningOutput, error) {
	prepared := make([]names.Name, len(queries))
	for i, q := range queries {
		prepared[i] = names.Prepare(q.GetName())
	}
	found, err := s.list.ScanAll(ctx, prepared, s.p.MinScore, s.p.NoPrefilter)
	if err != nil {
		return nil, err
	}
	out := &compliancev1.SanctionsScreeningOutput{ListVersion: screenring.BatchVersion(len(s.entries)), ListSize: int32(len(s.entries))}
	for i, q := range queries {
		out.Results = append(out.Results, s.result(q, prepared[i], found[i]))
	}
	return out, nil
}

// Screen screens one query (the ring's Screen message).
func (s *State) Screen(q *compliancev1.ScreeningQuery) *compliancev1.SanctionsResult {
	pq := names.Prepare(q.GetName())
	return s.result(q, pq, s.list.Scan(pq, s.p.MinScore, s.p.NoPrefilter))
}

func (s *State) result(q *compliancev1.ScreeningQuery, pq names.Name, found []screen.Match) *compliancev1.SanctionsResult {
	res := &compliancev1.SanctionsResult{Query: q.GetName()}
	slices.SortFunc(found, func(a, b screen.Match) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(s.entries[a.Entry].GetId(), s.entries[b.Entry].GetId())
	})
	if len(found) > 0 && found[0].Score >= s.p.HitThreshold {
		res.IsHit = true
	}
	qCode := names.Soundex(names.LastToken(pq.Text))
	for _, m := range found[:min(len(found), s.p.MaxMatches)] {
		e := s.entries[m.Entry]
		matched := e.GetName()
		if m.Name > 0 {
			matched = e.GetAliases()[m.Name-1]
		}
		code := names.Soundex(names.LastToken(s.list.Name(m.Entry, m.Name).Text))
		res.Matches = append(res.Matches, &compliancev1.SanctionsMatch{
			EntryId: e.GetId(), Score: m.Score, MatchedName: matched, Source: e.GetSource(), Program: e.GetProgram(),
			PhoneticMatch: qCode != "" && qCode == code,
			DobMatch:      q.Dob != nil && e.Dob != nil && *q.Dob == *e.Dob,
			CountryMatch:  sameFolded(q.Country, e.Country),
		})
	}
	return res
}
