package sanctions

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	compliancev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/compliance/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/fold/foldtest"
	"github.com/gokernels/gokernels/kernels/kerr"
)

type input = compliancev1.SanctionsScreeningInput

func entry(id, name string, aliases ...string) *compliancev1.SanctionsEntry {
	return &compliancev1.SanctionsEntry{Id: id, Name: name, Aliases: aliases, Source: "src-" + id, Program: "p"}
}

func queries(names ...string) []*compliancev1.ScreeningQuery {
	out := make([]*compliancev1.ScreeningQuery, len(names))
	for i, n := range names {
		out[i] = &compliancev1.ScreeningQuery{Name: n}
	}
	return out
}

// reply applies m and returns the ring's reply.
func reply(t *testing.T, h fold.Handler, m *input) *compliancev1.SanctionsScreeningOutput {
	t.Helper()
	rc := foldtest.New(context.Background(), 1)
	if err := h.Apply(rc, m); err != nil {
		t.Fatalf("%v: %v", m, err)
	}
	out, ok := rc.Reply().(*compliancev1.SanctionsScreeningOutput)
	if !ok {
		t.Fatalf("%v: reply %T", m, rc.Reply())
	}
	return out
}

// refused applies m, wants an error (a field error naming field, or, for
// field "", a plain one naming expected_version) and an unchanged state.
func refused(t *testing.T, h fold.Handler, m *input, field string) {
	t.Helper()
	before, _ := h.MarshalState()
	err := h.Apply(foldtest.New(context.Background(), 1), m)
	fe, isField := kerr.AsField(err)
	switch {
	case err == nil:
		t.Fatalf("%v accepted", m)
	case field != "" && (!isField || fe.Field != field):
		t.Fatalf("%v: error %v, want one naming %s", m, err, field)
	case field == "" && (isField || !strings.HasPrefix(err.Error(), "expected_version: ")):
		t.Fatalf("%v: error %v, want a precondition error naming expected_version", m, err)
	}
	after, _ := h.MarshalState()
	if !bytes.Equal(before, after) {
		t.Fatalf("refused %v changed the state", m)
	}
}

func ids(r *compliancev1.SanctionsResult) []string {
	var out []string
	for _, m := range r.Matches {
		out = append(out, m.EntryId)
	}
	return out
}

