package conformance

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/procint/dfgconstruction"
	"github.com/gokernels/gokernels/kernels/procint/simlog"
)

func batch(t *testing.T, in *procintv1.ConformanceInput) *procintv1.ConformanceOutput {
	t.Helper()
	j, err := Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Run(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ownDFG discovers the DFG of a log with procint/dfg-construction.
func ownDFG(t *testing.T, evs []*procintv1.Event) *procintv1.DFG {
	t.Helper()
	d, err := dfgconstruction.Kernel.Prepare(context.Background(), &procintv1.DfgConstructionInput{Events: evs})
	if err != nil {
		t.Fatal(err)
	}
	out, err := dfgconstruction.Run(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	m := &procintv1.DFG{Start: out.Start, End: out.End}
	for _, e := range out.Edges {
		m.Edges = append(m.Edges, &procintv1.DFGEdge{Source: e.Source, Target: e.Target, Count: e.Count})
	}
	return m
}

// A log replayed against its own DFG has fitness 1 and precision 1.
func TestOwnDFGFitsPerfectly(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		evs := simlog.Log(seed, simlog.Options{Cases: 300, Noise: 0.5, EqualTS: 0.2})
		out := batch(t, &procintv1.ConformanceInput{Events: evs, Model: &procintv1.ConformanceInput_Dfg{Dfg: ownDFG(t, evs)}})
		if out.Log.Fitness != 1 || out.Log.Precision != 1 || out.Log.FittingTraceRatio != 1 {
			t.Fatalf("seed %d: log %v", seed, out.Log)
		}
		// Against another log's DFG, fitness drops below 1 but stays in [0,1].
		other := simlog.Log(seed+100, simlog.Options{Cases: 20})
		out = batch(t, &procintv1.ConformanceInput{Events: evs, Model: &procintv1.ConformanceInput_Dfg{Dfg: ownDFG(t, other)}})
		if out.Log.Fitness >= 1 || out.Log.Fitness < 0 || out.Log.Precision > 1 {
			t.Fatalf("seed %d: foreign model gives %v", seed, out.Log)
		}
	}
}

// processNet is the simulator's process: A; B ‖ C; D; E | F.
func processNet() *procintv1.PetriNet {
	a := simlog.Activities
	n := &procintv1.PetriNet{
		Places:         []string{"i", "p1", "p2", "p3", "p4", "p5", "o"},
		InitialMarking: []*procintv1.PlaceTokens{{Place: "i", Tokens: 1}},
		FinalMarking:   []*procintv1.PlaceTokens{{Place: "o", Tokens: 1}},
	}
	for k, l := range a[:6] {
		n.Transitions = append(n.Transitions, &procintv1.PetriTransition{Id: "t" + strconv.Itoa(k), Label: l})
	}
	for _, st := range [][2]string{{"i", "t0"}, {"t0", "p1"}, {"t0", "p2"}, {"p1", "t1"}, {"p2", "t2"}, {"t1", "p3"},
		{"t2", "p4"}, {"p3", "t3"}, {"p4", "t3"}, {"t3", "p5"}, {"p5", "t4"}, {"p5", "t5"}, {"t4", "o"}, {"t5", "o"}} {
		n.Arcs = append(n.Arcs, &procintv1.PetriArc{Source: st[0], Target: st[1]})
	}
	return n
}

// fire draws a random firing sequence from the initial to the final marking.
func fire(rng *rand.Rand, n *procintv1.PetriNet) []string {
	mk := map[string]int64{"i": 1}
	label := map[string]string{}
	for _, t := range n.Transitions {
		label[t.Id] = t.Label
	}
	var seq []string
	for mk["o"] == 0 {
		var enabled []string
		for _, tr := range n.Transitions {
			ok := true
			for _, a := range n.Arcs {
				if a.Target == tr.Id && mk[a.Source] < 1 {
					ok = false
				}
			}
			if ok {
				enabled = append(enabled, tr.Id)
			}
		}
		t := enabled[rng.IntN(len(enabled))]
		for _, a := range n.Arcs {
			if a.Target == t {
				mk[a.Source]--
			}
			if a.Source == t {
				mk[a.Target]++
			}
		}
		seq = append(seq, label[t])
	}
	return seq
}

// Firing sequences of the net that end in the final marking replay with
// fitness 1 and m = r = 0; a noisy log does not.
func TestFiringSequencesFit(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	net := processNet()
	var evs []*procintv1.Event
	for c := 0; c < 200; c++ {
		for k, a := range fire(rng, net) {
			evs = append(evs, &procintv1.Event{Id: strconv.Itoa(len(evs)), CaseId: "c" + strconv.Itoa(c), Activity: a, Ts: int64(k)})
		}
	}
	out := batch(t, &procintv1.ConformanceInput{Events: evs, Model: &procintv1.ConformanceInput_PetriNet{PetriNet: net}})
	for _, tr := range out.Traces {
		if tr.Fitness != 1 || tr.Missing != 0 || tr.Remaining != 0 || !tr.IsFit || tr.Consumed != tr.Produced {
			t.Fatalf("firing sequence %s replays as %v", tr.CaseId, tr)
		}
	}
	noisy := simlog.Log(3, simlog.Options{Cases: 200, Noise: 0.6})
	out = batch(t, &procintv1.ConformanceInput{Events: noisy, Model: &procintv1.ConformanceInput_PetriNet{PetriNet: net}})
	if out.Log.Fitness >= 1 || out.Log.Fitness <= 0 || out.Log.FittingTraceRatio >= 1 {
		t.Fatalf("noisy log: %v", out.Log)
	}
	for _, tr := range out.Traces {
		if tr.Fitness < 0 || tr.Fitness > 1 {
			t.Fatalf("fitness %g out of [0,1]", tr.Fitness)
		}
	}
}

// Replay law: applying the events in ts order and closing each case after
// its last event gives the Batch trace results; Snapshot leaves the state
// as it was; an older event is refused with the state unchanged.
func TestRingReplayLaw(t *testing.T) {
	evs := simlog.Log(11, simlog.Options{Cases: 150, Noise: 0.4, EqualTS: 0.2})
	for _, model := range []*procintv1.ConformanceInput{
		{Model: &procintv1.ConformanceInput_PetriNet{PetriNet: processNet()}},
		{Model: &procintv1.ConformanceInput_Dfg{Dfg: ownDFG(t, simlog.Log(12, simlog.Options{Cases: 30}))}},
	} {
		model.Events = evs
		want := batch(t, model)
		j, err := Prepare(context.Background(), model)
		if err != nil {
			t.Fatal(err)
		}
		events := byTS(evs)
		lastOf := map[string]int{}
		for i, e := range events {
			lastOf[e.CaseId] = i
		}
		s := j.New()
		got := map[string]*procintv1.TraceConformance{}
		for i, e := range events {
			if err := s.Apply(e.CaseId, e.Activity, e.Ts); err != nil {
				t.Fatal(err)
			}
			if i == len(events)/2 {
				mid := s.Snapshot()
				if !proto.Equal(mid, s.Snapshot()) {
					t.Fatal("Snapshot changed the state")
				}
				if err := s.Apply("zz", "x", e.Ts-1); err != ErrOutOfOrder {
					t.Fatalf("older event: %v", err)
				}
			}
			if lastOf[e.CaseId] == i {
				got[e.CaseId] = s.Close(e.CaseId)
			}
		}
		for _, tr := range want.Traces {
			if !proto.Equal(tr, got[tr.CaseId]) {
				t.Fatalf("case %s: ring %v, batch %v", tr.CaseId, got[tr.CaseId], tr)
			}
		}
		if !proto.Equal(s.Snapshot(), want) {
			t.Fatal("snapshot after closing every case differs from Batch")
		}
	}
}

// BenchmarkTokenReplay: Batch token replay of 30,000 noisy traces on the
// process net (make bench-eventlogs runs 100,000 against Python).
func BenchmarkTokenReplay(b *testing.B) {
	in := &procintv1.ConformanceInput{Events: simlog.Log(5, simlog.Options{Cases: 30_000, Noise: 0.2}),
		Model: &procintv1.ConformanceInput_PetriNet{PetriNet: processNet()}}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j, err := Prepare(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Run(ctx, j); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(in.Events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
