package accounting

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	accountingv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/accounting/v1"
	"github.com/gokernels/gokernels/kernels/accounting/coamap"
	"github.com/gokernels/gokernels/kernels/accounting/ledger"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// CoaJob is the compiled rules and the masters.
type CoaJob struct {
	In    *accountingv1.CoaMappingInput
	Rules []coamap.Rule
	Chart ledger.Master
}

// CoaMapping is accounting/coa-mapping.
var CoaMapping = registry.Def[*accountingv1.CoaMappingInput, *accountingv1.CoaMappingOutput, CoaJob]{
	Meta: registry.Meta{
		ID: "accounting/coa-mapping", Domain: registry.DomainAccounting,
		Description: "Chart-of-accounts mapping to a group or reporting chart: exact, glob and numeric-range rules " +
			"ranked by priority and specificity, DIRECT / SPLIT / AGGREGATE / CONDITIONAL, default target, " +
			"target-chart and parent-cycle checks; shares sum to 1 per account.",
	},
	Prepare: prepareCoa,
	CPU:     runCoa,
	Estimate: func(in *accountingv1.CoaMappingInput) registry.Cost {
		n, r := int64(len(in.GetAccounts())), int64(len(in.GetRules()))
		return registry.Cost{WorkingBytes: 400 * (n + r), OutputBytes: 300 * n, Work: float64(n * max(r, 1))}
	},
}

var transformations = map[string]bool{"": true, "DIRECT": true, "AGGREGATE": true, "SPLIT": true, "CONDITIONAL": true}

func prepareCoa(ctx context.Context, in *accountingv1.CoaMappingInput) (CoaJob, error) {
	lim := limits.From(ctx).MaxSamples
	if err := limits.Check("accounts", len(in.GetAccounts())+len(in.GetTargetChart()), lim); err != nil {
		return CoaJob{}, err
	}
	// Every account is tested against every rule.
	if err := limits.Check("rules", len(in.GetRules())*max(len(in.GetAccounts()), 1), 100*lim); err != nil {
		return CoaJob{}, err
	}
	if _, err := ledger.NewMaster(in.GetAccounts()); err != nil {
		return CoaJob{}, err
	}
	chart, err := ledger.NewMasterAt("target_chart", in.GetTargetChart())
	if err != nil {
		return CoaJob{}, err
	}
	job := CoaJob{In: in, Chart: chart}
	ids := map[string]bool{}
	for i, r := range in.GetRules() {
		f := func(name string) string { return fmt.Sprintf("rules[%d].%s", i, name) }
		if ids[r.GetId()] {
			return CoaJob{}, kerr.Invalid(f("id"), "duplicate rule id %q", r.GetId())
		}
		ids[r.GetId()] = true
		tr := r.GetTransformation()
		if !transformations[tr] {
			return CoaJob{}, kerr.Invalid(f("transformation"), "must be DIRECT, SPLIT, AGGREGATE or CONDITIONAL, got %q", tr)
		}
		cr := coamap.Rule{ID: r.GetId(), Index: i, Priority: r.GetPriority(), Pattern: coamap.Compile(r.GetPattern()), Entity: r.GetEntity()}
		if tr == "SPLIT" {
			if err := ledger.CheckShares(f("splits"), r.GetSplits()); err != nil {
				return CoaJob{}, err
			}
			for _, s := range r.GetSplits() {
				cr.Targets = append(cr.Targets, coamap.Target{Code: s.GetCode(), Ratio: s.GetRatio()})
			}
		} else {
			if r.GetTarget() == "" {
				return CoaJob{}, kerr.Invalid(f("target"), "must not be empty for %s", cmp.Or(tr, "DIRECT"))
			}
			cr.Targets = []coamap.Target{{Code: r.GetTarget(), Ratio: 1}}
		}
		if tr == "CONDITIONAL" {
			if cr.Cond, err = condition(f("condition"), r.GetCondition()); err != nil {
				return CoaJob{}, err
			}
		}
		job.Rules = append(job.Rules, cr)
	}
	return job, nil
}

// condition parses attr:k=v, type:<type> or entity:<id>.
func condition(field, c string) (func(coamap.Account) bool, error) {
	kind, arg, ok := strings.Cut(c, ":")
	switch {
	case ok && kind == "attr":
		k, v, eq := strings.Cut(arg, "=")
		if eq && k != "" {
			return func(a coamap.Account) bool { x, has := a.Attributes[k]; return has && x == v }, nil
		}
	case ok && kind == "type":
		return func(a coamap.Account) bool { return a.Type == arg }, nil
	case ok && kind == "entity":
		return func(a coamap.Account) bool { return a.Entity == arg }, nil
	}
	return nil, kerr.Invalid(field, "must be attr:k=v, type:<type> or entity:<id>, got %q", c)
}

func runCoa(ctx context.Context, job CoaJob) (*accountingv1.CoaMappingOutput, error) {
	in := job.In
	accounts := slices.Clone(in.GetAccounts())
	slices.SortFunc(accounts, func(a, b *accountingv1.Account) int { return strings.Compare(a.GetCode(), b.GetCode()) })
	out := &accountingv1.CoaMappingOutput{Stats: &accountingv1.CoaStats{}, Unmapped: []string{}}
	parent := make(map[string]string, len(accounts))
	for i, a := range accounts {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		parent[a.GetCode()] = a.GetParent()
		if !ledger.Active(a) && !in.GetIncludeInactive() {
			out.Stats.SkippedInactive++
			continue
		}
		var m *accountingv1.CoaMapping
		if r := coamap.Best(job.Rules, coamap.Account{Code: a.GetCode(), Type: a.GetType(), Entity: a.GetEntity(),
			Attributes: a.GetAttributes()}); r != nil {
			m = &accountingv1.CoaMapping{Account: a.GetCode(), RuleId: r.ID}
			for _, t := range r.Targets {
				m.Targets = append(m.Targets, &accountingv1.TargetShare{Code: t.Code, Ratio: t.Ratio})
			}
			out.Stats.Mapped++
		} else if in.GetDefaultTarget() != "" {
			m = &accountingv1.CoaMapping{Account: a.GetCode(), Default: true,
				Targets: []*accountingv1.TargetShare{{Code: in.GetDefaultTarget(), Ratio: 1}}}
			out.Stats.Default++
		} else {
			out.Unmapped = append(out.Unmapped, a.GetCode())
			out.Stats.Unmapped++
			continue
		}
		out.Mappings = append(out.Mappings, m)
		if job.Chart.Len() > 0 {
			for _, t := range m.Targets {
				if ta, ok := job.Chart.Get(t.Code); !ok || !ledger.Active(ta) {
					out.Errors = append(out.Errors, &accountingv1.CoaError{Code: "INVALID_TARGET", Account: a.GetCode(), Target: t.Code})
				}
			}
		}
	}
	for _, c := range coamap.ParentCycles(parent) {
		out.Errors = append(out.Errors, &accountingv1.CoaError{Code: "PARENT_CYCLE", Account: c})
	}
	slices.SortStableFunc(out.Errors, func(a, b *accountingv1.CoaError) int {
		return cmp.Or(cmp.Compare(a.Code, b.Code), cmp.Compare(a.Account, b.Account), cmp.Compare(a.Target, b.Target))
	})
	return out, nil
}
