package pep

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	"github.com/gokernels/gokernels/kernels/finance/civil"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/kerr"
)

var (
	givenNames  = []string{"Vladimir", "Wladimir", "Angela", "Ángela", "Emmanuel", "Emanuel", "Xi", "Jair", "Olaf", "Ólafur"}
	familyNames = []string{"Putin", "Poutine", "Merkel", "Merkell", "Macron", "Jinping", "Bolsonaro", "Scholz", "Schölz"}
)

func randomName(r *rand.Rand) string {
	return givenNames[r.IntN(len(givenNames))] + " " + familyNames[r.IntN(len(familyNames))]
}

func randomEntry(r *rand.Rand, id string) *compliancev1.PepEntry {
	e := &compliancev1.PepEntry{Id: id, Name: randomName(r), Level: int32(1 + r.IntN(3)), Position: "pos-" + id, Country: "C", Active: r.IntN(2) == 0}
	if r.IntN(2) == 0 {
		e.Aliases = []string{randomName(r)}
	}
	if !e.Active && r.IntN(3) > 0 {
		e.LeftOfficeDate = proto.String(fmt.Sprintf("20%02d-%02d-28", 20+r.IntN(5), 1+r.IntN(12)))
	}
	return e
}

// TestRingRandomListOps: pep-screening's ring under random upserts,
// deletes, whole-list replacements and queries with their own as_of:
// every result equals Batch over the surviving list built afresh and the
// scan without the prefilter over it (the in-scope rule included); a
// delete of an unknown id is refused naming delete_ids[0] with the state
// unchanged; the reply's list_version and list_size follow a model.
func TestRingRandomListOps(t *testing.T) {
	ctx := context.Background()
	compared, inScope, deleted := 0, 0, 0
	for seed := range uint64(3) {
		r := rand.New(rand.NewPCG(seed, 5))
		h := RingSpec.New()
		if err := h.Configure(ctx, &compliancev1.PepScreeningInput{AsOf: "2024-06-30", MinScore: proto.Float64(0.75)}); err != nil {
			t.Fatal(err)
		}
		model := map[string]*compliancev1.PepEntry{}
		version := uint64(0)
		for step := range 200 {
			m := &compliancev1.PepScreeningInput{}
			switch op := r.IntN(8); {
			case op < 3:
				for range 1 + r.IntN(3) {
					id := fmt.Sprint("P", r.IntN(25))
					if !slices.ContainsFunc(m.Entries, func(e *compliancev1.PepEntry) bool { return e.Id == id }) {
						m.Entries = append(m.Entries, randomEntry(r, id))
					}
				}
			case op < 5 && len(model) > 0:
				keys := make([]string, 0, len(model))
				for id := range model {
					keys = append(keys, id)
				}
				slices.Sort(keys)
				m.DeleteIds = []string{keys[r.IntN(len(keys))]}
			case op == 5 && r.IntN(2) == 0:
				m.ReplaceList = true
				for i := range r.IntN(10) {
					m.Entries = append(m.Entries, randomEntry(r, fmt.Sprint("R", step, "-", i)))
				}
			case op == 6:
				before, _ := h.MarshalState()
				err := h.Apply(foldtest.New(ctx, 1), &compliancev1.PepScreeningInput{DeleteIds: []string{"P-none"}})
				if fe, ok := kerr.AsField(err); !ok || fe.Field != "delete_ids[0]" {
					t.Fatalf("unknown delete id: %v", err)
				}
				if after, _ := h.MarshalState(); !bytes.Equal(before, after) {
					t.Fatal("refused delete changed the state")
				}
				continue
			}
			m.Queries = []*compliancev1.PepQuery{{Name: randomName(r)}, {Name: randomName(r), AsOf: proto.String("2026-01-15")}}
			if m.ReplaceList {
				model = map[string]*compliancev1.PepEntry{}
			}
			for _, id := range m.DeleteIds {
				delete(model, id)
				deleted++
			}
			for _, e := range m.Entries {
				model[e.Id] = e
			}
			if m.ReplaceList || len(m.DeleteIds) > 0 || len(m.Entries) > 0 {
				version++
			}
			rc := foldtest.New(ctx, 1)
			if err := h.Apply(rc, m); err != nil {
				t.Fatal(err)
			}
			got := rc.Reply().(*compliancev1.PepScreeningOutput)
			if got.ListVersion != version || int(got.ListSize) != len(model) {
				t.Fatalf("seed %d step %d: version %d size %d, model %d %d", seed, step, got.ListVersion, got.ListSize, version, len(model))
			}
			keys := make([]string, 0, len(model))
			for id := range model {
				keys = append(keys, id)
			}
			slices.Sort(keys)
			list := make([]*compliancev1.PepEntry, len(keys))
			for i, k := range keys {
				list[i] = model[k]
			}
			j, err := prepare(ctx, &compliancev1.PepScreeningInput{Entries: list, Queries: m.Queries, AsOf: "2024-06-30", MinScore: proto.Float64(0.75)})
			if err != nil {
				t.Fatal(err)
			}
			want, err := Def.CPU(ctx, j)
			if err != nil {
				t.Fatal(err)
			}
			brute, err := New(ctx, Params{MinScore: 0.75, HitThreshold: 0.85, MaxMatches: 10, Lookback: 12, NoPrefilter: true}, list)
			if err != nil {
				t.Fatal(err)
			}
			for i, q := range m.Queries {
				day := "2024-06-30" // Configure's as_of
				if q.AsOf != nil {
					day = q.GetAsOf()
				}
				asOf, _ := civil.Parse(day, false)
				b := brute.Screen(q.Name, asOf)
				if !proto.Equal(got.Results[i], want.Results[i]) || !proto.Equal(got.Results[i], b) {
					t.Fatalf("seed %d step %d query %q:\nring  %s\nfresh %s\nbrute %s", seed, step, q.Name,
						prototext.Format(got.Results[i]), prototext.Format(want.Results[i]), prototext.Format(b))
				}
				compared += len(b.Matches)
				for _, mm := range b.Matches {
					if mm.InScope {
						inScope++
					}
				}
			}
		}
		s, _ := fold.State[RingState](h)
		if len(s.Entries) != len(model) {
			t.Fatalf("seed %d: state lists %d entries, model %d", seed, len(s.Entries), len(model))
		}
	}
	if compared < 300 || inScope < 100 || deleted < 50 {
		t.Fatalf("%d matches (%d in scope), %d deletes: the cases check little", compared, inScope, deleted)
	}
}
