package monitoring

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestEntIndex: get/lookup/drop agree with a map through many departures
// (the table is compacted several times), and a compaction keeps each
// live entity's state and name.
func TestEntIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	x := entIndex{rules: 2, groups: 3}
	want := map[string]*entity{}
	compactions, lastLen := 0, 0
	for k := range 200_000 {
		// Names of one epoch at a time, most dropped soon after: the
		// departed names pile up and force compactions.
		name := fmt.Sprint("acct-", rng.IntN(5000), "-", k/5_000)
		if e, ok := want[name]; ok && rng.IntN(10) != 0 {
			x.drop(e)
			delete(want, name)
		} else {
			e := x.get(name)
			if ok && e != want[name] {
				t.Fatalf("get(%q) returned a different state", name)
			}
			if len(e.fires) != 2 || len(e.wins) != 3 {
				t.Fatalf("new entity has %d rule and %d group states", len(e.fires), len(e.wins))
			}
			want[name] = e
		}
		if k%5_000 == 4_999 { // the epoch's names leave
			for name, e := range want {
				if rng.IntN(50) != 0 {
					x.drop(e)
					delete(want, name)
				}
			}
		}
		if len(x.ents) < lastLen {
			compactions++
		}
		lastLen = len(x.ents)
	}
	if x.live != len(want) || compactions == 0 {
		t.Fatalf("live %d, want %d; %d compactions", x.live, len(want), compactions)
	}
	for name, e := range want {
		if x.lookup(name) != e || x.name(e) != name {
			t.Fatalf("lookup(%q) lost its state after compaction", name)
		}
	}
	n := 0
	x.each(func(name string, e *entity) {
		n++
		if want[name] != e {
			t.Fatalf("each: %q has the wrong state", name)
		}
	})
	if n != len(want) || x.lookup("never") != nil {
		t.Fatalf("each visited %d of %d", n, len(want))
	}
}
