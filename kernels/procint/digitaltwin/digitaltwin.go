// Package digitaltwin is procint/digital-twin: a seeded discrete-event
// simulation of a process (routing by transition probabilities, FIFO
// resource pools, five service-time distributions) with cycle-time, WIP,
// utilisation and bottleneck KPIs over R replications. The rules for
// simultaneous events are fixed (proto comment of DigitalTwinInput), so
// the deterministic mode equals a Python heapq simulation event by event
// and stochastic runs are checked against Erlang C and Little's law.
package digitaltwin

import (
	"context"
	"errors"

	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Job is the validated model with the replication settings.
type Job struct {
	Model        Model
	Replications int
	Seed         uint64
	Empty        bool // no activities: the empty result
}

// DefaultMaxEvents is max_events' default.
const DefaultMaxEvents = 1_000_000

// Kernel is procint/digital-twin.
var Kernel = registry.Def[*procintv1.DigitalTwinInput, *procintv1.DigitalTwinOutput, *Job]{
	Meta: registry.Meta{
		ID:     "procint/digital-twin",
		Domain: registry.DomainProcInt,
		Description: "Discrete-event process simulation (Law & Kelton): probabilistic routing, FIFO resource pools, " +
			"five duration laws, seeded replications; cycle time, WIP (time average and Little's law), utilisation, " +
			"bottleneck (deterministic mode equals a Python heapq simulation; stochastic mode checked against Erlang C).",
	},
	Prepare: prepare,
	CPU:     Run,
	Estimate: func(in *procintv1.DigitalTwinInput) registry.Cost {
		r := float64(registry.Or(in.Replications, 1))
		ev := float64(registry.Or(in.MaxEvents, DefaultMaxEvents))
		if in.ArrivalRate != nil {
			ev = math.Min(ev, in.GetArrivalRate()*in.GetHorizon()*float64(len(in.GetActivities())+1))
		} else {
			ev = math.Min(ev, float64(len(in.GetArrivalTimes())*(len(in.GetActivities())+1)))
		}
		if !(ev >= 0) {
			ev = 0
		}
		out := int64(256*r) + int64(64*len(in.GetActivities()))
		if in.GetReturnTraces() {
			out += int64(ev * r * 64)
		}
		return registry.Cost{WorkingBytes: int64(ev*48) + out, OutputBytes: out, Work: ev * r}
	},
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func prepare(ctx context.Context, in *procintv1.DigitalTwinInput) (*Job, error) {
	lim := limits.From(ctx)
	j := &Job{Replications: int(registry.Or(in.Replications, 1)), Seed: in.GetSeed()}
	if j.Replications < 1 || j.Replications > 1000 {
		return nil, kerr.Invalid("replications", "must be in [1, 1000], got %d", j.Replications)
	}
	maxEv := registry.Or(in.MaxEvents, DefaultMaxEvents)
	if maxEv < 1 || maxEv > int64(lim.MaxIterations) {
		return nil, kerr.Invalid("max_events", "must be in [1, %d] (the server's iteration limit), got %d", lim.MaxIterations, maxEv)
	}
	if len(in.GetActivities()) == 0 {
		if len(in.GetPools()) > 0 || len(in.GetTransitions()) > 0 || in.GetStart() != "" {
			return nil, kerr.Invalid("activities", "is empty while pools, transitions or start are given")
		}
		j.Empty = true
		return j, nil
	}
	if err := limits.Check("activities", len(in.GetActivities()), lim.MaxNodes); err != nil {
		return nil, err
	}
	if err := limits.Check("pools", len(in.GetPools()), lim.MaxNodes); err != nil {
		return nil, err
	}
	if err := limits.Check("transitions", len(in.GetTransitions()), lim.MaxEdges); err != nil {
		return nil, err
	}
	m := &j.Model
	m.MaxEvents = maxEv
	m.Traces = in.GetReturnTraces()

	// Pools, by name.
	poolIdx := map[string]int{}
	pools := in.GetPools()
	order := make([]int, len(pools))
	for i, p := range pools {
		at := "pools[" + strconv.Itoa(i) + "]"
		if p.GetName() == "" {
			return nil, kerr.Invalid(at+".name", "must not be empty")
		}
		if _, dup := poolIdx[p.GetName()]; dup {
			return nil, kerr.Invalid(at+".name", "duplicate pool %q", p.GetName())
		}
		if p.GetCapacity() < 1 || p.GetCapacity() > 1_000_000 {
			return nil, kerr.Invalid(at+".capacity", "must be in [1, 1000000], got %d", p.GetCapacity())
		}
		poolIdx[p.GetName()] = i
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return pools[order[a]].GetName() < pools[order[b]].GetName() })
	poolCode := make([]int, len(pools))
	for code, i := range order {
		poolCode[i] = code
		m.Pools = append(m.Pools, Pool{Name: pools[i].GetName(), Capacity: int(pools[i].GetCapacity())})
	}

	// Activities, by name.
	acts := in.GetActivities()
	actIdx := map[string]int{}
	aorder := make([]int, len(acts))
	for i, a := range acts {
		at := "activities[" + strconv.Itoa(i) + "]"
		if a.GetName() == "" {
			return nil, kerr.Invalid(at+".name", "must not be empty")
		}
		if _, dup := actIdx[a.GetName()]; dup {
			return nil, kerr.Invalid(at+".name", "duplicate activity %q", a.GetName())
		}
		actIdx[a.GetName()] = i
		aorder[i] = i
		if _, ok := poolIdx[a.GetPool()]; !ok {
			return nil, kerr.Invalid(at+".pool", "unknown pool %q", a.GetPool())
		}
		if err := checkDist(at+".duration", a.GetDuration()); err != nil {
			return nil, err
		}
	}
	sort.Slice(aorder, func(a, b int) bool { return acts[aorder[a]].GetName() < acts[aorder[b]].GetName() })
	actCode := make([]int, len(acts))
	for code, i := range aorder {
		actCode[i] = code
		a := acts[i]
		d := a.GetDuration()
		m.Acts = append(m.Acts, Activity{Name: a.GetName(), Pool: poolCode[poolIdx[a.GetPool()]], Dur: Dist{
			Kind: d.GetKind(), Value: d.GetValue(), Low: d.GetLow(), High: d.GetHigh(),
			Mode: d.GetMode(), Mean: d.GetMean(), Std: d.GetStd(),
		}})
	}
	start, ok := actIdx[in.GetStart()]
	if !ok {
		return nil, kerr.Invalid("start", "unknown activity %q", in.GetStart())
	}
	m.Start = actCode[start]

	// Routing.
	seen := map[[2]int]bool{}
	sum := make([]float64, len(acts))
	first := make([]int, len(acts))
	for i := range first {
		first[i] = -1
	}
	for i, tr := range in.GetTransitions() {
		at := "transitions[" + strconv.Itoa(i) + "]"
		s, ok := actIdx[tr.GetSource()]
		if !ok {
			return nil, kerr.Invalid(at+".source", "unknown activity %q", tr.GetSource())
		}
		t, ok := actIdx[tr.GetTarget()]
		if !ok {
			return nil, kerr.Invalid(at+".target", "unknown activity %q", tr.GetTarget())
		}
		p := tr.GetProbability()
		if !finite(p) || p < 0 || p > 1 {
			return nil, kerr.Invalid(at+".probability", "must be in [0, 1], got %v", p)
		}
		key := [2]int{s, t}
		if seen[key] {
			return nil, kerr.Invalid(at, "duplicate transition %q → %q", tr.GetSource(), tr.GetTarget())
		}
		seen[key] = true
		if first[s] < 0 {
			first[s] = i
		}
		sum[s] += p
		m.Acts[actCode[s]].Routes = append(m.Acts[actCode[s]].Routes, Route{Target: actCode[t], P: p})
	}
	for s := range acts {
		if first[s] >= 0 && math.Abs(sum[s]-1) > 1e-9 {
			return nil, kerr.Invalid("transitions["+strconv.Itoa(first[s])+"].probability",
				"the probabilities out of %q sum to %v, want 1", acts[s].GetName(), sum[s])
		}
	}
	for i := range m.Acts {
		slices.SortFunc(m.Acts[i].Routes, func(a, b Route) int { return a.Target - b.Target })
	}

	// Run control.
	m.Horizon = in.GetHorizon()
	if !finite(m.Horizon) || m.Horizon <= 0 {
		return nil, kerr.Invalid("horizon", "must be finite and > 0, got %v", m.Horizon)
	}
	m.Warmup = in.GetWarmup()
	if !finite(m.Warmup) || m.Warmup < 0 || m.Warmup >= m.Horizon {
		return nil, kerr.Invalid("warmup", "must be in [0, horizon), got %v", m.Warmup)
	}
	switch {
	case in.ArrivalRate != nil && len(in.GetArrivalTimes()) > 0:
		return nil, kerr.Invalid("arrival_times", "give either arrival_rate or arrival_times, not both")
	case in.ArrivalRate != nil:
		m.Rate = in.GetArrivalRate()
		if !finite(m.Rate) || m.Rate <= 0 {
			return nil, kerr.Invalid("arrival_rate", "must be finite and > 0, got %v", m.Rate)
		}
		if m.Rate*m.Horizon > float64(maxEv) {
			return nil, kerr.Invalid("arrival_rate", "arrival_rate × horizon = %g expected arrivals exceeds max_events %d", m.Rate*m.Horizon, maxEv)
		}
	default:
		ts := in.GetArrivalTimes()
		if err := limits.Check("arrival_times", len(ts), lim.MaxSamples); err != nil {
			return nil, err
		}
		for i, t := range ts {
			if !finite(t) || t < 0 {
				return nil, kerr.Invalid("arrival_times["+strconv.Itoa(i)+"]", "must be finite and >= 0, got %v", t)
			}
		}
		m.Arrivals = slices.Clone(ts)
		slices.SortStableFunc(m.Arrivals, func(a, b float64) int {
			switch {
			case a < b:
				return -1
			case a > b:
				return 1
			}
			return 0
		})
	}
	return j, nil
}

func checkDist(field string, d *procintv1.TwinDuration) error {
	if d == nil {
		return kerr.Invalid(field, "is required")
	}
	vals := []struct {
		name string
		v    float64
	}{{"value", d.GetValue()}, {"low", d.GetLow()}, {"high", d.GetHigh()}, {"mode", d.GetMode()}, {"mean", d.GetMean()}, {"std", d.GetStd()}}
	used := map[string][]string{
		Constant:    {"value"},
		Uniform:     {"low", "high"},
		Normal:      {"mean", "std"},
		Exponential: {"mean"},
		Triangular:  {"low", "mode", "high"},
	}
	u, ok := used[d.GetKind()]
	if !ok {
		return kerr.Invalid(field+".kind", "must be CONSTANT, UNIFORM, NORMAL, EXPONENTIAL or TRIANGULAR, got %q", d.GetKind())
	}
	for _, x := range vals {
		if !finite(x.v) || x.v < 0 {
			return kerr.Invalid(field+"."+x.name, "must be finite and >= 0, got %v", x.v)
		}
		if x.v != 0 && !slices.Contains(u, x.name) {
			return kerr.Invalid(field+"."+x.name, "is not a parameter of %s", d.GetKind())
		}
	}
	switch d.GetKind() {
	case Uniform:
		if d.GetLow() > d.GetHigh() {
			return kerr.Invalid(field+".high", "must be >= low")
		}
	case Triangular:
		if d.GetLow() > d.GetMode() || d.GetMode() > d.GetHigh() {
			return kerr.Invalid(field+".mode", "needs low <= mode <= high")
		}
	case Exponential:
		if d.GetMean() <= 0 {
			return kerr.Invalid(field+".mean", "must be > 0")
		}
	}
	return nil
}

// Run simulates the replications and computes the KPIs.
func Run(ctx context.Context, j *Job) (*procintv1.DigitalTwinOutput, error) {
	out := &procintv1.DigitalTwinOutput{Summary: &procintv1.TwinSummary{}}
	if j.Empty {
		return out, nil
	}
	m := &j.Model
	lim := limits.From(ctx)
	var items int
	for r := 0; r < j.Replications; r++ {
		rng := rand.New(rand.NewPCG(j.Seed, uint64(r)))
		run, err := m.Simulate(ctx, rng)
		var tooMany ErrTooManyEvents
		if errors.As(err, &tooMany) {
			return nil, kerr.Invalid("max_events", "replication %d needed more than %d events (arrivals plus services started); raise max_events or shorten the horizon", r, tooMany.Max)
		}
		if err != nil {
			return nil, err
		}
		items += len(run.Services)
		if items > lim.MaxOutputItems {
			return nil, kerr.Invalid("return_traces", "the service list exceeds the output limit of %d items", lim.MaxOutputItems)
		}
		out.Replications = append(out.Replications, m.kpis(r, run))
	}
	out.Summary = summarise(out.Replications)
	return out, nil
}

func (m *Model) kpis(r int, run *Replica) *procintv1.TwinReplication {
	rep := &procintv1.TwinReplication{
		Replication: int32(r),
		Arrived:     run.Arrived,
		Completed:   int64(len(run.Cycle)),
		CycleTime:   Stats(run.Cycle),
	}
	span := m.Horizon - m.Warmup
	rep.Throughput = float64(len(run.Cycle)) / span
	rep.WipTimeAverage = run.WIPArea / span
	rep.WipLittle = rep.Throughput * rep.CycleTime.GetMean()
	var bestWait float64
	for a, act := range m.Acts {
		s := &procintv1.TwinActivityStats{Activity: act.Name, Count: run.ActCount[a], TotalWait: run.ActWait[a]}
		if run.ActCount[a] > 0 {
			s.MeanWait = run.ActWait[a] / float64(run.ActCount[a])
		}
		if run.ActServed[a] > 0 {
			s.MeanService = run.ActService[a] / float64(run.ActServed[a])
		}
		if s.TotalWait > bestWait { // names ascend: the first maximum is the lowest name
			bestWait, rep.Bottleneck = s.TotalWait, act.Name
		}
		rep.Activities = append(rep.Activities, s)
	}
	for p, pool := range m.Pools {
		rep.Pools = append(rep.Pools, &procintv1.TwinPoolStats{
			Pool: pool.Name, Capacity: int32(pool.Capacity),
			Utilisation: run.PoolBusy[p] / (float64(pool.Capacity) * m.Horizon),
		})
	}
	for _, s := range run.Services {
		rep.Services = append(rep.Services, &procintv1.TwinService{
			Case: s.Case, Activity: m.Acts[s.Act].Name, Pool: m.Pools[m.Acts[s.Act].Pool].Name,
			Enqueue: s.Enqueue, Start: s.Start, End: s.End,
		})
	}
	return rep
}

// Stats summarises a sample: mean, std (ddof 1) and numpy-linear
// percentiles; all zero for an empty sample.
func Stats(x []float64) *procintv1.TwinStats {
	st := &procintv1.TwinStats{}
	n := len(x)
	if n == 0 {
		return st
	}
	s := slices.Clone(x)
	slices.Sort(s)
	var sum float64
	for _, v := range s {
		sum += v
	}
	st.Mean = sum / float64(n)
	if n > 1 {
		var ss float64
		for _, v := range s {
			ss += (v - st.Mean) * (v - st.Mean)
		}
		st.Std = math.Sqrt(ss / float64(n-1))
	}
	st.P50, st.P90, st.P95, st.P99 = Percentile(s, 50), Percentile(s, 90), Percentile(s, 95), Percentile(s, 99)
	return st
}

// Percentile is numpy.percentile(s, q) with linear interpolation on a
// sorted sample.
func Percentile(s []float64, q float64) float64 {
	pos := q / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	f := pos - float64(lo)
	return s[lo] + (s[hi]-s[lo])*f
}

// estimate is the mean of xs and its standard error.
func estimate(xs []float64) *procintv1.TwinEstimate {
	e := &procintv1.TwinEstimate{}
	n := len(xs)
	if n == 0 {
		return e
	}
	var sum float64
	for _, v := range xs {
		sum += v
	}
	e.Mean = sum / float64(n)
	if n > 1 {
		var ss float64
		for _, v := range xs {
			ss += (v - e.Mean) * (v - e.Mean)
		}
		e.StdError = math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n))
	}
	return e
}