// TestRingListManagement: delete by id, replace the whole list and the
// version's compare-and-set, with their refusals (state unchanged), the
// version and size in every reply and in Snapshot, and queries that see
// the list as of their message.
func TestRingListManagement(t *testing.T) {
	ctx := context.Background()
	h := RingSpec.New()
	if err := h.Configure(ctx, &input{}); err != nil {
		t.Fatal(err)
	}
	r := reply(t, h, &input{Entries: []*compliancev1.SanctionsEntry{entry("A", "John Smith"), entry("B", "Olga Petrova"), entry("C", "Jon Smyth", "Johnny Smith")}})
	if r.ListVersion != 1 || r.ListSize != 3 || len(r.Results) != 0 {
		t.Fatalf("load reply %v", r)
	}
	refused(t, h, &input{DeleteIds: []string{"X"}}, "delete_ids[0]")
	refused(t, h, &input{DeleteIds: []string{"A", "A"}}, "delete_ids[1]")
	refused(t, h, &input{DeleteIds: []string{""}}, "delete_ids[0]")
	refused(t, h, &input{DeleteIds: []string{"B", "A"}, Entries: []*compliancev1.SanctionsEntry{entry("A", "x")}}, "delete_ids[1]")
	refused(t, h, &input{ReplaceList: true, DeleteIds: []string{"A"}}, "delete_ids")
	refused(t, h, &input{ExpectedVersion: proto.Uint64(0), DeleteIds: []string{"A"}}, "")
	refused(t, h, &input{ExpectedVersion: proto.Uint64(2), Queries: queries("John Smith")}, "")

	r = reply(t, h, &input{Queries: queries("John Smith")})
	if r.ListVersion != 1 || r.ListSize != 3 || !slices.Equal(ids(r.Results[0]), []string{"A", "C"}) {
		t.Fatalf("query before the delete: %v", r)
	}
	r = reply(t, h, &input{ExpectedVersion: proto.Uint64(1), DeleteIds: []string{"A"}, Queries: queries("John Smith")})
	if r.ListVersion != 2 || r.ListSize != 2 || !slices.Equal(ids(r.Results[0]), []string{"C"}) {
		t.Fatalf("delete: %v", r)
	}
	if m := r.Results[0].Matches[0]; m.MatchedName != "Johnny Smith" || m.Source != "src-C" {
		t.Fatalf("match after the delete names %q from %q", m.MatchedName, m.Source)
	}
	refused(t, h, &input{DeleteIds: []string{"A"}}, "delete_ids[0]") // deleted already
	r = reply(t, h, &input{Entries: []*compliancev1.SanctionsEntry{entry("A", "John Smith")}, Queries: queries("John Smith")})
	if r.ListVersion != 3 || r.ListSize != 3 || !slices.Equal(ids(r.Results[0]), []string{"A", "C"}) {
		t.Fatalf("re-add: %v", r)
	}
	r = reply(t, h, &input{ReplaceList: true, Entries: []*compliancev1.SanctionsEntry{entry("D", "Olga Petrov")}, Queries: queries("John Smith", "Olga Petrova")})
	if r.ListVersion != 4 || r.ListSize != 1 || len(r.Results[0].Matches) != 0 || !slices.Equal(ids(r.Results[1]), []string{"D"}) {
		t.Fatalf("replace: %v", r)
	}
	r = reply(t, h, &input{ReplaceList: true, ExpectedVersion: proto.Uint64(4)})
	if r.ListVersion != 5 || r.ListSize != 0 {
		t.Fatalf("clear: %v", r)
	}
	r = reply(t, h, &input{Queries: queries("Olga Petrova")})
	if r.ListVersion != 5 || r.ListSize != 0 || len(r.Results[0].Matches) != 0 {
		t.Fatalf("query on the empty list: %v", r)
	}
	snap, err := h.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s := snap.(*compliancev1.SanctionsScreeningOutput); s.ListVersion != 5 || s.ListSize != 0 || len(s.Results) != 6 {
		t.Fatalf("snapshot: version %d, size %d, %d results", s.ListVersion, s.ListSize, len(s.Results))
	}
	// The list-management fields are ring data only.
	for _, c := range []struct {
		bad   *input
		field string
	}{
		{&input{DeleteIds: []string{"A"}}, "delete_ids"},
		{&input{ReplaceList: true}, "replace_list"},
		{&input{ExpectedVersion: proto.Uint64(0)}, "expected_version"},
	} {
		bad, field := c.bad, c.field
		if _, err := prepare(ctx, bad); err == nil || !strings.HasPrefix(err.Error(), field+":") {
			t.Fatalf("Batch %v: %v, want an error naming %s", bad, err, field)
		}
		if err := RingSpec.New().Configure(ctx, bad); err == nil || !strings.HasPrefix(err.Error(), field+":") {
			t.Fatalf("Configure %v: %v, want an error naming %s", bad, err, field)
		}
	}
}

// Name parts: shared syllables make near matches common; diacritics and
// transliterations exercise the normaliser.
var (
	givenNames  = []string{"John", "Jon", "Johann", "Ivan", "Iwan", "Olga", "Ólga", "María", "Maria", "Mohammed", "Muhammad", "José", "Jose", "Zoë"}
	familyNames = []string{"Smith", "Smyth", "Petrov", "Petrova", "Petroff", "García", "Garcia", "Al-Rashid", "Rashid", "Müller", "Mueller", "Nguyễn", "Nguyen", "O'Brien"}
)

func randomName(r *rand.Rand) string {
	n := givenNames[r.IntN(len(givenNames))] + " " + familyNames[r.IntN(len(familyNames))]
	if r.IntN(4) == 0 {
		n = familyNames[r.IntN(len(familyNames))] + ", " + n
	}
	return n
}

func randomEntry(r *rand.Rand, id string) *compliancev1.SanctionsEntry {
	e := entry(id, randomName(r))
	for range r.IntN(3) {
		e.Aliases = append(e.Aliases, randomName(r))
	}
	return e
}

