package sanctions

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/limits"
)

var (
	benchFirst = []string{"Muhammad", "Mohammed", "José", "Łukasz", "Jürgen", "Zoë", "Søren", "Dmitri", "Aleksandr", "Wei", "Yusuf",
		"Ana-María", "François", "Hélène", "Ivan", "Sergei", "Nguyễn", "Björn", "Omar", "Ahmad", "Ioannis", "Kateřina"}
	benchLast = []string{"Al-Hassan", "O'Brien", "Müller", "Straße", "Ivanov", "Kovačević", "Nowak", "Smith", "Schmidt", "López",
		"Dubois", "Petrov", "Chen", "Haddad", "Jensen", "Khan", "Wójcik", "Tanaka", "Gutierrez", "Jackson"}
)

// benchInput is the shape of make bench-compliance's sanctions case:
// entries with a name of two common tokens and a random third, half with
// one alias; queries are listed names with two letters swapped.
func benchInput(entries, queries int) *compliancev1.SanctionsScreeningInput {
	rng := rand.New(rand.NewPCG(20261204, 1))
	name := func() string {
		var b strings.Builder
		for range 3 + rng.IntN(6) {
			b.WriteByte("abcdefghijklmnoprstuvy"[rng.IntN(22)])
		}
		r := b.String()
		return benchFirst[rng.IntN(len(benchFirst))] + " " + benchLast[rng.IntN(len(benchLast))] + " " + strings.ToUpper(r[:1]) + r[1:]
	}
	in := &compliancev1.SanctionsScreeningInput{}
	for i := range entries {
		e := &compliancev1.SanctionsEntry{Id: "E" + string(rune('a'+i%26)) + strings.Repeat("x", i/26%3) + itoa(i), Name: name()}
		if rng.IntN(2) == 0 {
			e.Aliases = []string{name()}
		}
		in.Entries = append(in.Entries, e)
	}
	for range queries {
		n := []rune(in.Entries[rng.IntN(entries)].Name)
		i := rng.IntN(len(n) - 1)
		n[i], n[i+1] = n[i+1], n[i]
		in.Queries = append(in.Queries, &compliancev1.ScreeningQuery{Name: string(n)})
	}
	return in
}

func itoa(i int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		if i /= 10; i == 0 {
			return string(b)
		}
	}
}

// BenchmarkScreen100k: Prepare + CPU for 50 queries against 100,000
// entries with aliases (make bench-compliance runs 1,000 queries).
func BenchmarkScreen100k(b *testing.B) {
	in := benchInput(100_000, 50)
	lim := limits.Default()
	ctx := limits.With(context.Background(), lim)
	b.ResetTimer()
	for range b.N {
		j, err := Def.Prepare(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Def.CPU(ctx, j); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRingListEdit: one ring message editing a 20,000-entry list
// (upsert of a listed id, or delete of one), against the baseline of
// preparing the whole list again (what an in-place replacement cost
// before List.Remove). Ratios, not times, are what to read.
func BenchmarkRingListEdit(b *testing.B) {
	ctx := context.Background()
	in := benchInput(20000, 0)
	b.Run("baseline-prepare-list", func(b *testing.B) {
		for b.Loop() {
			if _, err := New(ctx, Params{MinScore: 0.7}, in.Entries); err != nil {
				b.Fatal(err)
			}
		}
	})
	load := func(b *testing.B) fold.Handler {
		h := RingSpec.New()
		if err := h.Apply(foldtest.New(ctx, 1), &compliancev1.SanctionsScreeningInput{Entries: in.Entries}); err != nil {
			b.Fatal(err)
		}
		return h
	}
	b.Run("upsert-listed", func(b *testing.B) {
		h := load(b)
		i := 0
		for b.Loop() {
			e := proto.Clone(in.Entries[i%len(in.Entries)]).(*compliancev1.SanctionsEntry)
			e.Name += " Jr"
			if err := h.Apply(foldtest.New(ctx, 1), &compliancev1.SanctionsScreeningInput{Entries: []*compliancev1.SanctionsEntry{e}}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("delete-and-readd", func(b *testing.B) {
		h := load(b)
		i := 0
		for b.Loop() {
			e := in.Entries[i%len(in.Entries)]
			if err := h.Apply(foldtest.New(ctx, 1), &compliancev1.SanctionsScreeningInput{DeleteIds: []string{e.Id}}); err != nil {
				b.Fatal(err)
			}
			if err := h.Apply(foldtest.New(ctx, 1), &compliancev1.SanctionsScreeningInput{Entries: []*compliancev1.SanctionsEntry{e}}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
