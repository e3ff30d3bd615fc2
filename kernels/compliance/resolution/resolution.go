// Package resolution is compliance/entity-resolution: one query entity
// matched against candidates in the Fellegi-Sunter frame, names by the
// shared Jaro-Winkler comparator, dates by upstream's steps, country by
// case-folded equality.
package resolution

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	"github.com/gokernels/gokernels/kernels/finance/civil"
	"github.com/gokernels/gokernels/kernels/finance/names"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"

	"golang.org/x/text/cases"
)

// Def declares compliance/entity-resolution.
var Def = registry.Def[*compliancev1.EntityResolutionInput, *compliancev1.EntityResolutionOutput, *job]{
	Meta: registry.Meta{
		ID:          "compliance/entity-resolution",
		Domain:      registry.DomainCompliance,
		Description: "Entity resolution: 0.6 name (Jaro-Winkler equal to jellyfish, token sort, names x aliases) + 0.25 date + 0.15 country, entity-type filter, top matches.",
		Modes:       []registry.Mode{registry.Batch},
	},
	Prepare: prepare,
	CPU:     run,
}

type prepared struct {
	e     *compliancev1.ResolvableEntity
	names []names.Name
	dob   *civil.Date
}

type job struct {
	query      prepared
	candidates []prepared
	minScore   float64
	maxMatches int
}

func prep(e *compliancev1.ResolvableEntity, field string) (prepared, error) {
	p := prepared{e: e}
	for _, n := range append([]string{e.GetName()}, e.GetAliases()...) {
		p.names = append(p.names, names.Prepare(n))
	}
	if e.Dob != nil {
		d, err := civil.Parse(e.GetDob(), true)
		if err != nil {
			return p, kerr.Invalid(field+".dob", "%v", err)
		}
		p.dob = &d
	}
	return p, nil
}

func prepare(ctx context.Context, in *compliancev1.EntityResolutionInput) (*job, error) {
	if err := limits.Check("candidates", len(in.GetCandidates()), limits.From(ctx).MaxSamples); err != nil {
		return nil, err
	}
	q := in.GetQuery()
	if q == nil {
		q = &compliancev1.ResolvableEntity{}
	}
	j := &job{minScore: registry.Or(in.MinScore, 0.7), maxMatches: int(registry.Or(in.MaxMatches, 10))}
	var err error
	if j.query, err = prep(q, "query"); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i, c := range in.GetCandidates() {
		field := fmt.Sprintf("candidates[%d]", i)
		if c.GetId() == "" {
			return nil, kerr.Invalid(field+".id", "must not be empty")
		}
		if seen[c.GetId()] {
			return nil, kerr.Invalid(field+".id", "duplicate candidate id %q", c.GetId())
		}
		seen[c.GetId()] = true
		p, err := prep(c, field)
		if err != nil {
			return nil, err
		}
		j.candidates = append(j.candidates, p)
	}
	return j, nil
}

// DateScore is upstream's step score for two present dates.
func DateScore(a, b civil.Date) float64 {
	switch dy := abs(a.Year - b.Year); {
	case a == b:
		return 1
	case dy == 0 && a.Month == b.Month:
		return 0.9
	case dy == 0:
		return 0.7
	case dy <= 2:
		return 0.5
	case dy <= 5:
		return 0.3
	}
	return 0
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

var folder = cases.Fold()

func typeOf(e *compliancev1.ResolvableEntity) string {
	if t := e.GetEntityType(); t != "" {
		return t
	}
	return "UNKNOWN"
}

func run(ctx context.Context, j *job) (*compliancev1.EntityResolutionOutput, error) {
	out := &compliancev1.EntityResolutionOutput{}
	qt := typeOf(j.query.e)
	qNames := append([]string{j.query.e.GetName()}, j.query.e.GetAliases()...)
	for i, c := range j.candidates {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if ct := typeOf(c.e); qt != "UNKNOWN" && ct != "UNKNOWN" && qt != ct {
			continue
		}
		best, bi, bj := -1.0, 0, 0
		for a, qn := range j.query.names {
			for b, cn := range c.names {
				if s := names.Compare(qn, cn); s > best {
					best, bi, bj = s, a, b
				}
			}
		}
		cNames := append([]string{c.e.GetName()}, c.e.GetAliases()...)
		m := &compliancev1.EntityMatch{EntityId: c.e.GetId(), NameScore: best,
			MatchedNames: []string{qNames[bi], cNames[bj]}}
		dateTerm := 0.125
		if j.query.dob != nil && c.dob != nil {
			m.DateScore = DateScore(*j.query.dob, *c.dob)
			dateTerm = 0.25 * m.DateScore
		}
		if j.query.e.Country != nil && c.e.Country != nil &&
			folder.String(j.query.e.GetCountry()) == folder.String(c.e.GetCountry()) {
			m.CountryMatch = 1
		}
		m.Score = 0.6*m.NameScore + dateTerm + 0.15*m.CountryMatch
		if m.Score >= j.minScore {
			out.Matches = append(out.Matches, m)
		}
	}
	slices.SortFunc(out.Matches, func(a, b *compliancev1.EntityMatch) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.EntityId, b.EntityId)
	})
	out.Matches = out.Matches[:min(len(out.Matches), j.maxMatches)]
	return out, nil
}