// batchOver screens qs with Batch over list (sorted by id: a fresh list,
// in an order unrelated to the ring's), with or without the prefilter.
func batchOver(t *testing.T, p Params, list map[string]*compliancev1.SanctionsEntry, qs []*compliancev1.ScreeningQuery) *compliancev1.SanctionsScreeningOutput {
	t.Helper()
	keys := make([]string, 0, len(list))
	for k := range list {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	entries := make([]*compliancev1.SanctionsEntry, len(keys))
	for i, k := range keys {
		entries[i] = list[k]
	}
	st, err := New(context.Background(), p, entries)
	if err != nil {
		t.Fatal(err)
	}
	out, err := st.ScreenAll(context.Background(), qs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRingRandomListOps: random sequences of upserts, deletes, whole-list
// replacements (some with a version check), refused deletes and queries.
// Every query result equals (a) Batch over the surviving list built afresh
// and (b) the brute-force scan without the prefilter over that list (the
// names comparator as oracle), so deletes and upserts leave the prepared
// list and its lossless bound exact; the reply's version and size follow
// a model, and a handler restored from the state mid-way answers the same.
func TestRingRandomListOps(t *testing.T) {
	ctx := context.Background()
	minScore := 0.75
	p := Params{MinScore: minScore, HitThreshold: 0.85, MaxMatches: 5}
	oracle := p
	oracle.NoPrefilter = true
	matched, deleted, hits := 0, 0, 0
	for seed := range uint64(4) {
		r := rand.New(rand.NewPCG(seed, 21))
		h := RingSpec.New()
		if err := h.Configure(ctx, &input{MinScore: &minScore, MaxMatches: proto.Int32(5)}); err != nil {
			t.Fatal(err)
		}
		model := map[string]*compliancev1.SanctionsEntry{}
		version := uint64(0)
		var restored fold.Handler
		for step := range 300 {
			m := &input{}
			switch op := r.IntN(10); {
			case op < 3: // upsert, some ids listed already
				for range 1 + r.IntN(4) {
					id := fmt.Sprint("E", r.IntN(40))
					if !slices.ContainsFunc(m.Entries, func(e *compliancev1.SanctionsEntry) bool { return e.Id == id }) {
						m.Entries = append(m.Entries, randomEntry(r, id))
					}
				}
			case op < 6 && len(model) > 0: // delete
				for id := range model {
					if r.IntN(3) == 0 || len(m.DeleteIds) == 0 {
						m.DeleteIds = append(m.DeleteIds, id)
					}
					if len(m.DeleteIds) == 3 {
						break
					}
				}
				slices.Sort(m.DeleteIds) // map order must not decide the message
			case op == 6 && r.IntN(3) == 0: // replace the whole list
				m.ReplaceList = true
				for i := range r.IntN(12) {
					m.Entries = append(m.Entries, randomEntry(r, fmt.Sprint("R", step, "-", i)))
				}
			case op == 7: // a stale version or an unknown id: refused
				if r.IntN(2) == 0 {
					refused(t, h, &input{ExpectedVersion: proto.Uint64(version + 1), DeleteIds: m.DeleteIds}, "")
				} else {
					refused(t, h, &input{DeleteIds: []string{"nobody"}}, "delete_ids[0]")
				}
				continue
			}
			if r.IntN(2) == 0 {
				m.ExpectedVersion = proto.Uint64(version)
			}
			for range 1 + r.IntN(2) {
				m.Queries = append(m.Queries, &compliancev1.ScreeningQuery{Name: randomName(r)})
			}
			// The model.
			if m.ReplaceList {
				model = map[string]*compliancev1.SanctionsEntry{}
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
			got := reply(t, h, m)
			if restored != nil {
				if r2 := reply(t, restored, m); !proto.Equal(r2, got) {
					t.Fatalf("seed %d step %d: restored handler replies %v, want %v", seed, step, r2, got)
				}
			}
			if got.ListVersion != version || int(got.ListSize) != len(model) {
				t.Fatalf("seed %d step %d: version %d size %d, model %d %d", seed, step, got.ListVersion, got.ListSize, version, len(model))
			}
			want := batchOver(t, p, model, m.Queries)
			brute := batchOver(t, oracle, model, m.Queries)
			for i := range m.Queries {
				if !proto.Equal(got.Results[i], want.Results[i]) || !proto.Equal(got.Results[i], brute.Results[i]) {
					t.Fatalf("seed %d step %d query %q:\nring  %s\nfresh %s\nbrute %s", seed, step, m.Queries[i].Name,
						prototext.Format(got.Results[i]), prototext.Format(want.Results[i]), prototext.Format(brute.Results[i]))
				}
				matched += len(got.Results[i].Matches)
				if got.Results[i].IsHit {
					hits++
				}
			}
			if step >= 150 && restored == nil {
				restored = foldtest.Restored(t, h, RingSpec.New)
			}
		}
		a, _ := h.MarshalState()
		b, _ := restored.MarshalState()
		if !bytes.Equal(a, b) {
			t.Fatalf("seed %d: restored state encodes differently", seed)
		}
	}
	if matched < 500 || deleted < 100 || hits < 100 {
		t.Fatalf("%d matches, %d deletes, %d hits: the cases check little", matched, deleted, hits)
	}
}
