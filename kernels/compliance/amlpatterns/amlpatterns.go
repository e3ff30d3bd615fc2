// Package amlpatterns is compliance/aml-patterns: structuring, funnel and
// fan-out windows, and time-respecting round trips and layering chains
// (δ-temporal paths, Paranjape, Benson, Leskovec 2017), each reported
// greedily without overlap per (pattern, anchor).
package amlpatterns

import (
	"cmp"
	"context"
	"math"
	"slices"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/finance/txn"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Def declares compliance/aml-patterns.
var Def = registry.Def[*compliancev1.AmlPatternsInput, *compliancev1.AmlPatternsOutput, *job]{
	Meta: registry.Meta{
		ID:          "compliance/aml-patterns",
		Domain:      registry.DomainCompliance,
		Description: "AML typologies: structuring, funnel and fan-out windows, time-respecting round trips and layering chains, greedy non-overlapping per anchor, with a combined risk score.",
		Modes:       []registry.Mode{registry.Batch, registry.Ring},
	},
	Prepare: prepare,
	CPU: func(ctx context.Context, j *job) (*compliancev1.AmlPatternsOutput, error) {
		st := New(j.params)
		for _, tx := range j.txs {
			if err := st.Apply(tx); err != nil {
				return nil, err
			}
		}
		return st.Snapshot(ctx)
	},
}

// Pattern names in bitmask bit order (bit 2, RAPID_MOVEMENT, is upstream's
// and unused).
var bits = map[string]int{"STRUCTURING": 0, "LAYERING": 1, "ROUND_TRIP": 3, "FUNNEL": 4, "FAN_OUT": 5}

var weights = map[string]float64{"STRUCTURING": 25, "LAYERING": 25, "ROUND_TRIP": 30, "FUNNEL": 20, "FAN_OUT": 15}

// Params are the kernel's options with defaults applied.
type Params struct {
	Enabled        map[string]bool
	T, Near, Tol   float64
	W              int64
	MinCount, Fan  int
	MaxHops        int
	MaxSearchSteps int
}

type job struct {
	params Params
	txs    []*financev1.Transaction
}

func prepare(ctx context.Context, in *compliancev1.AmlPatternsInput) (*job, error) {
	order, err := txn.Check(ctx, "transactions", in.GetTransactions())
	if err != nil {
		return nil, err
	}
	p := Params{
		Enabled: map[string]bool{}, T: registry.Or(in.Threshold, 10_000), Near: registry.Or(in.NearFraction, 0.7),
		W: registry.Or(in.WindowSeconds, 86_400), MinCount: int(registry.Or(in.MinStructuringCount, 3)),
		Fan: int(registry.Or(in.FanDegree, 5)), MaxHops: int(registry.Or(in.MaxHops, 4)),
		Tol: registry.Or(in.AmountTolerance, 0.10), MaxSearchSteps: limits.From(ctx).MaxIterations * 16,
	}
	for _, name := range in.GetPatterns() {
		p.Enabled[name] = true
	}
	if len(p.Enabled) == 0 {
		for name := range bits {
			p.Enabled[name] = true
		}
	}
	return &job{params: p, txs: txn.Sorted(in.GetTransactions(), order)}, nil
}

// State is the fold: transactions applied in ts order, Snapshot = Batch.
type State struct {
	p     Params
	guard txn.Guard
	txs   []*financev1.Transaction // rank = position
}

// New returns an empty state.
func New(p Params) *State { return &State{p: p} }

// Apply adds one transaction.
func (s *State) Apply(tx *financev1.Transaction) error {
	if err := s.guard.Admit(tx); err != nil {
		return err
	}
	s.txs = append(s.txs, tx)
	return nil
}

type detection struct {
	pattern, anchor string
	ranks           []int
	conf            float64
}

// Snapshot runs every enabled detector over the transactions applied so
// far.
func (s *State) Snapshot(ctx context.Context) (*compliancev1.AmlPatternsOutput, error) {
	var found []detection
	p := s.p
	if p.Enabled["STRUCTURING"] {
		found = append(found, s.windows("STRUCTURING", func(tx *financev1.Transaction) (string, bool) {
			return tx.GetSourceId(), p.Near*p.T <= tx.GetAmount() && tx.GetAmount() <= p.T
		}, func(w []int) (bool, float64) {
			var sum float64
			for _, r := range w {
				sum += s.txs[r].GetAmount()
			}
			return len(w) >= p.MinCount && sum > p.T, min(1, float64(len(w))/10)
		})...)
	}
	fan := func(pattern string, anchor, other func(*financev1.Transaction) string) []detection {
		return s.windows(pattern, func(tx *financev1.Transaction) (string, bool) {
			return anchor(tx), tx.GetSourceId() != tx.GetDestId()
		}, func(w []int) (bool, float64) {
			distinct := map[string]bool{}
			for _, r := range w {
				distinct[other(s.txs[r])] = true
			}
			return len(distinct) >= p.Fan, min(1, float64(len(distinct))/20)
		})
	}
	src := func(tx *financev1.Transaction) string { return tx.GetSourceId() }
	dst := func(tx *financev1.Transaction) string { return tx.GetDestId() }
	if p.Enabled["FUNNEL"] {
		found = append(found, fan("FUNNEL", dst, src)...)
	}
	if p.Enabled["FAN_OUT"] {
		found = append(found, fan("FAN_OUT", src, dst)...)
	}
	if p.Enabled["ROUND_TRIP"] || p.Enabled["LAYERING"] {
		paths, err := s.paths(ctx)
		if err != nil {
			return nil, err
		}
		found = append(found, paths...)
	}
	return report(found, s.txs), nil
}

// report is the output of the detections found, in the order the detectors
// found them (which the risk score's sum follows), their ranks indexing
// txs.
func report(found []detection, txs []*financev1.Transaction) *compliancev1.AmlPatternsOutput {
	out := &compliancev1.AmlPatternsOutput{}
	for _, d := range found {
		out.Detections = append(out.Detections, detectionMsg(d, txs))
		out.RiskScore += d.conf * weights[d.pattern]
	}
	out.RiskScore = min(100, out.RiskScore)
	slices.SortFunc(out.Detections, func(a, b *compliancev1.AmlDetection) int {
		if c := cmp.Compare(a.StartTs, b.StartTs); c != 0 {
			return c
		}
		if c := cmp.Compare(bits[a.Pattern], bits[b.Pattern]); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Anchor, b.Anchor); c != 0 {
			return c
		}
		if c := cmp.Compare(a.EndTs, b.EndTs); c != 0 {
			return c
		}
		return slices.Compare(a.TxIds, b.TxIds)
	})
	return out
}

