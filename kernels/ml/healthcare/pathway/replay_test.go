package pathway

import (
	"context"
	"errors"
	"testing"

	"github.com/gokernels/gokernels/internal/fixture"
	"github.com/gokernels/gokernels/kernels/kerr"
)

func wantFieldError(t *testing.T, c fixture.Case, err error) {
	t.Helper()
	if fe, ok := kerr.AsField(err); !ok || fe.Field != c.ErrorField {
		t.Fatalf("%s: error %v, want a field error on %s", c.Name, err, c.ErrorField)
	}
}

type replayInput struct {
	NumPlaces  int        `json:"num_places"`
	Labels     []string   `json:"transitions"`
	InputArcs  [][2]int   `json:"input_arcs"`
	OutputArcs [][2]int   `json:"output_arcs"`
	Initial    []int      `json:"initial_marking"`
	Final      []int      `json:"final_marking"`
	Traces     [][]string `json:"traces"`
}

func (in replayInput) net() *Net {
	return &Net{NumPlaces: in.NumPlaces, Labels: in.Labels, InputArcs: in.InputArcs, OutputArcs: in.OutputArcs, Initial: in.Initial, Final: in.Final}
}

func TestReplayFixtures(t *testing.T) {
	for _, c := range fixture.Kernel(t, "ml", "clinical-pathway-conformance").Cases {
		var in replayInput
		fixture.Decode(t, c.Input, &in)
		res, err := Replay(context.Background(), in.net(), in.Traces)
		if c.ErrorField != "" {
			wantFieldError(t, c, err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var want struct {
			TraceFitness        []float64 `json:"trace_fitness"`
			Missing             []int     `json:"missing"`
			Consumed            []int     `json:"consumed"`
			Remaining           []int     `json:"remaining"`
			Produced            []int     `json:"produced"`
			UnknownEvents       []int     `json:"unknown_events"`
			Fits                []bool    `json:"fits"`
			LogFitness          *float64  `json:"log_fitness"`
			AverageTraceFitness *float64  `json:"average_trace_fitness"`
			FittingTraces       *float64  `json:"fitting_traces"`
		}
		fixture.Decode(t, c.ExpectRaw, &want)
		var fitness []float64
		var missing, consumed, remaining, produced, unknown, fits []int
		for _, tr := range res.Traces {
			fitness = append(fitness, tr.Fitness)
			missing = append(missing, tr.Missing)
			consumed = append(consumed, tr.Consumed)
			remaining = append(remaining, tr.Remaining)
			produced = append(produced, tr.Produced)
			unknown = append(unknown, tr.UnknownEvents)
			fits = append(fits, boolInt(tr.Fits))
		}
		rtol, atol := c.Tolerances()
		fixture.Floats(t, c.Name+".trace_fitness", fitness, want.TraceFitness, rtol, atol)
		for _, col := range []struct {
			name      string
			got, want []int
		}{{"missing", missing, want.Missing}, {"consumed", consumed, want.Consumed}, {"remaining", remaining, want.Remaining},
			{"produced", produced, want.Produced}, {"unknown_events", unknown, want.UnknownEvents}} {
			if col.want != nil {
				fixture.Ints(t, c.Name+"."+col.name, col.got, col.want)
			}
		}
		if want.Fits != nil {
			wantFits := make([]int, len(want.Fits))
			for i, f := range want.Fits {
				wantFits[i] = boolInt(f)
			}
			fixture.Ints(t, c.Name+".fits", fits, wantFits)
		}
		for _, s := range []struct {
			name string
			got  float64
			want *float64
		}{{"log_fitness", res.LogFitness, want.LogFitness}, {"average_trace_fitness", res.AverageTraceFitness, want.AverageTraceFitness},
			{"fitting_traces", res.FittingTraces, want.FittingTraces}} {
			if s.want != nil {
				fixture.Floats(t, c.Name+"."+s.name, []float64{s.got}, []float64{*s.want}, rtol, atol)
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Sequence a→b on places 0→1→2: skipping a leaves one token missing on
// place 1 and one remaining on place 0: fitness ½(1−1/2) + ½(1−1/2) = 0.5.
func TestReplayByHand(t *testing.T) {
	net := &Net{
		NumPlaces: 3, Labels: []string{"a", "b"},
		InputArcs: [][2]int{{0, 0}, {1, 1}}, OutputArcs: [][2]int{{0, 1}, {1, 2}},
		Initial: []int{1, 0, 0}, Final: []int{0, 0, 1},
	}
	res, err := Replay(context.Background(), net, [][]string{{"b"}, {"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	skip := res.Traces[0]
	if skip.Missing != 1 || skip.Remaining != 1 || skip.Consumed != 2 || skip.Produced != 2 || skip.Fitness != 0.5 || skip.Fits {
		t.Errorf("skipped step: %+v", skip)
	}
	if ok := res.Traces[1]; !ok.Fits || ok.Fitness != 1 {
		t.Errorf("conforming trace: %+v", ok)
	}
	// Log fitness from summed counts: m=1, c=5, r=1, p=5.
	if want := 0.5*(1-1.0/5) + 0.5*(1-1.0/5); res.LogFitness != want || res.FittingTraces != 0.5 {
		t.Errorf("log fitness %v (want %v), fitting %v (want 0.5)", res.LogFitness, want, res.FittingTraces)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	net := &Net{NumPlaces: 1, Labels: []string{"a"}, Initial: []int{0}, Final: []int{0}}
	if _, err := Replay(ctx, net, make([][]string, 1000)); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
