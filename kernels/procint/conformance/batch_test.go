package conformance

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/procint/eventlog"
)

// byTS is the events in the order the ring fold receives them.
func byTS(evs []*procintv1.Event) []*procintv1.Event {
	order := eventlog.ByTS(len(evs), func(i int) int64 { return evs[i].GetTs() })
	out := make([]*procintv1.Event, len(evs))
	for k, i := range order {
		out[k] = evs[i]
	}
	return out
}

// foldAll is the ring fold over the events in ts order, then Snapshot: the
// definition the Batch path must reproduce.
func foldAll(t *testing.T, in *procintv1.ConformanceInput) *procintv1.ConformanceOutput {
	t.Helper()
	j, err := Prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	s := j.New()
	for _, e := range byTS(in.Events) {
		if err := s.Apply(e.CaseId, e.Activity, e.Ts); err != nil {
			t.Fatal(err)
		}
	}
	return s.Snapshot()
}

var pool = []string{"a", "b", "c", "d", "e", "f", "é", "李", "zz"}

// randomLog draws cases of random activities from pool (some unknown to
// any model), with ts ties, rows shuffled.
func randomLog(rng *rand.Rand) []*procintv1.Event {
	var evs []*procintv1.Event
	cases := 1 + rng.IntN(30)
	for c := 0; c < cases; c++ {
		ts := int64(rng.IntN(50))
		for k := 1 + rng.IntN(12); k > 0; k-- {
			evs = append(evs, &procintv1.Event{Id: "e" + strconv.Itoa(len(evs)), CaseId: "c" + strconv.Itoa(rng.IntN(cases*2)),
				Activity: pool[rng.IntN(len(pool))], Ts: ts})
			ts += int64(rng.IntN(3)) - 1 // ties, and out-of-order rows
		}
	}
	rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	return evs
}

// randomNet draws a net over a subset of pool: weighted arcs, transitions
// without inputs or outputs, markings with several tokens.
func randomNet(rng *rand.Rand) *procintv1.PetriNet {
	n := &procintv1.PetriNet{}
	places := 1 + rng.IntN(6)
	for p := 0; p < places; p++ {
		n.Places = append(n.Places, "p"+strconv.Itoa(p))
	}
	for i, l := range pool[:len(pool)-1] {
		if rng.IntN(4) == 0 {
			continue
		}
		id := "t" + strconv.Itoa(i)
		n.Transitions = append(n.Transitions, &procintv1.PetriTransition{Id: id, Label: l})
		for p := 0; p < places; p++ {
			if rng.IntN(3) == 0 {
				n.Arcs = append(n.Arcs, &procintv1.PetriArc{Source: n.Places[p], Target: id, Weight: int64(rng.IntN(3))})
			}
			if rng.IntN(3) == 0 {
				n.Arcs = append(n.Arcs, &procintv1.PetriArc{Source: id, Target: n.Places[p], Weight: int64(rng.IntN(3))})
			}
		}
	}
	for p := 0; p < places; p++ {
		if rng.IntN(2) == 0 {
			n.InitialMarking = append(n.InitialMarking, &procintv1.PlaceTokens{Place: n.Places[p], Tokens: int64(rng.IntN(3))})
		}
		if rng.IntN(2) == 0 {
			n.FinalMarking = append(n.FinalMarking, &procintv1.PlaceTokens{Place: n.Places[p], Tokens: int64(rng.IntN(3))})
		}
	}
	return n
}

// randomDFG draws a DFG over pool and extra activities: duplicate edges,
// zero counts, start and end lists.
func randomDFG(rng *rand.Rand) *procintv1.DFG {
	d := &procintv1.DFG{Activities: []string{"x", "y"}}
	acts := append([]string{"x"}, pool[:len(pool)-1]...)
	for k := rng.IntN(40); k > 0; k-- {
		d.Edges = append(d.Edges, &procintv1.DFGEdge{Source: acts[rng.IntN(len(acts))], Target: acts[rng.IntN(len(acts))],
			Count: int64(rng.IntN(3))})
	}
	for k := rng.IntN(4); k > 0; k-- {
		d.Start = append(d.Start, &procintv1.ActivityCount{Activity: acts[rng.IntN(len(acts))], Count: int64(rng.IntN(2))})
		d.End = append(d.End, &procintv1.ActivityCount{Activity: acts[rng.IntN(len(acts))], Count: int64(rng.IntN(2))})
	}
	return d
}

// The Batch path (interned traces, table replay) gives the ring fold's
// Snapshot byte for byte on random logs, Petri nets and DFGs.
func TestBatchEqualsFold(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	var devs, unfit int
	for it := 0; it < 400; it++ {
		in := &procintv1.ConformanceInput{Events: randomLog(rng)}
		if it%2 == 0 {
			in.Model = &procintv1.ConformanceInput_PetriNet{PetriNet: randomNet(rng)}
		} else {
			in.Model = &procintv1.ConformanceInput_Dfg{Dfg: randomDFG(rng)}
		}
		got, want := batch(t, in), foldAll(t, in)
		gb, err := deterministic.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		wb, err := deterministic.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gb, wb) || !proto.Equal(got, want) {
			t.Fatalf("case %d: batch\n%v\nfold\n%v\ninput %v", it, got, want, in)
		}
		for _, tr := range got.Traces {
			devs += len(tr.Deviations)
			if !tr.IsFit {
				unfit++
			}
		}
	}
	if devs == 0 || unfit == 0 {
		t.Fatalf("the random cases exercised no deviations (%d) or no unfit traces (%d)", devs, unfit)
	}
}

// A cancelled context stops the Batch replay.
func TestBatchHonoursContext(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var evs []*procintv1.Event
	for c := 0; c < 5000; c++ {
		evs = append(evs, &procintv1.Event{Id: strconv.Itoa(c), CaseId: strconv.Itoa(c), Activity: pool[rng.IntN(3)], Ts: 1})
	}
	for _, in := range []*procintv1.ConformanceInput{
		{Events: evs, Model: &procintv1.ConformanceInput_PetriNet{PetriNet: processNet()}},
		{Events: evs, Model: &procintv1.ConformanceInput_Dfg{Dfg: randomDFG(rng)}},
	} {
		j, err := Prepare(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Run(ctx, j); err != context.Canceled {
			t.Fatalf("cancelled replay returned %v", err)
		}
	}
}
