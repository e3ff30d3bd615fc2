// Package simlog generates seeded synthetic event logs for tests and
// benchmarks: a process with concurrency (B ‖ C), a loop (D back to B/C), a
// choice (E | F), an optional tail (G), noise (skips, swaps, inserts),
// equal timestamps and Unicode activity names; rows are interleaved
// across cases as a real log is.
package simlog

import (
	"math/rand/v2"
	"strconv"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
)

// Activities are the simulator's activity names.
var Activities = []string{"Anmeldung", "Prüfung", "承認", "Décision", "Ende ✓", "reject", "zz-archive"}

// Options size a log.
type Options struct {
	Cases   int
	Noise   float64 // probability of each noise kind per trace
	EqualTS float64 // probability an event shares its predecessor's ts
}

// Trace draws one activity sequence of the process (without noise).
func Trace(rng *rand.Rand) []string {
	a := Activities
	t := []string{a[0]}
	for {
		if rng.IntN(2) == 0 {
			t = append(t, a[1], a[2])
		} else {
			t = append(t, a[2], a[1])
		}
		t = append(t, a[3])
		if rng.Float64() > 0.3 {
			break
		}
	}
	if rng.Float64() < 0.7 {
		t = append(t, a[4])
	} else {
		t = append(t, a[5])
	}
	if rng.Float64() < 0.5 {
		t = append(t, a[6])
	}
	return t
}

// Log generates a log of o.Cases cases from seed.
func Log(seed uint64, o Options) []*procintv1.Event {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	type row struct {
		c  int
		a  string
		ts int64
	}
	var traces [][]row
	total := 0
	for c := 0; c < o.Cases; c++ {
		acts := Trace(rng)
		if rng.Float64() < o.Noise && len(acts) > 2 {
			i := rng.IntN(len(acts))
			acts = append(acts[:i], acts[i+1:]...)
		}
		if rng.Float64() < o.Noise && len(acts) > 2 {
			i := rng.IntN(len(acts) - 1)
			acts[i], acts[i+1] = acts[i+1], acts[i]
		}
		if rng.Float64() < o.Noise {
			i := rng.IntN(len(acts) + 1)
			acts = append(acts[:i], append([]string{Activities[rng.IntN(len(Activities))]}, acts[i:]...)...)
		}
		ts := int64(1_700_000_000 + rng.IntN(86400*3))
		tr := make([]row, len(acts))
		for k, a := range acts {
			if k > 0 && rng.Float64() >= o.EqualTS {
				ts += int64(1 + rng.IntN(7200))
			}
			tr[k] = row{c, a, ts}
		}
		traces = append(traces, tr)
		total += len(tr)
	}
	// Interleave: repeatedly take the next event of a random unfinished
	// case, so each case's order is kept.
	next := make([]int, len(traces))
	live := make([]int, len(traces))
	for i := range live {
		live[i] = i
	}
	out := make([]*procintv1.Event, 0, total)
	for len(live) > 0 {
		k := rng.IntN(len(live))
		c := live[k]
		r := traces[c][next[c]]
		next[c]++
		if next[c] == len(traces[c]) {
			live[k] = live[len(live)-1]
			live = live[:len(live)-1]
		}
		out = append(out, &procintv1.Event{
			Id: "e" + strconv.Itoa(len(out)), CaseId: "case" + strconv.Itoa(r.c),
			Activity: r.a, Ts: r.ts,
		})
	}
	return out
}
