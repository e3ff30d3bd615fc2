// Package pathway checks how well recorded patient journeys conform to a
// clinical pathway modelled as a Petri net, by token-based replay fitness
// (Rozinat & van der Aalst, "Conformance checking of processes based on
// monitoring real behavior", Information Systems 33(1), 2008).
package pathway

import (
	"context"
	"fmt"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Net is a labelled Petri net: every transition has a distinct, non-empty
// activity label (no silent transitions). An arc listed k times carries k
// tokens.
type Net struct {
	NumPlaces    int
	Labels       []string // per transition
	InputArcs    [][2]int // (place, transition): the transition consumes from the place
	OutputArcs   [][2]int // (transition, place): the transition produces into the place
	Initial      []int    // tokens per place at the start
	Final        []int    // tokens per place a completed case must end with
	inputs       [][]int  // per transition, places consumed (with repeats)
	outputs      [][]int  // per transition, places produced into
	labelToIndex map[string]int
}

// TraceResult is the replay of one trace.
type TraceResult struct {
	Produced, Consumed, Missing, Remaining int
	UnknownEvents                          int     // events whose activity is no transition label (skipped)
	Fitness                                float64 // ½(1 − m/c) + ½(1 − r/p)
	Fits                                   bool    // replayed without missing or remaining tokens
}

// Result is the replay of a log.
type Result struct {
	Traces []TraceResult
	// LogFitness is Rozinat–van der Aalst's log-level fitness, computed from
	// the token counts summed over all traces.
	LogFitness float64
	// AverageTraceFitness is the mean of the traces' fitness.
	AverageTraceFitness float64
	// FittingTraces is the fraction of traces that fit.
	FittingTraces float64
}

// prepare validates the net (naming request fields) and indexes its arcs.
func (n *Net) prepare() error {
	if n.NumPlaces <= 0 {
		return kerr.Invalid("num_places", "must be positive, got %d", n.NumPlaces)
	}
	if len(n.Labels) == 0 {
		return kerr.Invalid("transitions", "the net needs at least one transition")
	}
	n.labelToIndex = make(map[string]int, len(n.Labels))
	for t, l := range n.Labels {
		if l == "" {
			return kerr.Invalid(fmt.Sprintf("transitions[%d]", t), "labels must be non-empty (silent transitions are not supported)")
		}
		if _, dup := n.labelToIndex[l]; dup {
			return kerr.Invalid(fmt.Sprintf("transitions[%d]", t), "label %q is used twice", l)
		}
		n.labelToIndex[l] = t
	}
	nt := len(n.Labels)
	n.inputs = make([][]int, nt)
	n.outputs = make([][]int, nt)
	for k, a := range n.InputArcs {
		if a[0] < 0 || a[0] >= n.NumPlaces || a[1] < 0 || a[1] >= nt {
			return kerr.Invalid(fmt.Sprintf("input_arcs[%d]", k), "needs a place in [0, %d) and a transition in [0, %d)", n.NumPlaces, nt)
		}
		n.inputs[a[1]] = append(n.inputs[a[1]], a[0])
	}
	for k, a := range n.OutputArcs {
		if a[0] < 0 || a[0] >= nt || a[1] < 0 || a[1] >= n.NumPlaces {
			return kerr.Invalid(fmt.Sprintf("output_arcs[%d]", k), "needs a transition in [0, %d) and a place in [0, %d)", nt, n.NumPlaces)
		}
		n.outputs[a[0]] = append(n.outputs[a[0]], a[1])
	}
	for _, m := range []struct {
		name   string
		tokens []int
	}{{"initial_marking", n.Initial}, {"final_marking", n.Final}} {
		if len(m.tokens) != n.NumPlaces {
			return kerr.Invalid(m.name, "has %d values, want num_places = %d", len(m.tokens), n.NumPlaces)
		}
		for p, v := range m.tokens {
			if v < 0 {
				return kerr.Invalid(fmt.Sprintf("%s[%d]", m.name, p), "token counts must not be negative")
			}
		}
	}
	return nil
}

// Replay replays every trace (a sequence of activity labels) on the net.
//
// Replay starts from the initial marking, whose tokens count as produced.
// For each event the transition with that label fires: a token missing on
// an input place is created and counted as missing, then the inputs are
// consumed and the outputs produced. Events whose activity is not in the net
// are skipped and counted. At the end the final marking is consumed (its
// missing tokens counted too) and whatever is left counts as remaining. A
// trace's fitness is ½(1 − missing/consumed) + ½(1 − remaining/produced),
// each half taken as 1 when its denominator is 0. Traces replay in parallel.
func Replay(ctx context.Context, net *Net, traces [][]string) (*Result, error) {
	if err := net.prepare(); err != nil {
		return nil, err
	}
	res := &Result{Traces: make([]TraceResult, len(traces))}
	const batch = 256
	err := par.For(ctx, len(traces), batch, func(_, lo, hi int) error {
		marking := make([]int, net.NumPlaces)
		for i := lo; i < hi; i++ {
			res.Traces[i] = net.replay(traces[i], marking)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var p, c, m, r, fitting int
	for _, t := range res.Traces {
		p += t.Produced
		c += t.Consumed
		m += t.Missing
		r += t.Remaining
		res.AverageTraceFitness += t.Fitness
		if t.Fits {
			fitting++
		}
	}
	if n := len(traces); n > 0 {
		res.AverageTraceFitness /= float64(n)
		res.FittingTraces = float64(fitting) / float64(n)
		res.LogFitness = fitness(m, c, r, p)
	}
	return res, nil
}

func (n *Net) replay(trace []string, marking []int) TraceResult {
	var tr TraceResult
	copy(marking, n.Initial)
	for _, v := range n.Initial {
		tr.Produced += v
	}
	take := func(place int) {
		if marking[place] == 0 {
			tr.Missing++
			marking[place]++
		}
		marking[place]--
		tr.Consumed++
	}
	for _, activity := range trace {
		t, ok := n.labelToIndex[activity]
		if !ok {
			tr.UnknownEvents++
			continue
		}
		// Each arc takes one token in turn, so a transition with two arcs
		// from one place needs two tokens there.
		for _, place := range n.inputs[t] {
			take(place)
		}
		for _, place := range n.outputs[t] {
			marking[place]++
			tr.Produced++
		}
	}
	for place, want := range n.Final {
		if short := want - marking[place]; short > 0 {
			tr.Missing += short
			marking[place] = want
		}
		marking[place] -= want
		tr.Consumed += want
	}
	for _, v := range marking {
		tr.Remaining += v
	}
	tr.Fitness = fitness(tr.Missing, tr.Consumed, tr.Remaining, tr.Produced)
	tr.Fits = tr.Missing == 0 && tr.Remaining == 0
	return tr
}

func fitness(missing, consumed, remaining, produced int) float64 {
	f := 1.0
	if consumed > 0 {
		f -= 0.5 * float64(missing) / float64(consumed)
	}
	if produced > 0 {
		f -= 0.5 * float64(remaining) / float64(produced)
	}
	return f
}
