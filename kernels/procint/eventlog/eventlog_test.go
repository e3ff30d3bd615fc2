package eventlog

import (
	"context"
	"hash/maphash"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// weakHashes drive the collision path of hashgroup.go: every string
// colliding, collisions by first byte, by length.
var weakHashes = map[string]func(maphash.Seed, string) uint64{
	"maphash":  maphash.String,
	"constant": func(maphash.Seed, string) uint64 { return 42 },
	"first byte": func(_ maphash.Seed, s string) uint64 {
		if s == "" {
			return 0
		}
		return uint64(s[0]) << 56
	},
	"length": func(_ maphash.Seed, s string) uint64 { return uint64(len(s)) * 0x9e3779b97f4a7c15 },
}

func withHash(t *testing.T, h func(maphash.Seed, string) uint64) {
	t.Helper()
	old := hashString
	hashString = h
	t.Cleanup(func() { hashString = old })
}

// randomEvents draws a log: case ids of several lengths sharing prefixes
// (some longer than eight bytes, some with a NUL byte), a few heavy cases,
// ts ties and rows out of order.
func randomEvents(rng *rand.Rand, n int) []*procintv1.Event {
	cases := 1 + rng.IntN(n/3+1)
	name := func(c int) string {
		switch c % 4 {
		case 0:
			return "c" + strconv.Itoa(c)
		case 1:
			return "case-number-" + strconv.Itoa(c)
		case 2:
			return "c" + strconv.Itoa(c) + "\x00"
		}
		return "李" + strconv.Itoa(c/4)
	}
	acts := []string{"a", "b", "Prüfung", "承認", ""}
	evs := make([]*procintv1.Event, n)
	for i := range evs {
		c := rng.IntN(cases)
		if rng.IntN(3) == 0 {
			c = rng.IntN(2) // heavy cases
		}
		evs[i] = &procintv1.Event{Id: "e" + strconv.Itoa(i), CaseId: name(c), Activity: acts[rng.IntN(len(acts))],
			Ts: int64(rng.IntN(n/2 + 1))}
	}
	return evs
}

// mapBuild is the map-per-event trace builder Build replaced: the reference.
func mapBuild(events []*procintv1.Event) *Log {
	byCase := map[string][]int32{}
	actSet := map[string]bool{}
	for i, e := range events {
		byCase[e.CaseId] = append(byCase[e.CaseId], int32(i))
		actSet[e.Activity] = true
	}
	l := &Log{Events: len(events)}
	for a := range actSet {
		l.Acts = append(l.Acts, a)
	}
	sort.Strings(l.Acts)
	for c := range byCase {
		l.Cases = append(l.Cases, c)
	}
	sort.Strings(l.Cases)
	if l.Cases == nil {
		l.Cases = []string{}
	}
	l.Traces, l.TS, l.Index = [][]int32{}, [][]int64{}, [][]int32{}
	for _, c := range l.Cases {
		idx := slices.Clone(byCase[c])
		sort.SliceStable(idx, func(a, b int) bool { return events[idx[a]].Ts < events[idx[b]].Ts })
		var tr []int32
		var ts []int64
		for _, i := range idx {
			a, _ := slices.BinarySearch(l.Acts, events[i].Activity)
			tr = append(tr, int32(a))
			ts = append(ts, events[i].Ts)
		}
		l.Traces, l.TS, l.Index = append(l.Traces, tr), append(l.TS, ts), append(l.Index, idx)
	}
	return l
}

// Build equals the map-based reference on random logs, with the real hash
// and with hashes that collide on purpose.
func TestBuildEqualsMapReference(t *testing.T) {
	for name, h := range weakHashes {
		t.Run(name, func(t *testing.T) {
			withHash(t, h)
			rng := rand.New(rand.NewPCG(1, uint64(len(name))))
			for it := 0; it < 60; it++ {
				n := rng.IntN(300)
				if it == 0 {
					n = 0
				}
				if it%10 == 9 {
					n = 3000 // bucket sort, crowded buckets, traces longer than the insertion-sort limit
				}
				evs := randomEvents(rng, n)
				got, err := Build(context.Background(), evs)
				if err != nil {
					t.Fatal(err)
				}
				want := mapBuild(evs)
				if !reflect.DeepEqual(got.Acts, want.Acts) && len(got.Acts)+len(want.Acts) > 0 {
					t.Fatalf("n=%d: acts %q, want %q", n, got.Acts, want.Acts)
				}
				if !reflect.DeepEqual(got.Cases, want.Cases) || !reflect.DeepEqual(got.Traces, want.Traces) ||
					!reflect.DeepEqual(got.TS, want.TS) || !reflect.DeepEqual(got.Index, want.Index) || got.Events != n {
					t.Fatalf("n=%d: Build differs from the map reference", n)
				}
			}
		})
	}
}

// mapFirstDup is the first index whose id appeared before, or -1.
func mapFirstDup(events []*procintv1.Event) int {
	seen := map[string]bool{}
	for i, e := range events {
		if seen[e.Id] {
			return i
		}
		seen[e.Id] = true
	}
	return -1
}

// Check names the first repeated id exactly where an in-order scan finds
// it, and reports an earlier reserved activity first.
func TestCheckFirstDuplicate(t *testing.T) {
	for name, h := range weakHashes {
		t.Run(name, func(t *testing.T) {
			withHash(t, h)
			rng := rand.New(rand.NewPCG(2, uint64(len(name))))
			dups := 0
			for it := 0; it < 200; it++ {
				n := 1 + rng.IntN(400)
				evs := randomEvents(rng, n)
				for k := rng.IntN(4); k > 0; k-- { // repeat a few ids
					evs[rng.IntN(n)].Id = evs[rng.IntN(n)].Id
				}
				want := mapFirstDup(evs)
				err := Check(context.Background(), "events", evs)
				if want < 0 {
					if err != nil {
						t.Fatalf("no repeated id, got %v", err)
					}
					continue
				}
				dups++
				fe, ok := kerr.AsField(err)
				if !ok || fe.Field != "events["+strconv.Itoa(want)+"].id" || !strings.Contains(err.Error(), strconv.Quote(evs[want].Id)) {
					t.Fatalf("first repeat at %d (%q), got %v", want, evs[want].Id, err)
				}
				if want > 0 { // a reserved activity before it is reported instead
					evs[want-1].Activity = End
					fe, ok := kerr.AsField(Check(context.Background(), "events", evs))
					if !ok || fe.Field != "events["+strconv.Itoa(want-1)+"].activity" {
						t.Fatalf("reserved activity at %d not reported first: %v", want-1, fe)
					}
				}
			}
			if dups < 100 {
				t.Fatalf("only %d logs had a repeated id", dups)
			}
		})
	}
}