// detectionMsg is detection d as the output lists it.
func detectionMsg(d detection, txs []*financev1.Transaction) *compliancev1.AmlDetection {
	det := &compliancev1.AmlDetection{Pattern: d.pattern, Anchor: d.anchor, Confidence: d.conf,
		StartTs: txs[d.ranks[0]].GetTs(), EndTs: txs[d.ranks[len(d.ranks)-1]].GetTs()}
	for _, r := range d.ranks {
		tx := txs[r]
		det.TxIds = append(det.TxIds, tx.GetId())
		det.Amount += tx.GetAmount()
		for _, e := range []string{tx.GetSourceId(), tx.GetDestId()} {
			if !slices.Contains(det.Entities, e) {
				det.Entities = append(det.Entities, e)
			}
		}
	}
	slices.Sort(det.Entities)
	return det
}

// windows runs a greedy window detector: per anchor, over its relevant
// transactions in rank order, the earliest t whose window [t, t+W)
// qualifies is reported, then the scan resumes after its last
// transaction.
func (s *State) windows(pattern string, relevant func(*financev1.Transaction) (string, bool),
	qualifies func(w []int) (bool, float64)) []detection {
	byAnchor := map[string][]int{}
	var anchors []string
	for r, tx := range s.txs {
		a, ok := relevant(tx)
		if !ok {
			continue
		}
		if _, seen := byAnchor[a]; !seen {
			anchors = append(anchors, a)
		}
		byAnchor[a] = append(byAnchor[a], r)
	}
	var out []detection
	for _, a := range anchors {
		rs := byAnchor[a]
		for i := 0; i < len(rs); {
			t0 := s.txs[rs[i]].GetTs()
			end := i
			for end < len(rs) && (s.txs[rs[end]].GetTs() < t0+s.p.W || t0 > math.MaxInt64-s.p.W) {
				end++
			}
			if ok, conf := qualifies(rs[i:end]); ok {
				out = append(out, detection{pattern, a, slices.Clone(rs[i:end]), conf})
				i = end
			} else {
				i++
			}
		}
	}
	return out
}

