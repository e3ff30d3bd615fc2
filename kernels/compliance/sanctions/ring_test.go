package sanctions

import (
	"bytes"
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
)

// TestRingUpsert: an upsert replaces a listed entry's names (a later
// Screen sees the new list, an earlier result is kept), new ids extend the
// list, a refused message changes nothing, and the state survives a
// round trip with the same answers.
func TestRingUpsert(t *testing.T) {
	ctx := context.Background()
	h := RingSpec.New()
	if err := h.Configure(ctx, &compliancev1.SanctionsScreeningInput{}); err != nil {
		t.Fatal(err)
	}
	entry := func(id, name string) *compliancev1.SanctionsEntry {
		return &compliancev1.SanctionsEntry{Id: id, Name: name}
	}
	query := func(name string) []*compliancev1.ScreeningQuery {
		return []*compliancev1.ScreeningQuery{{Name: name}}
	}
	rc := foldtest.New(ctx, 1)
	steps := []*compliancev1.SanctionsScreeningInput{
		{Entries: []*compliancev1.SanctionsEntry{entry("A", "John Smith"), entry("B", "Olga Petrova")}, Queries: query("Jon Smith")},
		{Entries: []*compliancev1.SanctionsEntry{entry("A", "Maria Garcia")}, Queries: query("Jon Smith")},
		{Entries: []*compliancev1.SanctionsEntry{entry("C", "John Smyth")}, Queries: query("Jon Smith")},
	}
	for i, m := range steps {
		if err := h.Apply(rc, m); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	// Each result equals a Batch run over the list as it was then.
	lists := [][]*compliancev1.SanctionsEntry{
		{entry("A", "John Smith"), entry("B", "Olga Petrova")},
		{entry("A", "Maria Garcia"), entry("B", "Olga Petrova")},
		{entry("A", "Maria Garcia"), entry("B", "Olga Petrova"), entry("C", "John Smyth")},
	}
	got, err := h.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	results := got.(*compliancev1.SanctionsScreeningOutput).Results
	for i, l := range lists {
		j, err := prepare(ctx, &compliancev1.SanctionsScreeningInput{Entries: l, Queries: query("Jon Smith")})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := Def.CPU(ctx, j)
		if !proto.Equal(results[i], want.Results[0]) {
			t.Fatalf("result %d: %v, want %v", i, results[i], want.Results[0])
		}
	}
	if len(results[0].Matches) == 0 || results[0].Matches[0].EntryId != "A" || len(results[1].Matches) != 0 || results[2].Matches[0].EntryId != "C" {
		t.Fatalf("upsert not seen: %v", results)
	}
	if len(rc.Events()) < 3 {
		t.Fatalf("%d events for 3 queries", len(rc.Events()))
	}
	before, _ := h.MarshalState()
	bad := []*compliancev1.SanctionsScreeningInput{
		{Entries: []*compliancev1.SanctionsEntry{entry("D", "x"), entry("D", "y")}, Queries: query("x")},
		{Entries: []*compliancev1.SanctionsEntry{entry("", "x")}},
		{MinScore: proto.Float64(0.5), Queries: query("x")},
	}
	for i, m := range bad {
		if err := h.Apply(rc, m); err == nil {
			t.Fatalf("bad message %d accepted", i)
		}
	}
	after, _ := h.MarshalState()
	if !bytes.Equal(before, after) {
		t.Fatal("a refused message changed the state")
	}
	h2 := RingSpec.New()
	if err := h2.UnmarshalState(after); err != nil {
		t.Fatal(err)
	}
	m := &compliancev1.SanctionsScreeningInput{Queries: query("John Smyth")}
	r1, r2 := foldtest.New(ctx, 1), foldtest.New(ctx, 1)
	if err := h.Apply(r1, m); err != nil {
		t.Fatal(err)
	}
	if err := h2.Apply(r2, m); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(r1.Events()[0].Msg, r2.Events()[0].Msg) || len(r1.Events()) != 2 {
		t.Fatalf("restored state answers differently: %v vs %v", r1.Events(), r2.Events())
	}
}