func summarise(reps []*procintv1.TwinReplication) *procintv1.TwinSummary {
	s := &procintv1.TwinSummary{Replications: int32(len(reps))}
	col := func(f func(*procintv1.TwinReplication) float64) *procintv1.TwinEstimate {
		xs := make([]float64, len(reps))
		for i, r := range reps {
			xs[i] = f(r)
		}
		return estimate(xs)
	}
	s.CycleTimeMean = col(func(r *procintv1.TwinReplication) float64 { return r.GetCycleTime().GetMean() })
	s.Throughput = col(func(r *procintv1.TwinReplication) float64 { return r.GetThroughput() })
	s.WipTimeAverage = col(func(r *procintv1.TwinReplication) float64 { return r.GetWipTimeAverage() })
	s.WipLittle = col(func(r *procintv1.TwinReplication) float64 { return r.GetWipLittle() })
	if len(reps) == 0 {
		return s
	}
	for a, act := range reps[0].GetActivities() {
		var xs []float64
		for _, r := range reps {
			if r.GetActivities()[a].GetCount() > 0 { // replications that served it
				xs = append(xs, r.GetActivities()[a].GetMeanWait())
			}
		}
		s.Activities = append(s.Activities, &procintv1.TwinActivityEstimate{Activity: act.GetActivity(), MeanWait: estimate(xs)})
	}
	for p, pool := range reps[0].GetPools() {
		s.Pools = append(s.Pools, &procintv1.TwinPoolEstimate{Pool: pool.GetPool(),
			Utilisation: col(func(r *procintv1.TwinReplication) float64 { return r.GetPools()[p].GetUtilisation() })})
	}
	return s
}