// paths finds ROUND_TRIP and LAYERING candidates by depth-first search over
// each origin's time-respecting paths, and reports them greedily per
// origin: among the candidates whose first transaction comes after the
// last one taken, the one with the earliest (first tx, last tx, hops, tx
// sequence).
func (s *State) paths(ctx context.Context) ([]detection, error) {
	p := s.p
	out := map[string][]int{} // node -> out-transaction ranks, rank order
	for r, tx := range s.txs {
		if tx.GetSourceId() != tx.GetDestId() {
			out[tx.GetSourceId()] = append(out[tx.GetSourceId()], r)
		}
	}
	steps := 0
	var found []detection
	for _, pattern := range []string{"ROUND_TRIP", "LAYERING"} {
		if !p.Enabled[pattern] {
			continue
		}
		minHops := 2
		if pattern == "LAYERING" {
			minHops = 3
		}
		lastTaken := map[string]int{}
		for r1, e1 := range s.txs {
			if r1%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			origin := e1.GetSourceId()
			if origin == e1.GetDestId() {
				continue
			}
			if last, ok := lastTaken[origin]; ok && r1 <= last {
				continue
			}
			a1, t1 := e1.GetAmount(), e1.GetTs()
			var best []int
			path := []int{r1}
			visited := map[string]bool{origin: true, e1.GetDestId(): true}
			better := func(c []int) bool {
				if best == nil {
					return true
				}
				if c[len(c)-1] != best[len(best)-1] {
					return c[len(c)-1] < best[len(best)-1]
				}
				if len(c) != len(best) {
					return len(c) < len(best)
				}
				return slices.Compare(c, best) < 0
			}
			var dfs func(v string, t int64) error
			dfs = func(v string, t int64) error {
				hops := len(path)
				if hops >= p.MaxHops {
					return nil
				}
				rs := out[v]
				i, _ := slices.BinarySearchFunc(rs, t+1, func(r int, ts int64) int { return cmp.Compare(s.txs[r].GetTs(), ts) })
				for ; i < len(rs); i++ {
					e := s.txs[rs[i]]
					if e.GetTs()-t1 >= p.W {
						break
					}
					if steps++; steps > p.MaxSearchSteps {
						return kerr.Invalid("transactions", "the round-trip/layering path search exceeds %d steps; lower max_hops, window_seconds or amount_tolerance", p.MaxSearchSteps)
					}
					if math.Abs(e.GetAmount()-a1) > p.Tol*a1 {
						continue
					}
					d := e.GetDestId()
					path = append(path, rs[i])
					switch {
					case pattern == "ROUND_TRIP" && d == origin:
						if len(path) >= minHops && better(path) {
							best = slices.Clone(path)
						}
					case !visited[d]:
						if pattern == "LAYERING" && len(path) >= minHops && better(path) {
							best = slices.Clone(path)
						}
						visited[d] = true
						if err := dfs(d, e.GetTs()); err != nil {
							return err
						}
						delete(visited, d)
					}
					path = path[:len(path)-1]
				}
				return nil
			}
			if err := dfs(e1.GetDestId(), t1); err != nil {
				return nil, err
			}
			if best != nil {
				conf := min(1, 0.5+0.1*float64(len(best)))
				if pattern == "LAYERING" {
					conf = min(1, 0.3+0.1*float64(len(best)))
				}
				found = append(found, detection{pattern, origin, best, conf})
				lastTaken[origin] = best[len(best)-1]
			}
		}
	}
	return found, nil
}
